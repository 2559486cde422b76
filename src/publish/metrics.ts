import type { X509Certificate } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import { type Clock, formatDuration, type InputRef, type Resource, servableValue } from '../core/index.js';
import type { Recorder, SeriesForecast, Snapshot, SnapshotStore } from '../engine/index.js';

/** One entry of the metric catalog: the contract dashboards, alerts, KEDA and users build on. */
export interface MetricDefinition {
  readonly name: string;
  readonly type: 'gauge' | 'counter' | 'histogram' | 'summary';
  readonly help: string;
  readonly labelNames: readonly string[];
}

const def = (name: string, type: MetricDefinition['type'], help: string, labelNames: readonly string[] = []): MetricDefinition => ({
  name,
  type,
  help,
  labelNames,
});

/**
 * The metric catalog: every series Foresight exposes on /metrics. docs/metrics.md
 * lists the same names (a test keeps them in step). Design-given names come first; the service's
 * own health uses the `foresight_` prefix.
 */
export const metricCatalog = {
  predictedQueueDepth: def('predicted_queue_depth', 'summary', 'Forecast queue depth (messages) at the horizon; quantile 0.5 is the point forecast, 0.1 and 0.9 bound the 80% band.', [
    'queue',
    'horizon',
    'quantile',
  ]),
  queueDepthCurrent: def('queue_depth_current', 'gauge', 'Observed queue depth (messages) in the latest cycle.', ['queue']),
  queueDepthThreshold: def('queue_depth_threshold', 'gauge', 'Configured queue depth (messages) above which the queue counts as overloaded.', ['queue']),
  queueEnqueueRate: def('queue_enqueue_rate_per_second', 'gauge', 'Messages added to the queue per second.', ['queue']),
  queueDequeueRate: def('queue_dequeue_rate_per_second', 'gauge', 'Messages taken from the queue per second.', ['queue']),
  queueWaitAvg: def('queue_wait_time_avg_seconds', 'gauge', 'Average time a message waits in the queue, in seconds.', ['queue']),
  queueWaitMax: def('queue_wait_time_max_seconds', 'gauge', 'Age of the oldest waiting message, in seconds.', ['queue']),
  queueConsumers: def('queue_consumers', 'gauge', 'Consumers attached to the queue.', ['queue']),
  queueFailedMessages: def('queue_failed_messages', 'gauge', 'Messages that failed in the last 5 minutes.', ['queue']),
  cpuUtilization: def('cpu_utilization_percent', 'gauge', 'CPU utilisation of the nodes, 0-100.'),
  memoryUtilization: def('memory_utilization_percent', 'gauge', 'Memory utilisation of the nodes, 0-100.'),
  diskIo: def('disk_io_bytes_per_second', 'gauge', 'Disk reads plus writes, bytes per second.'),
  networkIo: def('network_io_bytes_per_second', 'gauge', 'Network receive plus transmit, bytes per second.'),
  loadAverage: def('load_average', 'gauge', 'Node load average over the window.', ['window']),
  responseTimeP95: def('response_time_p95_seconds', 'gauge', '95th percentile response time, in seconds.'),
  errorRate: def('error_rate_percent', 'gauge', 'Share of requests that failed, 0-100.'),
  dbConnectionUtilization: def('db_connection_utilization_percent', 'gauge', 'Database connections in use as a share of the pool, 0-100.'),
  currentReplicas: def('current_replicas', 'gauge', 'Observed replicas (or pool size for db_connections) of each resource.', ['resource']),
  recommendedReplicas: def('recommended_replicas', 'gauge', 'Replicas (pool size for db_connections) Foresight recommends for each resource now.', ['resource']),
  decisionConfidence: def('foresight_decision_confidence_ratio', 'gauge', 'Confidence of the current recommendation per resource, 0-1.', ['resource']),
  optimizerRecommendedReplicas: def(
    'foresight_optimizer_recommended_replicas',
    'gauge',
    'Replicas the Random Forest resource optimizer learned the current load needs, per queue-consuming resource with a trained model.',
    ['resource'],
  ),
  optimizerConfidence: def(
    'foresight_optimizer_confidence_ratio',
    'gauge',
    'Confidence of the resource optimizer recommendation, 0-1; decisions read it only at or above scaling.predictionConfidenceThreshold.',
    ['resource'],
  ),
  scalingActions: def('scaling_actions_total', 'counter', 'Recommendations that changed the replica count, by resource and direction.', ['resource', 'direction']),
  decisionTime: def('scaling_decision_time_seconds', 'histogram', 'Time to evaluate rules and decide for all resources in one cycle, in seconds.'),
  predictionAccuracy: def(
    'scaling_prediction_accuracy_percent',
    'gauge',
    "Prediction accuracy of matured forecasts over the trailing window, 0-100: 100 × max(0, 1 − Σ|actual − forecast| / Σ max(|actual|, s)), s the series' in-sample seasonal-naive MAE (docs/forecasting.md).",
    ['series', 'horizon'],
  ),
  anomalyScore: def('anomaly_score', 'gauge', 'Anomaly score in [0, 1] of each monitored metric (queue depth per queue).', ['metric', 'queue']),
  anomaliesDetected: def('resource_anomalies_detected_total', 'counter', 'Anomalies detected, by metric and severity (one per metric and cycle while it lasts).', ['metric', 'severity']),
  anomaliesCritical: def('resource_anomalies_critical', 'gauge', 'Critical anomalies in the latest cycle.'),
  forecast: def('foresight_forecast', 'summary', 'Forecast of an input series at the horizon, by quantile (0.5 = point forecast).', ['series', 'horizon', 'quantile']),
  forecastModel: def(
    'foresight_forecast_model_info',
    'gauge',
    'The model that made the published forecast of a series (1): selected is the model or combination that won, why the reason code (lowest_validation_mae, configured, fallback, learned_beats_baseline, sanity_fallback), runner_up the next best on validation; fallback says why a simpler model stood in.',
    ['series', 'model', 'fallback', 'selected', 'why', 'runner_up'],
  ),
  backtestMase: def('foresight_forecast_backtest_mase', 'gauge', 'Backtest mean absolute scaled error per model and series (below 1 beats seasonal naive).', ['series', 'model']),
  backtestAccuracy: def(
    'foresight_forecast_backtest_accuracy_percent',
    'gauge',
    'Backtest prediction accuracy per model and series, 0-100: the measure of scaling_prediction_accuracy_percent on the newest 30 % of the history.',
    ['series', 'model'],
  ),
  backtestWape: def('foresight_forecast_backtest_wape_ratio', 'gauge', 'Backtest weighted absolute percentage error per model and series, as a ratio.', ['series', 'model']),
  backtestCoverage: def('foresight_forecast_backtest_coverage_ratio', 'gauge', 'Backtest share of actual values inside the p10-p90 band per model and series (0.8 is ideal).', ['series', 'model']),
  buildInfo: def('foresight_build_info', 'gauge', 'Build information (always 1).', ['version', 'revision', 'nodejs_version']),
  sourceQueryDuration: def('foresight_source_query_duration_seconds', 'histogram', 'Duration of queries to the input source, in seconds.', ['kind', 'outcome']),
  sourceProblems: def('foresight_source_problems_total', 'counter', 'Inputs that gave no usable value, by reason (counted and skipped).', ['reason']),
  sourceRejectedSamples: def(
    'foresight_source_rejected_samples_total',
    'counter',
    'Samples refused before they reached the history models fit on, by input and reason (not_finite, out_of_domain, implausible_jump).',
    ['input', 'reason'],
  ),
  forecastRejected: def('foresight_forecast_rejected_total', 'counter', 'Model forecasts replaced by the fallback by the forecast sanity check, by reason (not_finite, implausible).', ['reason']),
  sourceUp: def('foresight_source_up', 'gauge', '1 when the latest cycle could read the input source, else 0 (unreachable, or every read failed).'),
  sourceInputUp: def('foresight_source_input_up', 'gauge', 'Per input of the latest snapshot: 1 when it gave a usable value, 0 when it had a problem (see foresight_source_problems_total).', [
    'input',
  ]),
  snapshotAge: def('foresight_snapshot_age_seconds', 'gauge', 'Age of the snapshot every answer is served from, in seconds.'),
  snapshotStale: def('foresight_snapshot_stale', 'gauge', '1 when the snapshot is older than snapshot.maxAge (the last cycles failed), else 0.'),
  snapshotTimestamp: def('foresight_snapshot_timestamp_seconds', 'gauge', 'Unix time the current snapshot was completed.'),
  cycleDuration: def('foresight_reconcile_duration_seconds', 'histogram', 'Duration of one reconcile cycle, in seconds.', ['outcome']),
  cycles: def('foresight_reconcile_cycles_total', 'counter', 'Reconcile cycles by outcome.', ['outcome']),
  lastSuccess: def('foresight_reconcile_last_success_timestamp_seconds', 'gauge', 'Unix time of the last successful reconcile cycle.'),
  modelFitDuration: def('foresight_model_fit_duration_seconds', 'histogram', 'Time to fit one model on one series, in seconds.', ['model']),
  configReloadSuccessful: def('foresight_config_last_reload_successful', 'gauge', '1 when the last configuration (re)load succeeded, 0 when it was refused and the previous one kept running.'),
  rulesReloadSuccessful: def(
    'foresight_scaling_rules_last_reload_successful',
    'gauge',
    '1 when the scaling rules of the current configuration compiled, 0 when they were refused and the previous rules keep deciding.',
  ),
  configReloadTimestamp: def('foresight_config_last_reload_success_timestamp_seconds', 'gauge', 'Unix time of the last successful configuration load.'),
  kedaRequests: def(
    'foresight_keda_requests_total',
    'counter',
    'KEDA requests answered, by surface (metrics_api, grpc), method (metrics, IsActive, StreamIsActive, GetMetricSpec, GetMetrics) and outcome (ok, invalid_argument, not_found, unavailable, permission_denied).',
    ['surface', 'method', 'outcome'],
  ),
  kedaPushStreams: def('foresight_keda_push_streams', 'gauge', 'Open StreamIsActive streams of KEDA external-push triggers.'),
  kedaPushMessages: def('foresight_keda_push_messages_total', 'counter', 'IsActive messages pushed on external-push streams, by the activity they announce (true wakes a workload).', ['active']),
  actuationPatches: def(
    'foresight_actuation_patches_total',
    'counter',
    'Patches of a scale subresource or the pool ConfigMap by resource and outcome (applied, dry_run, failed, skipped_not_leader).',
    ['resource', 'outcome'],
  ),
  leader: def('foresight_leader', 'gauge', '1 when this replica holds the actuation Lease, else 0.'),
  tfjsTensors: def(
    'foresight_tfjs_tensors',
    'gauge',
    'Tensors held by TensorFlow.js (tf.memory().numTensors) in the service process and in the model process (as of its last answer); a count that grows from cycle to cycle is a leak.',
    ['process'],
  ),
  modelTrainedTimestamp: def('foresight_model_trained_timestamp_seconds', 'gauge', 'Unix time the serving learned model of a series was trained.', ['series', 'model']),
  modelTrainingDuration: def('foresight_model_training_duration_seconds', 'histogram', 'Wall time of one learned-model training run (in a low-priority child process), in seconds.', ['model']),
  modelTrainingFailures: def('foresight_model_training_failures_total', 'counter', 'Training runs that produced no model, and stored models that could not be loaded, by model and reason.', [
    'model',
    'reason',
  ]),
  externalMetricsRequests: def(
    'foresight_external_metrics_requests_total',
    'counter',
    'Requests to the external-metrics API by metric (a served metric name, "discovery" or "other") and HTTP status code.',
    ['metric', 'code'],
  ),
  externalMetricsRequestDuration: def('foresight_external_metrics_request_duration_seconds', 'histogram', 'Time to answer an external-metrics API request (authentication included), in seconds.', [
    'metric',
  ]),
  externalMetricsFreshness: def('foresight_external_metrics_freshness_seconds', 'histogram', 'Age of the snapshot behind each served external metric value at the time it was served, in seconds.', [
    'metric',
  ]),
  tlsCertificateExpiry: def(
    'foresight_tls_certificate_expiry_timestamp_seconds',
    'gauge',
    'Unix time (notAfter) at which a certificate in use by a TLS server (external_metrics, keda_grpc) expires: kind serving is the leaf it serves, client_ca and requestheader_client_ca the earliest-expiring CA that client or front-proxy certificates must chain to. Absent while the server is off or plaintext.',
    ['server', 'kind'],
  ),
  tlsReloads: def(
    'foresight_tls_reloads_total',
    'counter',
    'Checks of the certificate and CA files of a TLS server, by outcome: changed (new material served), unchanged, failed (refused; the previous material keeps serving).',
    ['server', 'outcome'],
  ),
} as const satisfies Record<string, MetricDefinition>;

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
        for (const [quantile, field] of quantiles) setServable(g, { queue: q.queue, horizon: formatDuration(f.horizonSeconds), quantile }, f.input, f[field] as number);
      }
    }
  });
  // Thresholds come from the configuration, so they show even before the first cycle.
  gauge(c.queueDepthThreshold, (g) => {
    for (const q of deps.config().queues) g.set({ queue: q.name }, q.threshold);
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
          const labels = value.input.kind === 'queue' ? { queue: value.input.queue, ...mapping.labels } : { ...mapping.labels };
          setServable(g, labels, value.input, value.value);
        }
      }),
    );
  }
  fromSnapshot(c.currentReplicas, (g, s) => {
    for (const value of s.inputs) if (value.input.kind === 'replicas') g.set({ resource: value.input.resource }, value.value);
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
    for (const d of s.decisions) g.set({ resource: d.resource }, d.recommendedReplicas);
  });
  fromSnapshot(c.decisionConfidence, (g, s) => {
    for (const d of s.decisions) g.set({ resource: d.resource }, d.confidence);
  });
  fromSnapshot(c.optimizerRecommendedReplicas, (g, s) => {
    for (const o of s.optimizer ?? []) g.set({ resource: o.resource }, o.recommendedReplicas);
  });
  fromSnapshot(c.optimizerConfidence, (g, s) => {
    for (const o of s.optimizer ?? []) g.set({ resource: o.resource }, o.confidence);
  });
  fromSnapshot(c.anomalyScore, (g, s) => {
    for (const a of s.anomalies) g.set({ metric: a.metric, queue: a.queue ?? '' }, a.score);
  });
  fromSnapshot(c.predictionAccuracy, (g, s) => {
    for (const m of s.maturedAccuracy) {
      if (Number.isFinite(m.accuracyPercent)) g.set({ series: m.seriesKey, horizon: formatDuration(m.horizonSeconds) }, m.accuracyPercent);
    }
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

/** The TLS servers whose certificates are exported (the `server` label). */
export type TlsServerName = 'external_metrics' | 'keda_grpc';

/** What one check of a TLS server's certificate files found (the `outcome` label). */
export type TlsReloadOutcome = 'changed' | 'unchanged' | 'failed';

/** The certificates a TLS server uses at one point in time. An empty CA list exports nothing for its kind. */
export interface TlsCertificatesInUse {
  /** The leaf certificate served to clients. */
  readonly serving: X509Certificate;
  /** CAs that client certificates must chain to (mutual TLS, or kube-apiserver's client-ca-file). */
  readonly clientCAs: readonly X509Certificate[];
  /** CAs of the front proxy (the kube-apiserver aggregator), external-metrics only. */
  readonly requestHeaderClientCAs?: readonly X509Certificate[];
}

/** What the TLS servers report about their certificates. Every method is cheap and never throws. */
export interface TlsMetrics {
  /** The server listens with these certificates: sets its expiry gauges and starts its reload counters at 0. */
  started(server: TlsServerName, certificates: TlsCertificatesInUse): void;
  /** A check of the files found nothing new, or was refused (the gauges keep the material still served). */
  reloaded(server: TlsServerName, outcome: 'unchanged' | 'failed'): void;
  /** A check found new material, now served: the gauges follow it. */
  reloaded(server: TlsServerName, outcome: 'changed', certificates: TlsCertificatesInUse): void;
  /** The server stopped: its expiry gauges go away (the counters stay, as counters do). */
  stopped(server: TlsServerName): void;
}

/** TlsMetrics that record nothing (tests, servers built without a registry). */
export const noTlsMetrics: TlsMetrics = { started() {}, reloaded() {}, stopped() {} };

/** Unix seconds of the earliest notAfter among `certificates`, or undefined when there is none. */
export function earliestExpirySeconds(certificates: readonly X509Certificate[]): number | undefined {
  const expiries = certificates.map((c) => Date.parse(c.validTo) / 1000).filter(Number.isFinite);
  return expiries.length === 0 ? undefined : Math.min(...expiries);
}

/**
 * Registers `foresight_tls_certificate_expiry_timestamp_seconds` and `foresight_tls_reloads_total`
 * on `registry`, for both TLS servers: build it once per registry and give it to each. A server
 * that is off or plaintext never calls it, so it has no series at all (an alert on the expiry
 * cannot fire for a certificate that is not served).
 */
export function createTlsMetrics(registry: Registry): TlsMetrics {
  const c = metricCatalog;
  const registers = [registry];
  const expiry = new Gauge({ name: c.tlsCertificateExpiry.name, help: c.tlsCertificateExpiry.help, labelNames: c.tlsCertificateExpiry.labelNames, registers });
  const reloads = new Counter({ name: c.tlsReloads.name, help: c.tlsReloads.help, labelNames: c.tlsReloads.labelNames, registers });
  const show = (server: TlsServerName, certificates: TlsCertificatesInUse): void => {
    const kinds = [
      ['serving', [certificates.serving]],
      ['client_ca', certificates.clientCAs],
      ['requestheader_client_ca', certificates.requestHeaderClientCAs ?? []],
    ] as const;
    for (const [kind, list] of kinds) {
      const seconds = earliestExpirySeconds(list);
      // A CA removed by a reload must not leave its old expiry behind.
      if (seconds === undefined) expiry.remove({ server, kind });
      else expiry.set({ server, kind }, seconds);
    }
  };
  return {
    started(server, certificates) {
      // Every outcome starts at 0, so that increase() sees the first failure.
      for (const outcome of ['changed', 'unchanged', 'failed'] satisfies TlsReloadOutcome[]) reloads.inc({ server, outcome }, 0);
      show(server, certificates);
    },
    reloaded(server: TlsServerName, outcome: TlsReloadOutcome, certificates?: TlsCertificatesInUse) {
      reloads.inc({ server, outcome });
      if (certificates !== undefined) show(server, certificates);
    },
    stopped(server) {
      for (const kind of ['serving', 'client_ca', 'requestheader_client_ca']) expiry.remove({ server, kind });
    },
  };
}
