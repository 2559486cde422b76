import type { Config } from '../config/index.js';
import { type InputRef, messageOf, parseDurationSeconds, resources, servableValue } from '../core/index.js';
import type { PublishedSeriesReader, PublishedValue } from '../source/index.js';
import { isQueueName } from './queue-discovery.js';
import { ownsWorkload } from './shard.js';
import type { ReadBackDecision, ReadBackQueue, ShardState } from './snapshot.js';

// A sharded replica's view of the other shards: once per cycle it reads their published values
// back from the shared store (Prometheus, Thanos, Mimir) into its snapshot, so that its
// external-metrics API answers for every workload while the request path reads the snapshot only.

/** Why a value read back was not taken (foresight_shard_read_back_rejected_total{reason}). */
export type ReadBackRejection = 'unknown_workload' | 'bad_labels' | 'not_servable' | 'inconsistent_band' | 'incomplete' | 'out_of_range' | 'stale';

const quantileField = { '0.1': 'p10', '0.5': 'value', '0.9': 'p90' } as const;

interface Partial3 {
  value?: number;
  p10?: number;
  p90?: number;
  sampleMs: number;
}

/**
 * Reads the other shards back once per cycle. A failed read keeps the values of the last good one,
 * each served until its own sample is older than `sharding.readBack.maxAge` (then it is dropped,
 * and the external-metrics API answers 404 for it: the HPA holds).
 */
export class ShardReadBack {
  #queues: readonly ReadBackQueue[] = [];
  #decisions: readonly ReadBackDecision[] = [];
  #lastSuccessAtMs: number | undefined;

  constructor(
    private readonly reader: PublishedSeriesReader,
    private readonly onRejected: (reason: ReadBackRejection, count: number) => void = () => undefined,
  ) {}

  /** Reads the other shards; `config` is the whole configuration (every workload), not this shard's. */
  async run(config: Config, ownWorkloads: number, nowMs: number): Promise<ShardState> {
    const rejected = new Map<ReadBackRejection, number>();
    const reject = (reason: ReadBackRejection): void => {
      rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
    };
    let error: string | undefined;
    try {
      const read = await this.reader.readPublished(config.sharding.readBack.labels);
      if (read.ok) {
        const taken = takeValues(config, read.values, reject);
        // A series missing from this read (its owner restarting, a scrape missed) keeps its last
        // value until that ages out below; one whose workload left the configuration or moved to
        // this replica goes at once.
        const stillOthers = <T extends { namespace: string; workload: string }>(v: T): boolean =>
          config.workloads.some((w) => w.namespace === v.namespace && w.name === v.workload) && !ownsWorkload(config, v.namespace, v.workload);
        this.#queues = merged(this.#queues.filter(stillOthers), taken.queues, (q) => `${q.namespace}/${q.workload}/${q.queue}`);
        this.#decisions = merged(this.#decisions.filter(stillOthers), taken.decisions, (d) => `${d.namespace}/${d.workload}/${d.resource}`);
        this.#lastSuccessAtMs = nowMs;
      } else {
        error = read.message;
      }
    } catch (caught) {
      error = messageOf(caught);
    }
    // Whatever was read, now or before, is served only while it is young enough.
    const maxAgeMs = (config.sharding.readBack.maxAge ?? config.snapshot.maxAge) * 1000;
    // A value too old to serve is counted once, as it is forgotten.
    const young = (sampleMs: number): boolean => {
      if (nowMs - sampleMs <= maxAgeMs) return true;
      reject('stale');
      return false;
    };
    const queues = this.#queues.flatMap((q) => {
      const depthForecasts = q.depthForecasts.filter((f) => young(f.sampleMs));
      const depth = q.depth !== undefined && young(q.depth.sampleMs) ? q.depth : undefined;
      return depthForecasts.length === 0 && depth === undefined ? [] : [{ ...q, depthForecasts, depth }];
    });
    const decisions = this.#decisions.filter((d) => young(d.sampleMs));
    this.#queues = queues;
    this.#decisions = decisions;
    for (const [reason, count] of rejected) this.onRejected(reason, count);
    // One sample per served series: a forecast point is three (its quantiles).
    const samples = [
      ...queues.flatMap((q) => [...q.depthForecasts.flatMap((f) => [f.sampleMs, f.sampleMs, f.sampleMs]), ...(q.depth === undefined ? [] : [q.depth.sampleMs])]),
      ...decisions.map((d) => d.sampleMs),
    ];
    return {
      index: config.sharding.index ?? 0,
      replicas: config.sharding.replicas,
      ownWorkloads,
      readBack: {
        attemptedAtMs: nowMs,
        ...(this.#lastSuccessAtMs === undefined ? {} : { lastSuccessAtMs: this.#lastSuccessAtMs }),
        ...(error === undefined ? {} : { error }),
        series: samples.length,
        ...(samples.length === 0 ? {} : { oldestSampleMs: samples.reduce((a, b) => Math.min(a, b)) }),
      },
      queues,
      decisions,
    };
  }
}

