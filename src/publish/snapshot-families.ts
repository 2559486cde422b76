/**
 * The /metrics families that describe one snapshot (forecasts, observed inputs, decisions,
 * anomalies, backtests...), written as text once per snapshot and reused by every scrape until
 * the next cycle. They change only when a cycle completes, and at 1,000 queues they are most of
 * /metrics, so a scrape costs the families that change between scrapes and a string copy.
 */
import { formatDuration, type InputRef, servableValue } from '../core/index.js';
import type { InputValue, ModelAccuracy, SeriesForecast, Snapshot } from '../engine/index.js';
import { type MetricDefinition, metricCatalog } from './metric-catalog.js';
import { type Emit, ExpositionWriter, labelPair, labelPairs, writeFamily } from './text-exposition.js';

/** A family and its samples in a snapshot. */
interface SnapshotFamily {
  readonly definition: MetricDefinition;
  write(snapshot: Snapshot, emit: Emit, render: Render): void;
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

/** `namespace` and `workload` as label text after others (with their comma), for a workload's series; '' for the seed's. */
function workloadLabelText(of: { readonly namespace?: string | undefined; readonly workload?: string | undefined }): string {
  return of.namespace === undefined || of.workload === undefined ? '' : `,${labelPair('namespace', of.namespace)},${labelPair('workload', of.workload)}`;
}

/** `queue`, then `namespace` and `workload` for a workload's queue, as label text. */
function queueLabels(of: { readonly queue: string; readonly namespace?: string | undefined; readonly workload?: string | undefined }): string {
  return labelPair('queue', of.queue) + workloadLabelText(of);
}

/** The `quantile` label values, as Prometheus writes quantiles. */
const quantiles = [
  ['quantile="0.1"', 'p10'],
  ['quantile="0.5"', 'value'],
  ['quantile="0.9"', 'p90'],
] as const satisfies readonly (readonly [string, keyof SeriesForecast])[];

/** A sample only for a value every surface may serve (core's `servableValue`); none otherwise. */
function servable(emit: Emit, labels: string, input: InputRef, value: number): void {
  const v = servableValue(input, value);
  if (v !== undefined) emit(labels, v);
}

/** A sample only for a finite value. */
function finite(emit: Emit, labels: string, value: number): void {
  if (Number.isFinite(value)) emit(labels, value);
}

/**
 * What the families of one render share, made once per render: label text used by several
 * families, the inputs grouped by published name, the backtests worth a series each.
 */
class Render {
  readonly #snapshot: Snapshot;
  readonly #seriesLabels = new Map<string, string>();
  readonly #durations = new Map<number, string>();
  #inputsByMetric: Map<string, InputValue[]> | undefined;
  #backtests: ModelAccuracy[] | undefined;

  constructor(snapshot: Snapshot) {
    this.#snapshot = snapshot;
  }

  /** `series="…"`: one series key labels the forecast, model-info, backtest and matured-accuracy families. */
  series(key: string): string {
    let text = this.#seriesLabels.get(key);
    if (text === undefined) {
      text = labelPair('series', key);
      this.#seriesLabels.set(key, text);
    }
    return text;
  }

  /** `horizon="15m"`. */
  horizon(seconds: number): string {
    let text = this.#durations.get(seconds);
    if (text === undefined) {
      text = labelPair('horizon', formatDuration(seconds));
      this.#durations.set(seconds, text);
    }
    return text;
  }

  /** The inputs published under one name (`inputGauges`' `metric`), in snapshot order: one pass for every input family. */
  inputs(metric: string): readonly InputValue[] {
    if (this.#inputsByMetric === undefined) {
      this.#inputsByMetric = new Map();
      for (const value of this.#snapshot.inputs) {
        const published = inputGauges[inputGaugeKey(value.input)]?.metric;
        if (published === undefined) continue;
        const list = this.#inputsByMetric.get(published);
        if (list === undefined) this.#inputsByMetric.set(published, [value]);
        else list.push(value);
      }
    }
    return this.#inputsByMetric.get(metric) ?? [];
  }

