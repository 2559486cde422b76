/**
 * The /metrics families that describe one snapshot (forecasts, observed inputs, decisions,
 * anomalies, backtests...), written as text once per snapshot and reused by every scrape until
 * the next cycle. They change only when a cycle completes, and at 1,000 queues they are most of
 * /metrics, so a scrape costs the families that change between scrapes and a string copy.
 */
import { formatDuration, type InputRef, servableValue } from '../core/index.js';
import type { SeriesForecast, Snapshot } from '../engine/index.js';
import { type MetricDefinition, metricCatalog } from './metric-catalog.js';
import { type Emit, familyText } from './text-exposition.js';

/** A family and its samples in a snapshot. */
interface SnapshotFamily {
  readonly definition: MetricDefinition;
  write(snapshot: Snapshot, emit: Emit): void;
}

/** The values of one input, as published under its own name. */
const inputGauges: Readonly<Record<string, { readonly metric: keyof typeof metricCatalog; readonly labels?: Record<string, string> }>> = {
  'queue:depth': { metric: 'queueDepthCurrent' },
  'queue:enqueue_rate_per_second': { metric: 'queueEnqueueRate' },
  'queue:dequeue_rate_per_second': { metric: 'queueDequeueRate' },
  'queue:wait_avg_seconds': { metric: 'queueWaitAvg' },
  'queue:wait_max_seconds': { metric: 'queueWaitMax' },
  'queue:consumers': { metric: 'queueConsumers' },
  'queue:failed_messages': { metric: 'queueFailedMessages' },
  'system:cpu_percent': { metric: 'cpuUtilization' },
  'system:memory_percent': { metric: 'memoryUtilization' },
  'system:disk_io_bytes_per_second': { metric: 'diskIo' },
  'system:network_io_bytes_per_second': { metric: 'networkIo' },
  'system:load1': { metric: 'loadAverage', labels: { window: '1m' } },
  'system:load5': { metric: 'loadAverage', labels: { window: '5m' } },
  'system:load15': { metric: 'loadAverage', labels: { window: '15m' } },
  'performance:response_time_p95_seconds': { metric: 'responseTimeP95' },
  'performance:error_rate_percent': { metric: 'errorRate' },
  'performance:db_connection_utilization_percent': { metric: 'dbConnectionUtilization' },
};

function inputGaugeKey(input: InputRef): string {
  switch (input.kind) {
    case 'queue':
      return `queue:${input.metric}`;
    case 'system':
    case 'performance':
      return `${input.kind}:${input.metric}`;
    case 'replicas':
      return 'replicas';
    case 'workload':
      return `workload:${input.metric}`;
  }
}

/** The `namespace` and `workload` labels of a workload's series; none for the seed's (their series stay as they were). */
export function workloadLabels(of: { readonly namespace?: string | undefined; readonly workload?: string | undefined }): { namespace?: string; workload?: string } {
  return of.namespace === undefined || of.workload === undefined ? {} : { namespace: of.namespace, workload: of.workload };
}

/** The `quantile` label values, as Prometheus writes quantiles. */
const quantiles = [
  ['0.1', 'p10'],
  ['0.5', 'value'],
  ['0.9', 'p90'],
] as const satisfies readonly (readonly [string, keyof SeriesForecast])[];

/** A sample only for a value every surface may serve (core's `servableValue`); none otherwise. */
function servable(emit: Emit, labels: Readonly<Record<string, string>>, input: InputRef, value: number): void {
  const v = servableValue(input, value);
  if (v !== undefined) emit(labels, v);
}

/** A sample only for a finite value. */
function finite(emit: Emit, labels: Readonly<Record<string, string>>, value: number): void {
  if (Number.isFinite(value)) emit(labels, value);
}

const c = metricCatalog;
const family = (definition: MetricDefinition, write: (s: Snapshot, emit: Emit) => void): SnapshotFamily => ({ definition, write });

/** The observed inputs, one family per published name (several inputs share `load_average`). */
const inputFamilies: SnapshotFamily[] = [...new Set(Object.values(inputGauges).map((g) => g.metric))].map((metric) =>
  family(c[metric], (s, emit) => {
    for (const value of s.inputs) {
      const mapping = inputGauges[inputGaugeKey(value.input)];
      if (mapping?.metric !== metric) continue;
      const labels = value.input.kind === 'queue' ? { queue: value.input.queue, ...workloadLabels(value.input), ...mapping.labels } : { ...mapping.labels };
      servable(emit, labels, value.input, value.value);
    }
  }),
);

