import type { Config } from '../config/index.js';
import { stableHash32 } from '../core/index.js';

// Which replica forecasts which workload: rendezvous (highest random weight) hashing of the
// workload's key. Every replica computes the same assignment from the configuration alone, so no
// coordination is needed; while the replica count stays the same nothing moves, and when it
// changes only the workloads whose winner changed move (about 1/n of them), unlike `hash mod n`.

/** The key a workload is sharded by: its namespace and name. */
export function workloadShardKey(namespace: string, workload: string): string {
  return `${namespace}/${workload}`;
}

/** The shard (0 … replicas − 1) that owns `key`: the one with the highest weight for it (ties: the lowest index). */
export function shardOf(key: string, replicas: number): number {
  let best = 0;
  let bestWeight = -1;
  for (let shard = 0; shard < replicas; shard++) {
    const weight = stableHash32(`${shard}\u0000${key}`);
    if (weight > bestWeight) {
      best = shard;
      bestWeight = weight;
    }
  }
  return best;
}

/** True when the configuration shards its workloads across more than one replica. */
export function isSharded(config: Config): boolean {
  return config.sharding.replicas > 1;
}

/** True when this replica forecasts and decides the workload. */
export function ownsWorkload(config: Config, namespace: string, workload: string): boolean {
  return !isSharded(config) || shardOf(workloadShardKey(namespace, workload), config.sharding.replicas) === (config.sharding.index ?? 0);
}

const shardConfigs = new WeakMap<Config, Config>();

/**
 * The configuration this replica's cycles run on: the same one with only the workloads of its own
 * shard. The same object is returned for the same configuration, so the engine still sees a new
 * configuration only on a reload.
 */
export function shardConfig(config: Config): Config {
  if (!isSharded(config)) return config;
  let own = shardConfigs.get(config);
  if (own === undefined) {
    own = Object.freeze({ ...config, workloads: config.workloads.filter((w) => ownsWorkload(config, w.namespace, w.name)) });
    shardConfigs.set(config, own);
  }
  return own;
}
