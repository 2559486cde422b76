// The metric catalog: the published names, types, help and labels (docs/metrics.md is its mirror).
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
    'namespace',
    'workload',
  ]),
  queueDepthCurrent: def('queue_depth_current', 'gauge', 'Observed queue depth (messages) in the latest cycle.', ['queue', 'namespace', 'workload']),
  queueDepthThreshold: def('queue_depth_threshold', 'gauge', 'Configured queue depth (messages) above which the queue counts as overloaded.', ['queue', 'namespace', 'workload']),
  queueEnqueueRate: def('queue_enqueue_rate_per_second', 'gauge', 'Messages added to the queue per second.', ['queue', 'namespace', 'workload']),
  queueDequeueRate: def('queue_dequeue_rate_per_second', 'gauge', 'Messages taken from the queue per second.', ['queue', 'namespace', 'workload']),
  queueWaitAvg: def('queue_wait_time_avg_seconds', 'gauge', 'Average time a message waits in the queue, in seconds.', ['queue', 'namespace', 'workload']),
  queueWaitMax: def('queue_wait_time_max_seconds', 'gauge', 'Age of the oldest waiting message, in seconds.', ['queue', 'namespace', 'workload']),
  queueConsumers: def('queue_consumers', 'gauge', 'Consumers attached to the queue.', ['queue', 'namespace', 'workload']),
  queueFailedMessages: def('queue_failed_messages', 'gauge', 'Messages that failed in the last 5 minutes.', ['queue', 'namespace', 'workload']),
  cpuUtilization: def('cpu_utilization_percent', 'gauge', 'CPU utilisation of the nodes, 0-100.'),
  memoryUtilization: def('memory_utilization_percent', 'gauge', 'Memory utilisation of the nodes, 0-100.'),
  diskIo: def('disk_io_bytes_per_second', 'gauge', 'Disk reads plus writes, bytes per second.'),
  networkIo: def('network_io_bytes_per_second', 'gauge', 'Network receive plus transmit, bytes per second.'),
  loadAverage: def('load_average', 'gauge', 'Node load average over the window.', ['window']),
  responseTimeP95: def('response_time_p95_seconds', 'gauge', '95th percentile response time, in seconds.'),
  errorRate: def('error_rate_percent', 'gauge', 'Share of requests that failed, 0-100.'),
  dbConnectionUtilization: def('db_connection_utilization_percent', 'gauge', 'Database connections in use as a share of the pool, 0-100.'),
  currentReplicas: def('current_replicas', 'gauge', 'Observed replicas (or pool size for db_connections) of each resource.', ['resource']),
  recommendedReplicas: def('recommended_replicas', 'gauge', 'Replicas (pool size for db_connections) Foresight recommends for each resource now.', ['resource', 'namespace', 'workload']),
  decisionConfidence: def('foresight_decision_confidence_ratio', 'gauge', 'Confidence of the current recommendation per resource, 0-1.', ['resource', 'namespace', 'workload']),
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
  anomalyScore: def('anomaly_score', 'gauge', "Anomaly score in [0, 1] of each monitored metric (queue depth per queue; a workload's own inputs per workload).", [
    'metric',
    'queue',
    'namespace',
    'workload',
  ]),
  anomaliesDetected: def('resource_anomalies_detected_total', 'counter', 'Anomalies detected, by metric and severity (one per metric and cycle while it lasts).', ['metric', 'severity']),
  anomaliesCritical: def('resource_anomalies_critical', 'gauge', 'Critical anomalies in the latest cycle.'),
  forecast: def('foresight_forecast', 'summary', 'Forecast of an input series at the horizon, by quantile (0.5 = point forecast).', ['series', 'horizon', 'quantile']),
  forecastModel: def(
    'foresight_forecast_model_info',
    'gauge',
    'The model that made the published forecast of a series (1): selected is the model or combination that won, why the reason code (lowest_validation_mae, configured, fallback, learned_beats_baseline, sanity_fallback, first_pass), runner_up the next best on validation; fallback says why a simpler model stood in.',
    ['series', 'model', 'fallback', 'selected', 'why', 'runner_up'],
  ),
  backtestMase: def('foresight_forecast_backtest_mase', 'gauge', 'Backtest mean absolute scaled error of the model serving each series and of its runner-up (below 1 beats seasonal naive).', [
    'series',
    'model',
  ]),
  backtestAccuracy: def(
    'foresight_forecast_backtest_accuracy_percent',
    'gauge',
    'Backtest prediction accuracy of the model serving each series and of its runner-up, 0-100: the measure of scaling_prediction_accuracy_percent on the newest 30 % of the history.',
    ['series', 'model'],
  ),
  backtestWape: def('foresight_forecast_backtest_wape_ratio', 'gauge', 'Backtest weighted absolute percentage error of the model serving each series and of its runner-up, as a ratio.', [
    'series',
    'model',
  ]),
  backtestCoverage: def(
    'foresight_forecast_backtest_coverage_ratio',
    'gauge',
    'Backtest share of actual values inside the p10-p90 band of the model serving each series and of its runner-up (0.8 is ideal).',
    ['series', 'model'],
  ),
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
  shardWorkloads: def('foresight_shard_workloads', 'gauge', 'Workloads this replica forecasts and decides (its shard), with its shard index and the replica count; only when sharding.replicas > 1.', [
    'shard',
    'replicas',
  ]),
  shardReplicas: def(
    'foresight_shard_replicas',
    'gauge',
    'The configured number of shards (sharding.replicas); only when above 1. Fewer foresight_shard_workloads series than this means a shard has no running replica.',
  ),
  shardQueues: def('foresight_shard_queues', 'gauge', "Queues (listed and discovered) of the workloads in this replica's shard."),
  shardReadBackSeries: def('foresight_shard_read_back_series', 'gauge', "Values of the other shards read back from the shared store and served by this replica's external-metrics API."),
  shardReadBackAge: def(
    'foresight_shard_read_back_age_seconds',
    'gauge',
    'Age of the oldest value read back from the other shards (now minus its scrape time): one scrape interval plus one cycle when all is well; it grows while another shard is down.',
  ),
  shardReadBackFailures: def(
    'foresight_shard_read_back_failures_total',
    'counter',
    'Cycles in which the shared store could not be read (the values read before are served while younger than sharding.readBack.maxAge).',
  ),
  shardReadBackRejected: def(
    'foresight_shard_read_back_rejected_total',
    'counter',
    'Values read back that were refused, by reason (unknown_workload, bad_labels, not_servable, inconsistent_band, incomplete, out_of_range, stale).',
    ['reason'],
  ),
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
  modelRefitsQueued: def(
    'foresight_model_refits_queued',
    'gauge',
    'Series whose due refit waits in the model processes (as of their last answers). Refits run in the background, a cycle never waits for them; a queue that stays long means the refits need more CPU than forecast.refitInterval and forecast.selectionInterval allow.',
  ),
  modelProcessCpu: def(
    'foresight_model_process_cpu_seconds_total',
    'counter',
    'CPU seconds the model processes spent (as of their last answers): work="calls" answering the cycles (forecasts, backtests, the optimizer), work="refits" refitting in the background.',
    ['work'],
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
    'Unix time (notAfter) at which a certificate in use by a TLS server (external_metrics, keda_grpc, http) expires: kind serving is the leaf it serves, client_ca and requestheader_client_ca the earliest-expiring CA that client or front-proxy certificates must chain to. Absent while the server is off or plaintext.',
    ['server', 'kind'],
  ),
  discoveredQueues: def(
    'foresight_discovered_queues',
    'gauge',
    "Queues found by a workload's discovery query, by state: active (returned this cycle) or stale (vanished, kept until discovery.staleAfter).",
    ['namespace', 'workload', 'state'],
  ),
  historyBackfillPending: def(
    'foresight_history_backfill_pending_series',
    'gauge',
    'Series whose history window (forecast.history) is not all read yet: their first read covered the recent past a forecast needs, and the older part is read in slices, one per cycle. 0 once every window is complete.',
  ),
  discoveryLimited: def('foresight_discovery_limited_queues', 'gauge', "New queues a workload's discovery query returned beyond discovery.limit and left out (0 when within the limit).", [
    'namespace',
    'workload',
  ]),
  tlsReloads: def(
    'foresight_tls_reloads_total',
    'counter',
    'Checks of the certificate and CA files of a TLS server, by outcome: changed (new material served), unchanged, failed (refused; the previous material keeps serving).',
    ['server', 'outcome'],
  ),
} as const satisfies Record<string, MetricDefinition>;
