import { formatDuration, type InputRef, servableValue } from '../../core/index.js';
import type { Snapshot } from '../../engine/index.js';
import type { ExternalMetricValue } from './k8s-types.js';
import { formatQuantity } from './quantity.js';
import { type ExternalMetricName, servedQuantiles } from './served-metrics.js';

// Every servable value of a snapshot, built once per snapshot (with its JSON) and indexed by the
// queue or resource it belongs to, so that answering a query only selects and concatenates.

/** How an item is scoped for exposure rules. */
export type Scope =
  /** `namespace` is set for a workload's queue or decision: only that namespace may read it. */
  { readonly kind: 'queue' | 'resource'; readonly name: string; readonly namespace?: string } | { readonly kind: 'system'; readonly namespace?: string };

/** One value the snapshot can serve, with its JSON prepared once per snapshot. */
export interface Candidate {
  readonly labels: Readonly<Record<string, string>>;
  readonly scope: Scope;
  /** The item, or undefined when the value is not finite (or too large) and cannot be served. */
  readonly item: ExternalMetricValue | undefined;
  readonly json: string;
  readonly rawValue: number;
  /** Position among the metric's candidates, so that answers keep snapshot order however they were found. */
  readonly order: number;
}

/** The candidates of one metric, also grouped by the queue or resource they belong to. */
export interface MetricIndex {
  readonly all: readonly Candidate[];
  readonly byScopeName: ReadonlyMap<string, readonly Candidate[]>;
}

export interface SnapshotIndex {
  readonly windowSeconds: number;
  readonly metrics: Readonly<Record<ExternalMetricName, MetricIndex>>;
  readonly horizons: readonly string[];
}