/** `older` with the entries of `newer` put in place of theirs, in key order (the same order on every replica). */
function merged<T>(older: readonly T[], newer: readonly T[], keyOf: (value: T) => string): T[] {
  const byKey = new Map(older.map((v) => [keyOf(v), v]));
  for (const v of newer) byKey.set(keyOf(v), v);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/**
 * The values of the other shards' workloads among what the store holds, checked like any input:
 * label values that could not have been published, values outside their domain, bands that do not
 * hold their median, replica counts outside the workload's range are refused and counted. When two
 * series give the same value (two replicas published one workload across a resharding), the newer
 * sample wins.
 */
function takeValues(config: Config, values: readonly PublishedValue[], reject: (reason: ReadBackRejection) => void): { queues: ReadBackQueue[]; decisions: ReadBackDecision[] } {
  const workloads = new Map(config.workloads.map((w) => [`${w.namespace}/${w.name}`, w]));
  const horizons = new Set(config.forecast.horizons);
  const forecasts = new Map<string, { owner: { namespace: string; workload: string; queue: string }; byHorizon: Map<number, Partial3> }>();
  const depths = new Map<string, { namespace: string; workload: string; queue: string; value: number; sampleMs: number }>();
  const decisions = new Map<string, ReadBackDecision>();
  for (const v of values) {
    // A ServiceMonitor without honorLabels renames the published namespace label to exported_namespace.
    const namespace = v.labels['exported_namespace'] ?? v.labels['namespace'];
    const workload = v.labels['workload'];
    const w = namespace === undefined || workload === undefined ? undefined : workloads.get(`${namespace}/${workload}`);
    if (w === undefined || namespace === undefined || workload === undefined) {
      reject('unknown_workload');
      continue;
    }
    // This replica's own workloads are in its own snapshot, fresher than any read-back.
    if (ownsWorkload(config, namespace, workload)) continue;
    if (v.name === 'recommended_replicas') {
      const resource = v.labels['resource'];
      if (resource === undefined || !(resources as readonly string[]).includes(resource)) {
        reject('bad_labels');
        continue;
      }
      if (!Number.isInteger(v.value) || v.value < w.minReplicas || v.value > w.maxReplicas) {
        reject('out_of_range');
        continue;
      }
      const key = `${namespace}/${workload}/${resource}`;
      const known = decisions.get(key);
      if (known === undefined || v.sampleMs > known.sampleMs) decisions.set(key, { namespace, workload, resource, recommendedReplicas: v.value, sampleMs: v.sampleMs });
      continue;
    }
    const queue = v.labels['queue'];
    if (queue === undefined || !isQueueName(queue)) {
      reject('bad_labels');
      continue;
    }
    const input: InputRef = { kind: 'queue', queue, metric: 'depth', namespace, workload };
    const value = servableValue(input, v.value);
    if (value === undefined) {
      reject('not_servable');
      continue;
    }
    const key = `${namespace}/${workload}/${queue}`;
    if (v.name === 'queue_depth_current') {
      const known = depths.get(key);
      if (known === undefined || v.sampleMs > known.sampleMs) depths.set(key, { namespace, workload, queue, value, sampleMs: v.sampleMs });
      continue;
    }
    const horizonSeconds = parseDurationSeconds(v.labels['horizon'] ?? '');
    const field = quantileField[(v.labels['quantile'] ?? '') as keyof typeof quantileField];
    if (horizonSeconds === undefined || !horizons.has(horizonSeconds) || field === undefined) {
      reject('bad_labels');
      continue;
    }
    let entry = forecasts.get(key);
    if (entry === undefined) {
      entry = { owner: { namespace, workload, queue }, byHorizon: new Map() };
      forecasts.set(key, entry);
    }
    const point = entry.byHorizon.get(horizonSeconds) ?? { sampleMs: v.sampleMs };
    if (point[field] === undefined || v.sampleMs >= point.sampleMs) {
      point[field] = value;
      point.sampleMs = Math.min(point.sampleMs, v.sampleMs);
    }
    entry.byHorizon.set(horizonSeconds, point);
  }
  const queues = new Map<string, ReadBackQueue>();
  for (const [key, { owner, byHorizon }] of forecasts) {
    const depthForecasts: ReadBackQueue['depthForecasts'][number][] = [];
    for (const horizonSeconds of config.forecast.horizons) {
      const p = byHorizon.get(horizonSeconds);
      if (p === undefined) continue;
      if (p.value === undefined || p.p10 === undefined || p.p90 === undefined) {
        reject('incomplete');
        continue;
      }
      if (!(p.p10 <= p.value && p.value <= p.p90)) {
        reject('inconsistent_band');
        continue;
      }
      depthForecasts.push({ horizonSeconds, value: p.value, p10: p.p10, p90: p.p90, sampleMs: p.sampleMs });
    }
    queues.set(key, { ...owner, depthForecasts });
  }
  for (const [key, d] of depths) {
    const known = queues.get(key);
    queues.set(key, { namespace: d.namespace, workload: d.workload, queue: d.queue, depthForecasts: known?.depthForecasts ?? [], depth: { value: d.value, sampleMs: d.sampleMs } });
  }
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return {
    queues: [...queues.values()].sort((a, b) => byName(`${a.namespace}/${a.workload}/${a.queue}`, `${b.namespace}/${b.workload}/${b.queue}`)),
    decisions: [...decisions.values()].sort((a, b) => byName(`${a.namespace}/${a.workload}/${a.resource}`, `${b.namespace}/${b.workload}/${b.resource}`)),
  };
}
