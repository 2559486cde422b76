import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import { type Clock, formatDuration, type InputRef, implausibleReasons, type Resource, servableValue } from '../core/index.js';
import type { Recorder, SeriesForecast, Snapshot, SnapshotStore } from '../engine/index.js';
import { type MetricDefinition, metricCatalog } from './metric-catalog.js';

export * from './metric-catalog.js';
export * from './tls-metrics.js';

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

/** The `namespace` and `workload` labels of a workload's series; none for the seed's (their series stay as they were). */
function workloadLabels(of: { readonly namespace?: string | undefined; readonly workload?: string | undefined }): { namespace?: string; workload?: string } {
  return of.namespace === undefined || of.workload === undefined ? {} : { namespace: of.namespace, workload: of.workload };
}

/** Sets a series only to a value every surface may serve (core's `servableValue`); no series otherwise. */
function setServable<T extends string>(gauge: Gauge<T>, labels: Partial<Record<T, string>>, input: InputRef, value: number): void {
  const servable = servableValue(input, value);
  if (servable !== undefined) gauge.set(labels, servable);
}

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

/** The `quantile` label values, as Prometheus writes quantiles. */
const quantiles = [
  ['0.1', 'p10'],
  ['0.5', 'value'],
  ['0.9', 'p90'],
] as const satisfies readonly (readonly [string, keyof SeriesForecast])[];

/**
 * A gauge family exposed with `# TYPE … summary`. Forecast quantiles carry the label `quantile`
 * (the published contract), and the exposition format reserves that label for summaries: this
 * keeps `promtool check metrics` clean while every PromQL query stays the same. The values are
 * quantiles of the forecast distribution, which is what a summary's quantiles mean.
 */
class QuantileGauge extends Gauge {
  override async get() {
    const metric = await super.get();
    // prom-client's typings declare `type` as a numeric enum it never exports; at run time the
    // registry prints the string it finds here.
    return { ...metric, type: 'summary' as unknown as typeof metric.type };
  }
}

/** What the metrics read at scrape time. */
export interface MetricsDeps {
  readonly registry: Registry;
  readonly store: SnapshotStore;
  readonly clock: Clock;
  readonly config: () => Config;
  readonly build: { readonly version: string; readonly revision: string };
  /**
   * Tensors alive in TensorFlow.js: in this process (forecast's `tensorCount`; 0 without it) and in
   * the model process, when there is one and it has answered.
   */
  readonly tensorCount?: () => { readonly service: number; readonly model?: number };
}

/** The metrics that the rest of the service updates as events happen. */
export interface ServiceMetrics {
  /** The engine's recorder, backed by the catalog's counters and histograms. */
  readonly recorder: Recorder;
  /** Times one source query (the hook given to the source). */
  observeQuery(kind: 'instant' | 'range', outcome: 'success' | 'error', durationSeconds: number): void;
  /** Reports the outcome of a configuration (re)load. */
  configReloaded(successful: boolean, atMs: number): void;
  /** Records whether the scaling rules of a new configuration compiled. */
  rulesReloaded(successful: boolean): void;
  /** Actuation events (the shape of actuate's ActuationMetrics, so publish needn't import it). */
  readonly actuation: {
    patched(resource: Resource, outcome: 'applied' | 'dry_run' | 'failed' | 'skipped_not_leader'): void;
    setLeader(isLeader: boolean): void;
  };
  /** Learned-model lifecycle events (training's ModelLifecycle events map onto these). */
  readonly learned: {
    trained(seriesKey: string, model: string, trainedAtMs: number, durationSeconds: number): void;
    /** A stored model was loaded at start-up: its training time, without a training duration (none ran). */
    loaded(seriesKey: string, model: string, trainedAtMs: number): void;
    failed(model: string, reason: string): void;
    forget(seriesKey: string, model: string): void;
  };
}

/**
 * Registers the whole catalog on `registry`. Gauges that describe the snapshot are computed at
 * scrape time from the latest snapshot, so /metrics always shows one consistent cycle, and series
 * of queues removed from the configuration disappear with the next scrape.
 */