/** RFC 3339 in UTC with whole seconds, as metav1.Time serialises. */
export function rfc3339Seconds(timestampMs: number): string {
  return new Date(Math.floor(timestampMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function candidate(metric: ExternalMetricName, labels: Record<string, string>, scope: Scope, value: number, timestamp: string, windowSeconds: number, order: number): Candidate {
  const quantity = formatQuantity(value);
  const item: ExternalMetricValue | undefined =
    quantity === undefined ? undefined : Object.freeze({ metricName: metric, metricLabels: Object.freeze(labels), timestamp, window: windowSeconds, value: quantity });
  return { labels, scope, item, json: item === undefined ? '' : JSON.stringify(item), rawValue: value, order };
}

function indexOf(candidates: Candidate[]): MetricIndex {
  const byScopeName = new Map<string, Candidate[]>();
  for (const c of candidates) {
    if (c.scope.kind === 'system') continue;
    const list = byScopeName.get(c.scope.name);
    if (list === undefined) byScopeName.set(c.scope.name, [c]);
    else list.push(c);
  }
  return { all: candidates, byScopeName };
}

/** One queue's servable values, from this replica's own cycle or read back from another shard. */
interface QueueEntry {
  readonly queue: string;
  readonly owner: { namespace: string; workload: string } | undefined;
  readonly forecasts: readonly { readonly input: InputRef; readonly horizonSeconds: number; readonly value: number; readonly p10: number; readonly p90: number }[];
  readonly depth: number | undefined;
  /** The time the values stand for: the snapshot's, or the sample time of a value read back (its age shows). */
  readonly timestamp: string;
}

/** A replica's own queues, then (when sharded) the other shards' as read back, in one order on every replica. */
function queueEntries(snapshot: Snapshot, timestamp: string): QueueEntry[] {
  const own = snapshot.queues.map((q): QueueEntry => ({ queue: q.queue, owner: ownerOf(q), forecasts: q.depthForecasts, depth: q.current['depth'], timestamp }));
  if (snapshot.shard === undefined) return own;
  const readBack = snapshot.shard.queues.map((q): QueueEntry => {
    const owner = { namespace: q.namespace, workload: q.workload };
    const input: InputRef = { kind: 'queue', queue: q.queue, metric: 'depth', ...owner };
    const newest = Math.max(...q.depthForecasts.map((f) => f.sampleMs), q.depth?.sampleMs ?? 0);
    return { queue: q.queue, owner, forecasts: q.depthForecasts.map((f) => ({ ...f, input })), depth: q.depth?.value, timestamp: rfc3339Seconds(newest) };
  });
  // Sorted by owner and queue, so that a list answer is the same list on every replica.
  return [...own, ...readBack].sort((a, b) => compareText(ownedKey(a.owner, a.queue), ownedKey(b.owner, b.queue)));
}

/** One anomaly score, from this replica's own cycle or read back from another shard. */
interface AnomalyEntry {
  readonly metric: string;
  readonly queue: string | undefined;
  readonly owner: { namespace: string; workload: string } | undefined;
  readonly score: number;
  readonly timestamp: string;
}

/** A replica's own verdicts, then (when sharded) the other shards' scores as read back, in one order on every replica. */
function anomalyEntries(snapshot: Snapshot, timestamp: string): AnomalyEntry[] {
  const own = snapshot.anomalies.map((a): AnomalyEntry => ({ metric: a.metric, queue: a.queue, owner: ownerOf(a), score: a.score, timestamp }));
  if (snapshot.shard === undefined) return own;
  const readBack = snapshot.shard.anomalies.map(
    (a): AnomalyEntry => ({ metric: a.metric, queue: a.queue, owner: { namespace: a.namespace, workload: a.workload }, score: a.score, timestamp: rfc3339Seconds(a.sampleMs) }),
  );
  const keyOf = (a: AnomalyEntry): string => ownedKey(a.owner, `${a.metric}/${a.queue ?? ''}`);
  return [...own, ...readBack].sort((a, b) => compareText(keyOf(a), keyOf(b)));
}

const ownedKey = (owner: { namespace: string; workload: string } | undefined, name: string): string => `${owner?.namespace ?? ''}/${owner?.workload ?? ''}/${name}`;
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Builds every servable value of a snapshot once; answers then only select and concatenate. */
export function buildSnapshotIndex(snapshot: Snapshot, windowSeconds: number): SnapshotIndex {
  const timestamp = rfc3339Seconds(snapshot.completedAtMs);
  const predicted: Candidate[] = [];
  const observed: Candidate[] = [];
  const horizons = new Set<string>();
  for (const q of queueEntries(snapshot, timestamp)) {
    const owner = q.owner;
    const scope: Scope = { kind: 'queue', name: q.queue, ...(owner === undefined ? {} : { namespace: owner.namespace }) };
    for (const f of q.forecasts) {
      const horizon = formatDuration(f.horizonSeconds);
      horizons.add(horizon);
      for (const [quantile, field] of servedQuantiles) {
        predicted.push(
          candidate('predicted_queue_depth', { queue: q.queue, ...owner, horizon, quantile }, scope, servableValue(f.input, f[field]) ?? Number.NaN, q.timestamp, windowSeconds, predicted.length),
        );
      }
    }
    if (q.depth !== undefined)
      observed.push(
        candidate(
          'queue_depth',
          { queue: q.queue, ...owner },
          scope,
          servableValue({ kind: 'queue', queue: q.queue, metric: 'depth', ...owner }, q.depth) ?? Number.NaN,
          q.timestamp,
          windowSeconds,
          observed.length,
        ),
      );
  }
  const decisions = [
    ...snapshot.decisions.map((d) => ({ resource: d.resource as string, owner: ownerOf(d), value: d.recommendedReplicas, timestamp })),
    ...(snapshot.shard?.decisions ?? []).map((d) => ({
      resource: d.resource,
      owner: { namespace: d.namespace, workload: d.workload },
      value: d.recommendedReplicas,
      timestamp: rfc3339Seconds(d.sampleMs),
    })),
  ];
  if (snapshot.shard !== undefined) decisions.sort((a, b) => compareText(ownedKey(a.owner, a.resource), ownedKey(b.owner, b.resource)));
  const replicas = decisions.map((d, order) =>
    candidate(
      'recommended_replicas',
      { resource: d.resource, ...d.owner },
      { kind: 'resource', name: d.resource, ...(d.owner === undefined ? {} : { namespace: d.owner.namespace }) },
      d.value,
      d.timestamp,
      windowSeconds,
      order,
    ),
  );
  // A workload's anomaly scores are as private as its queues: only its namespace reads them.
  const anomalies = anomalyEntries(snapshot, timestamp).map(({ metric, queue, owner, score, timestamp: at }, order) => {
    const inNamespace = owner === undefined ? {} : { namespace: owner.namespace };
    return queue === undefined
      ? candidate('anomaly_score', { metric, ...owner }, { kind: 'system', ...inNamespace }, score, at, windowSeconds, order)
      : candidate('anomaly_score', { metric, queue, ...owner }, { kind: 'queue', name: queue, ...inNamespace }, score, at, windowSeconds, order);
  });
  return {
    windowSeconds,
    horizons: [...horizons],
    metrics: {
      predicted_queue_depth: indexOf(predicted),
      queue_depth: indexOf(observed),
      recommended_replicas: indexOf(replicas),
      anomaly_score: indexOf(anomalies),
    },
  };
}

/** The namespace and workload labels of a workload's queue, decision or anomaly verdict; undefined for the seed's and cluster-wide ones. */
function ownerOf(of: { readonly namespace?: string | undefined; readonly workload?: string | undefined }): { namespace: string; workload: string } | undefined {
  return of.namespace === undefined || of.workload === undefined ? undefined : { namespace: of.namespace, workload: of.workload };
}
