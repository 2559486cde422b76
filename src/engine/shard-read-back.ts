import { isMonitoredMetric } from '../anomaly/index.js';
import type { Config, WorkloadConfig } from '../config/index.js';
import { messageOf, parseDurationSeconds, resources, servableValue } from '../core/index.js';
import type { PublishedName, PublishedSeriesReader, PublishedValue } from '../source/index.js';
import { isQueueName } from './queue-discovery.js';
import { ownsWorkload } from './shard.js';
import type { ReadBackAnomaly, ReadBackDecision, ReadBackQueue, ShardState } from './snapshot.js';

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
  #anomalies: readonly ReadBackAnomaly[] = [];
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
        this.#queues = merged(this.#queues.filter(stillOthers), taken.queues, queueKey);
        this.#decisions = merged(this.#decisions.filter(stillOthers), taken.decisions, (d) => `${d.namespace}/${d.workload}/${d.resource}`);
        this.#anomalies = merged(this.#anomalies.filter(stillOthers), taken.anomalies, anomalyKey);
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
    const anomalies = this.#anomalies.filter((a) => young(a.sampleMs));
    this.#queues = queues;
    this.#decisions = decisions;
    this.#anomalies = anomalies;
    for (const [reason, count] of rejected) this.onRejected(reason, count);
    // One sample per served series: a forecast point is three (its quantiles).
    const samples = [
      ...queues.flatMap((q) => [...q.depthForecasts.flatMap((f) => [f.sampleMs, f.sampleMs, f.sampleMs]), ...(q.depth === undefined ? [] : [q.depth.sampleMs])]),
      ...decisions.map((d) => d.sampleMs),
      ...anomalies.map((a) => a.sampleMs),
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
      anomalies,
    };
  }
}

const queueKey = (q: { readonly namespace: string; readonly workload: string; readonly queue: string }): string => `${q.namespace}/${q.workload}/${q.queue}`;

/** The series of an anomaly score: its workload, metric and (for a queue's depth) queue. */
const anomalyKey = (a: ReadBackAnomaly): string => `${a.namespace}/${a.workload}/${a.metric}/${a.queue ?? ''}`;