export function createMetrics(deps: MetricsDeps): ServiceMetrics {
  const { registry, store, clock } = deps;
  const registers = [registry];
  const gauge = (d: MetricDefinition, collect?: (g: Gauge) => void): Gauge =>
    new (d.type === 'summary' ? QuantileGauge : Gauge)({
      name: d.name,
      help: d.help,
      labelNames: d.labelNames,
      registers,
      ...(collect === undefined
        ? {}
        : {
            collect(this: Gauge) {
              this.reset();
              collect(this);
            },
          }),
    });
  const fromSnapshot = (d: MetricDefinition, fill: (g: Gauge, snapshot: Snapshot) => void): Gauge =>
    gauge(d, (g) => {
      const snapshot = store.latest();
      if (snapshot !== undefined) fill(g, snapshot);
    });
  const c = metricCatalog;
  // The runtime's own series (process_* and nodejs_*: CPU, resident memory, open file descriptors,
  // heap, event-loop lag, GC), named as every Node.js exporter names them, so that the standard
  // dashboards and the ForesightDown triage work. Listed in docs/metrics.md apart from the catalog.
  collectDefaultMetrics({ register: registry });
  // Three of them are gauges named like counters, which `promtool check metrics` rejects; their
  // per-type breakdowns (nodejs_active_handles{type}, …) carry the same information.
  for (const misnamed of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(misnamed);

  fromSnapshot(c.predictedQueueDepth, (g, s) => {
    for (const q of s.queues) {
      for (const f of q.depthForecasts) {
        for (const [quantile, field] of quantiles) setServable(g, { queue: q.queue, ...workloadLabels(q), horizon: formatDuration(f.horizonSeconds), quantile }, f.input, f[field] as number);
      }
    }
  });
  // The seed's thresholds come from the configuration, so they show even before the first cycle;
  // workloads' queues (some discovered) from the snapshot.
  gauge(c.queueDepthThreshold, (g) => {
    const config = deps.config();
    if (config.workloads.length === 0) for (const q of config.queues) g.set({ queue: q.name }, q.threshold);
    else for (const q of store.latest()?.queues ?? []) g.set({ queue: q.queue, ...workloadLabels(q) }, q.threshold);
  });
  const byName = new Map<string, Gauge>();
  for (const { metric } of Object.values(inputGauges)) {
    const d = c[metric];
    if (byName.has(d.name)) continue;
    byName.set(
      d.name,
      fromSnapshot(d, (g, s) => {
        for (const value of s.inputs) {
          const mapping = inputGauges[inputGaugeKey(value.input)];
          if (mapping === undefined || c[mapping.metric].name !== d.name) continue;
          const labels = value.input.kind === 'queue' ? { queue: value.input.queue, ...workloadLabels(value.input), ...mapping.labels } : { ...mapping.labels };
          setServable(g, labels, value.input, value.value);
        }
      }),
    );
  }
  fromSnapshot(c.currentReplicas, (g, s) => {
    for (const value of s.inputs) {
      if (value.input.kind === 'replicas') g.set({ resource: value.input.resource }, value.value);
    }
  });
  fromSnapshot(c.forecast, (g, s) => {
    for (const f of s.forecasts) {
      for (const [quantile, field] of quantiles) setServable(g, { series: f.seriesKey, horizon: formatDuration(f.horizonSeconds), quantile }, f.input, f[field] as number);
    }
  });
  fromSnapshot(c.forecastModel, (g, s) => {
    for (const f of s.forecasts) {
      const chosen = f.selection;
      g.set({ series: f.seriesKey, model: f.model, fallback: f.fallbackReason ?? '', selected: chosen?.served ?? f.model, why: chosen?.why ?? '', runner_up: chosen?.runnerUp ?? '' }, 1);
    }
  });
  fromSnapshot(c.backtestMase, (g, s) => {
    for (const a of s.accuracy) if (Number.isFinite(a.mase)) g.set({ series: a.seriesKey, model: a.model }, a.mase);
  });
  fromSnapshot(c.backtestAccuracy, (g, s) => {
    for (const a of s.accuracy) if (Number.isFinite(a.accuracyPercent)) g.set({ series: a.seriesKey, model: a.model }, a.accuracyPercent);
  });
  fromSnapshot(c.backtestWape, (g, s) => {
    for (const a of s.accuracy) if (Number.isFinite(a.wape)) g.set({ series: a.seriesKey, model: a.model }, a.wape);
  });
  fromSnapshot(c.backtestCoverage, (g, s) => {
    for (const a of s.accuracy) if (Number.isFinite(a.coverage)) g.set({ series: a.seriesKey, model: a.model }, a.coverage);
  });
  fromSnapshot(c.recommendedReplicas, (g, s) => {
    for (const d of s.decisions) g.set({ resource: d.resource, ...workloadLabels(d) }, d.recommendedReplicas);
  });
  fromSnapshot(c.decisionConfidence, (g, s) => {
    for (const d of s.decisions) g.set({ resource: d.resource, ...workloadLabels(d) }, d.confidence);
  });
  fromSnapshot(c.optimizerRecommendedReplicas, (g, s) => {
    for (const o of s.optimizer ?? []) g.set({ resource: o.resource }, o.recommendedReplicas);
  });
  fromSnapshot(c.optimizerConfidence, (g, s) => {
    for (const o of s.optimizer ?? []) g.set({ resource: o.resource }, o.confidence);
  });
  fromSnapshot(c.anomalyScore, (g, s) => {
    for (const a of s.anomalies) g.set({ metric: a.metric, ...(a.queue === undefined ? {} : { queue: a.queue }), ...workloadLabels(a) }, a.score);
  });
  fromSnapshot(c.predictionAccuracy, (g, s) => {
    for (const m of s.maturedAccuracy) {
      if (Number.isFinite(m.accuracyPercent)) g.set({ series: m.seriesKey, horizon: formatDuration(m.horizonSeconds) }, m.accuracyPercent);
    }
  });
  fromSnapshot(c.discoveredQueues, (g, s) => {
    for (const d of s.discovery ?? []) {
      g.set({ namespace: d.namespace, workload: d.workload, state: 'active' }, d.active);
      g.set({ namespace: d.namespace, workload: d.workload, state: 'stale' }, d.stale);
    }
  });
  fromSnapshot(c.discoveryLimited, (g, s) => {
    for (const d of s.discovery ?? []) g.set({ namespace: d.namespace, workload: d.workload }, d.leftOut);
  });
  fromSnapshot(c.anomaliesCritical, (g, s) => g.set(s.anomalies.filter((a) => a.isAnomaly && a.severity === 'critical').length));
  gauge(c.buildInfo).set({ version: deps.build.version, revision: deps.build.revision, nodejs_version: process.version }, 1);
  fromSnapshot(c.sourceInputUp, (g, s) => {
    for (const value of s.inputs) g.set({ input: value.key }, 1);
    for (const problem of s.problems) g.set({ input: problem.inputKey }, 0);
  });
  gauge(c.sourceUp, (g) => {
    const status = store.status();
    if (status.lastAttemptAtMs > 0) g.set(status.lastError === undefined ? 1 : 0);
  });
  fromSnapshot(c.shardWorkloads, (g, s) => {
    if (s.shard !== undefined) g.set({ shard: String(s.shard.index), replicas: String(s.shard.replicas) }, s.shard.ownWorkloads);
  });
  fromSnapshot(c.shardReplicas, (g, s) => {
    if (s.shard !== undefined) g.set(s.shard.replicas);
  });
  fromSnapshot(c.shardQueues, (g, s) => {
    if (s.shard !== undefined) g.set(s.queues.length);
  });
  fromSnapshot(c.shardReadBackSeries, (g, s) => {
    if (s.shard !== undefined) g.set(s.shard.readBack.series);
  });
  fromSnapshot(c.shardReadBackAge, (g, s) => {
    const oldest = s.shard?.readBack.oldestSampleMs;
    if (oldest !== undefined) g.set(Math.max(0, (clock.nowMs() - oldest) / 1000));
  });
  gauge(c.snapshotAge, (g) => {
    const age = store.ageSeconds(clock.nowMs());
    if (Number.isFinite(age)) g.set(age);
  });
  gauge(c.snapshotStale, (g) => {
    g.set(store.ageSeconds(clock.nowMs()) > deps.config().snapshot.maxAge ? 1 : 0);
  });
  fromSnapshot(c.snapshotTimestamp, (g, s) => g.set(s.completedAtMs / 1000));
  gauge(c.lastSuccess, (g) => {
    const at = store.status().lastSuccessAtMs;
    if (at !== undefined) g.set(at / 1000);
  });

  const queryDuration = new Histogram({
    name: c.sourceQueryDuration.name,
    help: c.sourceQueryDuration.help,
    labelNames: c.sourceQueryDuration.labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const problems = new Counter({ name: c.sourceProblems.name, help: c.sourceProblems.help, labelNames: c.sourceProblems.labelNames, registers });
  for (const reason of ['empty', 'multiple_series', 'not_finite', 'query_failed']) problems.inc({ reason }, 0);
  const rejectedSamples = new Counter({ name: c.sourceRejectedSamples.name, help: c.sourceRejectedSamples.help, labelNames: c.sourceRejectedSamples.labelNames, registers });
  const readBackFailures = new Counter({ name: c.shardReadBackFailures.name, help: c.shardReadBackFailures.help, registers });
  const readBackRejected = new Counter({ name: c.shardReadBackRejected.name, help: c.shardReadBackRejected.help, labelNames: c.shardReadBackRejected.labelNames, registers });
  const rejectedForecasts = new Counter({ name: c.forecastRejected.name, help: c.forecastRejected.help, labelNames: c.forecastRejected.labelNames, registers });
  for (const reason of ['not_finite', 'implausible']) rejectedForecasts.inc({ reason }, 0);
  const cycleDuration = new Histogram({
    name: c.cycleDuration.name,
    help: c.cycleDuration.help,
    labelNames: c.cycleDuration.labelNames,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const cycles = new Counter({ name: c.cycles.name, help: c.cycles.help, labelNames: c.cycles.labelNames, registers });
  for (const outcome of ['success', 'failure']) cycles.inc({ outcome }, 0);
  const fitDuration = new Histogram({
    name: c.modelFitDuration.name,
    help: c.modelFitDuration.help,
    labelNames: c.modelFitDuration.labelNames,
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers,
  });
  const actions = new Counter({ name: c.scalingActions.name, help: c.scalingActions.help, labelNames: c.scalingActions.labelNames, registers });
  const decisionTime = new Histogram({ name: c.decisionTime.name, help: c.decisionTime.help, buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers });
  const anomalies = new Counter({ name: c.anomaliesDetected.name, help: c.anomaliesDetected.help, labelNames: c.anomaliesDetected.labelNames, registers });
  const actuationPatches = new Counter({ name: c.actuationPatches.name, help: c.actuationPatches.help, labelNames: c.actuationPatches.labelNames, registers });
  const leader = gauge(c.leader);
  leader.set(0);
  const reloadOk = gauge(c.configReloadSuccessful);
  const reloadAt = gauge(c.configReloadTimestamp);
  const rulesOk = gauge(c.rulesReloadSuccessful);
  gauge(c.tfjsTensors, (g) => {
    const counts = deps.tensorCount?.();
    g.set({ process: 'service' }, counts?.service ?? 0);
    if (counts?.model !== undefined) g.set({ process: 'model' }, counts.model);
  });
  const trainedAt = gauge(c.modelTrainedTimestamp);
  const trainingDuration = new Histogram({
    name: c.modelTrainingDuration.name,
    help: c.modelTrainingDuration.help,
    labelNames: c.modelTrainingDuration.labelNames,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers,
  });
  const trainingFailures = new Counter({ name: c.modelTrainingFailures.name, help: c.modelTrainingFailures.help, labelNames: c.modelTrainingFailures.labelNames, registers });

  return {
    recorder: {
      cycleFinished(outcome, durationSeconds) {
        cycles.inc({ outcome });
        cycleDuration.observe({ outcome }, durationSeconds);
      },
      sourceProblem(reason) {
        problems.inc({ reason });
      },
      sourceRejected(inputKey, reason, count) {
        rejectedSamples.inc({ input: inputKey, reason }, count);
      },
      seriesForgotten(inputKeys) {
        // Without this, every discovered queue that ever had a refused sample would keep its series.
        for (const input of inputKeys) for (const reason of implausibleReasons) rejectedSamples.remove({ input, reason });
      },
      readBack(outcome) {
        if (outcome === 'failure') readBackFailures.inc();
      },
      readBackRejected(reason, count) {
        readBackRejected.inc({ reason }, count);
      },
      forecastRejected(_seriesKey, reason) {
        rejectedForecasts.inc({ reason });
      },
      modelFitted(_seriesKey, model, durationSeconds) {
        fitDuration.observe({ model }, durationSeconds);
      },
      decided(decisions, durationSeconds) {
        decisionTime.observe(durationSeconds);
        // A recommendation the cluster has not followed yet repeats every cycle: count changes only.
        for (const d of decisions) {
          if (d.changed !== true) continue;
          const up = d.baselineReplicas === null || d.baselineReplicas === undefined || d.recommendedReplicas > d.baselineReplicas;
          actions.inc({ resource: d.resource, direction: up ? 'up' : 'down' });
        }
      },
      anomaliesScored(verdicts) {
        for (const a of verdicts) if (a.isAnomaly) anomalies.inc({ metric: a.metric, severity: a.severity });
      },
    },
    observeQuery(kind, outcome, durationSeconds) {
      queryDuration.observe({ kind, outcome }, durationSeconds);
    },
    actuation: {
      patched(resource, outcome) {
        actuationPatches.inc({ resource, outcome });
      },
      setLeader(isLeader) {
        leader.set(isLeader ? 1 : 0);
      },
    },
    learned: {
      trained(seriesKey, model, trainedAtMs, durationSeconds) {
        trainedAt.set({ series: seriesKey, model }, trainedAtMs / 1000);
        trainingDuration.observe({ model }, durationSeconds);
      },
      loaded(seriesKey, model, trainedAtMs) {
        trainedAt.set({ series: seriesKey, model }, trainedAtMs / 1000);
      },
      failed(model, reason) {
        trainingFailures.inc({ model, reason });
      },
      forget(seriesKey, model) {
        trainedAt.remove({ series: seriesKey, model });
      },
    },
    configReloaded(successful, atMs) {
      reloadOk.set(successful ? 1 : 0);
      if (successful) reloadAt.set(atMs / 1000);
    },
    rulesReloaded(successful) {
      rulesOk.set(successful ? 1 : 0);
    },
  };
}