/** Every family computed from the snapshot alone, in the order /metrics lists them. */
const snapshotFamilies: readonly SnapshotFamily[] = [
  family(c.predictedQueueDepth, (s, emit) => {
    for (const q of s.queues) {
      for (const f of q.depthForecasts) {
        for (const [quantile, field] of quantiles) servable(emit, { queue: q.queue, ...workloadLabels(q), horizon: formatDuration(f.horizonSeconds), quantile }, f.input, f[field]);
      }
    }
  }),
  ...inputFamilies,
  family(c.currentReplicas, (s, emit) => {
    for (const value of s.inputs) if (value.input.kind === 'replicas') emit({ resource: value.input.resource }, value.value);
  }),
  family(c.forecast, (s, emit) => {
    for (const f of s.forecasts) for (const [quantile, field] of quantiles) servable(emit, { series: f.seriesKey, horizon: formatDuration(f.horizonSeconds), quantile }, f.input, f[field]);
  }),
  family(c.forecastModel, (s, emit) => {
    // One series per model and reason: a series forecast at several horizons often has the same at each.
    const seen = new Set<string>();
    for (const f of s.forecasts) {
      const chosen = f.selection;
      const labels = { series: f.seriesKey, model: f.model, fallback: f.fallbackReason ?? '', selected: chosen?.served ?? f.model, why: chosen?.why ?? '', runner_up: chosen?.runnerUp ?? '' };
      const key = Object.values(labels).join('\u0000');
      if (seen.has(key)) continue;
      seen.add(key);
      emit(labels, 1);
    }
  }),
  family(c.backtestMase, (s, emit) => {
    for (const a of s.accuracy) finite(emit, { series: a.seriesKey, model: a.model }, a.mase);
  }),
  family(c.backtestAccuracy, (s, emit) => {
    for (const a of s.accuracy) finite(emit, { series: a.seriesKey, model: a.model }, a.accuracyPercent);
  }),
  family(c.backtestWape, (s, emit) => {
    for (const a of s.accuracy) finite(emit, { series: a.seriesKey, model: a.model }, a.wape);
  }),
  family(c.backtestCoverage, (s, emit) => {
    for (const a of s.accuracy) finite(emit, { series: a.seriesKey, model: a.model }, a.coverage);
  }),
  family(c.recommendedReplicas, (s, emit) => {
    for (const d of s.decisions) emit({ resource: d.resource, ...workloadLabels(d) }, d.recommendedReplicas);
  }),
  family(c.decisionConfidence, (s, emit) => {
    for (const d of s.decisions) emit({ resource: d.resource, ...workloadLabels(d) }, d.confidence);
  }),
  family(c.optimizerRecommendedReplicas, (s, emit) => {
    for (const o of s.optimizer ?? []) emit({ resource: o.resource }, o.recommendedReplicas);
  }),
  family(c.optimizerConfidence, (s, emit) => {
    for (const o of s.optimizer ?? []) emit({ resource: o.resource }, o.confidence);
  }),
  family(c.anomalyScore, (s, emit) => {
    for (const a of s.anomalies) emit({ metric: a.metric, ...(a.queue === undefined ? {} : { queue: a.queue }), ...workloadLabels(a) }, a.score);
  }),
  family(c.predictionAccuracy, (s, emit) => {
    for (const m of s.maturedAccuracy) finite(emit, { series: m.seriesKey, horizon: formatDuration(m.horizonSeconds) }, m.accuracyPercent);
  }),
  family(c.discoveredQueues, (s, emit) => {
    for (const d of s.discovery ?? []) {
      emit({ namespace: d.namespace, workload: d.workload, state: 'active' }, d.active);
      emit({ namespace: d.namespace, workload: d.workload, state: 'stale' }, d.stale);
    }
  }),
  family(c.historyBackfillPending, (s, emit) => {
    if (s.history !== undefined) emit({}, s.history.pendingSeries);
  }),
  family(c.discoveryLimited, (s, emit) => {
    for (const d of s.discovery ?? []) emit({ namespace: d.namespace, workload: d.workload }, d.leftOut);
  }),
  family(c.anomaliesCritical, (s, emit) => emit({}, s.anomalies.filter((a) => a.isAnomaly && a.severity === 'critical').length)),
  family(c.sourceInputUp, (s, emit) => {
    // An input with a problem this cycle reads 0, even when an older value of it is still listed.
    const down = new Set(s.problems.map((p) => p.inputKey));
    for (const value of s.inputs) if (!down.has(value.key)) emit({ input: value.key }, 1);
    for (const input of down) emit({ input }, 0);
  }),
  family(c.shardWorkloads, (s, emit) => {
    if (s.shard !== undefined) emit({ shard: String(s.shard.index), replicas: String(s.shard.replicas) }, s.shard.ownWorkloads);
  }),
  family(c.shardReplicas, (s, emit) => {
    if (s.shard !== undefined) emit({}, s.shard.replicas);
  }),
  family(c.shardQueues, (s, emit) => {
    if (s.shard !== undefined) emit({}, s.queues.length);
  }),
  family(c.shardReadBackSeries, (s, emit) => {
    if (s.shard !== undefined) emit({}, s.shard.readBack.series);
  }),
  family(c.snapshotTimestamp, (s, emit) => emit({}, s.completedAtMs / 1000)),
];

/**
 * The text of every snapshot family, made once per snapshot: the snapshot is immutable, so the
 * text made for it stays right until the store holds another one. Before the first snapshot the
 * families are listed without samples.
 */
export class SnapshotExposition {
  #madeFor: Snapshot | undefined;
  #text: string | undefined;

  text(snapshot: Snapshot | undefined): string {
    if (this.#text === undefined || snapshot !== this.#madeFor) {
      this.#text = snapshotFamilies
        .map((f) =>
          familyText(f.definition, (emit) => {
            if (snapshot !== undefined) f.write(snapshot, emit);
          }),
        )
        .join('\n\n');
      this.#madeFor = snapshot;
    }
    return this.#text;
  }
}