/** `older` with the entries of `newer` put in place of theirs, in key order (the same order on every replica). */
function merged<T>(older: readonly T[], newer: readonly T[], keyOf: (value: T) => string): T[] {
  const byKey = new Map(older.map((v) => [keyOf(v), v]));
  for (const v of newer) byKey.set(keyOf(v), v);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/**
 * The values of the other shards' workloads among what the store holds, checked like any input:
 * label values that could not have been published, values outside their domain, bands that do not
 * hold their median, replica counts outside the workload's range, scores outside [0, 1] are refused
 * and counted. When two series give the same value (two replicas published one workload across a
 * resharding), the newer sample wins.
 */
function takeValues(config: Config, values: readonly PublishedValue[], reject: (reason: ReadBackRejection) => void): Taken {
  const workloads = new Map(config.workloads.map((w) => [`${w.namespace}/${w.name}`, w]));
  const into: Collected = { forecasts: new Map(), depths: new Map(), decisions: new Map(), anomalies: new Map() };
  for (const value of values) {
    // A ServiceMonitor without honorLabels renames the published namespace label to exported_namespace.
    const namespace = value.labels['exported_namespace'] ?? value.labels['namespace'];
    const workload = value.labels['workload'];
    const spec = namespace === undefined || workload === undefined ? undefined : workloads.get(`${namespace}/${workload}`);
    if (spec === undefined || namespace === undefined || workload === undefined) {
      reject('unknown_workload');
      continue;
    }
    // This replica's own workloads are in its own snapshot, fresher than any read-back.
    if (ownsWorkload(config, namespace, workload)) continue;
    const refused = takers[value.name](config, { value, namespace, workload, spec }, into);
    if (refused !== undefined) reject(refused);
  }
  return { queues: queuesOf(config, into, reject), decisions: [...into.decisions.values()], anomalies: [...into.anomalies.values()] };
}

/** What a read gives, in no particular order (`merged` sorts). */
interface Taken {
  readonly queues: ReadBackQueue[];
  readonly decisions: ReadBackDecision[];
  readonly anomalies: ReadBackAnomaly[];
}

/** A value read back of another shard's workload. */
interface Owned {
  readonly value: PublishedValue;
  readonly namespace: string;
  readonly workload: string;
  readonly spec: WorkloadConfig;
}

interface QueueOwner {
  readonly namespace: string;
  readonly workload: string;
  readonly queue: string;
}

/** What one read collected, by series; forecast bands are checked once all three quantiles are in. */
interface Collected {
  readonly forecasts: Map<string, { readonly owner: QueueOwner; readonly byHorizon: Map<number, Partial3> }>;
  readonly depths: Map<string, QueueOwner & { readonly value: number; readonly sampleMs: number }>;
  readonly decisions: Map<string, ReadBackDecision>;
  readonly anomalies: Map<string, ReadBackAnomaly>;
}

/** Takes one value of its published name into `into`, or says why it is refused. */
type Taker = (config: Config, owned: Owned, into: Collected) => ReadBackRejection | undefined;

const takers: { readonly [N in PublishedName]: Taker } = {
  predicted_queue_depth: takeForecast,
  queue_depth_current: takeDepth,
  recommended_replicas: takeDecision,
  anomaly_score: takeAnomaly,
};

/** Stores `value` under `key` unless a newer sample of it is there already. */
function keepNewer<T extends { readonly sampleMs: number }>(map: Map<string, T>, key: string, value: T): void {
  const known = map.get(key);
  if (known === undefined || value.sampleMs > known.sampleMs) map.set(key, value);
}

/** The queue of a depth or forecast and its value, if both could have been published. */
function queueDepth({ value: v, namespace, workload }: Owned): { owner: QueueOwner; depth: number } | ReadBackRejection {
  const queue = v.labels['queue'];
  if (queue === undefined || !isQueueName(queue)) return 'bad_labels';
  const depth = servableValue({ kind: 'queue', queue, metric: 'depth', namespace, workload }, v.value);
  return depth === undefined ? 'not_servable' : { owner: { namespace, workload, queue }, depth };
}

function takeDepth(_config: Config, owned: Owned, into: Collected): ReadBackRejection | undefined {
  const taken = queueDepth(owned);
  if (typeof taken === 'string') return taken;
  keepNewer(into.depths, queueKey(taken.owner), { ...taken.owner, value: taken.depth, sampleMs: owned.value.sampleMs });
  return undefined;
}

function takeForecast(config: Config, owned: Owned, into: Collected): ReadBackRejection | undefined {
  const taken = queueDepth(owned);
  if (typeof taken === 'string') return taken;
  const { labels, sampleMs } = owned.value;
  const horizonSeconds = parseDurationSeconds(labels['horizon'] ?? '');
  const field = quantileField[(labels['quantile'] ?? '') as keyof typeof quantileField];
  if (horizonSeconds === undefined || !config.forecast.horizons.includes(horizonSeconds) || field === undefined) return 'bad_labels';
  const key = queueKey(taken.owner);
  let entry = into.forecasts.get(key);
  if (entry === undefined) {
    entry = { owner: taken.owner, byHorizon: new Map() };
    into.forecasts.set(key, entry);
  }
  const point = entry.byHorizon.get(horizonSeconds) ?? { sampleMs };
  if (point[field] === undefined || sampleMs >= point.sampleMs) {
    point[field] = taken.depth;
    point.sampleMs = Math.min(point.sampleMs, sampleMs);
  }
  entry.byHorizon.set(horizonSeconds, point);
  return undefined;
}

function takeDecision(_config: Config, { value: v, namespace, workload, spec }: Owned, into: Collected): ReadBackRejection | undefined {
  const resource = v.labels['resource'];
  if (resource === undefined || !(resources as readonly string[]).includes(resource)) return 'bad_labels';
  if (!Number.isInteger(v.value) || v.value < spec.minReplicas || v.value > spec.maxReplicas) return 'out_of_range';
  keepNewer(into.decisions, `${namespace}/${workload}/${resource}`, { namespace, workload, resource, recommendedReplicas: v.value, sampleMs: v.sampleMs });
  return undefined;
}

function takeAnomaly(_config: Config, { value: v, namespace, workload }: Owned, into: Collected): ReadBackRejection | undefined {
  const metric = v.labels['metric'];
  const queue = v.labels['queue'];
  // A queue-depth score names its queue; no other score does.
  if (metric === undefined || !isMonitoredMetric(metric) || (metric === 'queue_depth') !== (queue !== undefined) || (queue !== undefined && !isQueueName(queue))) return 'bad_labels';
  if (!Number.isFinite(v.value)) return 'not_servable';
  if (v.value < 0 || v.value > 1) return 'out_of_range';
  const anomaly: ReadBackAnomaly = { namespace, workload, metric, ...(queue === undefined ? {} : { queue }), score: v.value, sampleMs: v.sampleMs };
  keepNewer(into.anomalies, anomalyKey(anomaly), anomaly);
  return undefined;
}

/** The queues of the forecasts and depths collected; a band that is incomplete or does not hold its median is refused. */
function queuesOf(config: Config, { forecasts, depths }: Collected, reject: (reason: ReadBackRejection) => void): ReadBackQueue[] {
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
    queues.set(key, { namespace: d.namespace, workload: d.workload, queue: d.queue, depthForecasts: queues.get(key)?.depthForecasts ?? [], depth: { value: d.value, sampleMs: d.sampleMs } });
  }
  return [...queues.values()];
}