  /**
   * The backtest scores published per series: those of the models `foresight_forecast_model_info`
   * names for the series (the one serving it and the runner-up), not every candidate's. Every
   * candidate's scores stay in /scaling/ml/accuracy; at 1,000 queues all eight rows per series were
   * 64,000 of the 97,000 samples (docs/metrics.md, "Backtest scores").
   */
  backtests(): readonly ModelAccuracy[] {
    if (this.#backtests === undefined) {
      const named = new Map<string, Set<string>>();
      for (const f of this.#snapshot.forecasts) {
        const models = named.get(f.seriesKey) ?? new Set<string>();
        named.set(f.seriesKey, models);
        models.add(f.model);
        if (f.selection?.runnerUp !== undefined) models.add(f.selection.runnerUp);
      }
      this.#backtests = this.#snapshot.accuracy.filter((a) => named.get(a.seriesKey)?.has(a.model) === true);
    }
    return this.#backtests;
  }
}

const c = metricCatalog;
const family = (definition: MetricDefinition, write: (s: Snapshot, emit: Emit, render: Render) => void): SnapshotFamily => ({ definition, write });

/** The observed inputs, one family per published name (several inputs share `load_average`). */
const inputFamilies: SnapshotFamily[] = [...new Set(Object.values(inputGauges).map((g) => g.metric))].map((metric) =>
  family(c[metric], (_s, emit, render) => {
    for (const value of render.inputs(metric)) {
      const extra = inputGauges[inputGaugeKey(value.input)]?.labels;
      const labels = value.input.kind === 'queue' ? queueLabels(value.input) : '';
      const more = extra === undefined ? '' : labelPairs(extra);
      servable(emit, labels === '' || more === '' ? labels + more : `${labels},${more}`, value.input, value.value);
    }
  }),
);

/** A backtest family: one score of the published backtests. */
const backtestFamily = (definition: MetricDefinition, score: (a: ModelAccuracy) => number): SnapshotFamily =>
  family(definition, (_s, emit, render) => {
    for (const a of render.backtests()) finite(emit, `${render.series(a.seriesKey)},${labelPair('model', a.model)}`, score(a));
  });

/** Every family computed from the snapshot alone, in the order /metrics lists them. */
const snapshotFamilies: readonly SnapshotFamily[] = [
  family(c.predictedQueueDepth, (s, emit, render) => {
    for (const q of s.queues) {
      const queue = queueLabels(q);
      for (const f of q.depthForecasts) {
        const labels = `${queue},${render.horizon(f.horizonSeconds)},`;
        for (const [quantile, field] of quantiles) servable(emit, labels + quantile, f.input, f[field]);
      }
    }
  }),
  ...inputFamilies,
  family(c.currentReplicas, (s, emit) => {
    for (const value of s.inputs) if (value.input.kind === 'replicas') emit(labelPair('resource', value.input.resource), value.value);
  }),
  family(c.forecast, (s, emit, render) => {
    for (const f of s.forecasts) {
      const labels = `${render.series(f.seriesKey)},${render.horizon(f.horizonSeconds)},`;
      for (const [quantile, field] of quantiles) servable(emit, labels + quantile, f.input, f[field]);
    }
  }),
  family(c.forecastModel, (s, emit, render) => {
    // One series per model and reason: a series forecast at several horizons often has the same at each.
    const seen = new Set<string>();
    for (const f of s.forecasts) {
      const chosen = f.selection;
      const labels = `${render.series(f.seriesKey)},${labelPairs({ model: f.model, fallback: f.fallbackReason ?? '', selected: chosen?.served ?? f.model, why: chosen?.why ?? '', runner_up: chosen?.runnerUp ?? '' })}`;
      if (seen.has(labels)) continue;
      seen.add(labels);
      emit(labels, 1);
    }
  }),
  backtestFamily(c.backtestMase, (a) => a.mase),
  backtestFamily(c.backtestAccuracy, (a) => a.accuracyPercent),
  backtestFamily(c.backtestWape, (a) => a.wape),
  backtestFamily(c.backtestCoverage, (a) => a.coverage),
  family(c.recommendedReplicas, (s, emit) => {
    for (const d of s.decisions) emit(labelPair('resource', d.resource) + workloadLabelText(d), d.recommendedReplicas);
  }),
  family(c.decisionConfidence, (s, emit) => {
    for (const d of s.decisions) emit(labelPair('resource', d.resource) + workloadLabelText(d), d.confidence);
  }),
  family(c.optimizerRecommendedReplicas, (s, emit) => {
    for (const o of s.optimizer ?? []) emit(labelPair('resource', o.resource), o.recommendedReplicas);
  }),
  family(c.optimizerConfidence, (s, emit) => {
    for (const o of s.optimizer ?? []) emit(labelPair('resource', o.resource), o.confidence);
  }),
  family(c.anomalyScore, (s, emit) => {
    for (const a of s.anomalies) emit(labelPair('metric', a.metric) + (a.queue === undefined ? '' : `,${labelPair('queue', a.queue)}`) + workloadLabelText(a), a.score);
  }),
  family(c.predictionAccuracy, (s, emit, render) => {
    for (const m of s.maturedAccuracy) finite(emit, `${render.series(m.seriesKey)},${render.horizon(m.horizonSeconds)}`, m.accuracyPercent);
  }),
  family(c.discoveredQueues, (s, emit) => {
    for (const d of s.discovery ?? []) {
      const workload = labelPairs({ namespace: d.namespace, workload: d.workload });
      emit(`${workload},state="active"`, d.active);
      emit(`${workload},state="stale"`, d.stale);
    }
  }),
  family(c.historyBackfillPending, (s, emit) => {
    if (s.history !== undefined) emit('', s.history.pendingSeries);
  }),
  family(c.discoveryLimited, (s, emit) => {
    for (const d of s.discovery ?? []) emit(labelPairs({ namespace: d.namespace, workload: d.workload }), d.leftOut);
  }),
  family(c.anomaliesCritical, (s, emit) => emit('', s.anomalies.filter((a) => a.isAnomaly && a.severity === 'critical').length)),
  family(c.sourceInputUp, (s, emit) => {
    // An input with a problem this cycle reads 0, even when an older value of it is still listed.
    const down = new Set(s.problems.map((p) => p.inputKey));
    for (const value of s.inputs) if (!down.has(value.key)) emit(labelPair('input', value.key), 1);
    for (const input of down) emit(labelPair('input', input), 0);
  }),
  family(c.shardWorkloads, (s, emit) => {
    if (s.shard !== undefined) emit(labelPairs({ shard: String(s.shard.index), replicas: String(s.shard.replicas) }), s.shard.ownWorkloads);
  }),
  family(c.shardReplicas, (s, emit) => {
    if (s.shard !== undefined) emit('', s.shard.replicas);
  }),
  family(c.shardQueues, (s, emit) => {
    if (s.shard !== undefined) emit('', s.queues.length);
  }),
  family(c.shardReadBackSeries, (s, emit) => {
    if (s.shard !== undefined) emit('', s.shard.readBack.series);
  }),
  family(c.snapshotTimestamp, (s, emit) => emit('', s.completedAtMs / 1000)),
];

/**
 * The text of every snapshot family, made once per snapshot: the snapshot is immutable, so the
 * text made for it stays right until the store holds another one. Before the first snapshot the
 * families are listed without samples.
 */
export class SnapshotExposition {
  #madeFor: Snapshot | undefined;
  #bytes: Buffer | undefined;

  /** The families as UTF-8, families apart by a blank line, no newline after the last. */
  bytes(snapshot: Snapshot | undefined): Buffer {
    if (this.#bytes === undefined || snapshot !== this.#madeFor) {
      const render = snapshot === undefined ? undefined : new Render(snapshot);
      const out = new ExpositionWriter();
      snapshotFamilies.forEach((f, i) => {
        if (i > 0) out.write('\n\n');
        writeFamily(out, f.definition, (emit) => {
          if (snapshot !== undefined && render !== undefined) f.write(snapshot, emit, render);
        });
      });
      this.#bytes = out.bytes();
      this.#madeFor = snapshot;
    }
    return this.#bytes;
  }

  /** The same as text. */
  text(snapshot: Snapshot | undefined): string {
    return this.bytes(snapshot).toString('utf8');
  }
}
