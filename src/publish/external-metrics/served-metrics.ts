// What the external-metrics API serves: the metric names, the labels their values carry and the
// quantiles a forecast is served at (docs/external-metrics.md).

/** The metric names served, in discovery order. */
export const externalMetricNames = ['predicted_queue_depth', 'queue_depth', 'recommended_replicas', 'anomaly_score'] as const;

/** One of {@link externalMetricNames}. */
export type ExternalMetricName = (typeof externalMetricNames)[number];

/** True when `name` is a served metric. */
export function isExternalMetricName(name: string): name is ExternalMetricName {
  return (externalMetricNames as readonly string[]).includes(name);
}

/**
 * A served metric and the labels its values carry (the `ListAllExternalMetrics` of custom-metrics-apiserver);
 * `namespace` and `workload` only on the values of a configured workload.
 */
export interface ExternalMetricInfo {
  readonly metric: ExternalMetricName;
  readonly labels: readonly string[];
  readonly description: string;
}

/** Every served metric. */
export const externalMetricInfos: readonly ExternalMetricInfo[] = Object.freeze([
  {
    metric: 'predicted_queue_depth',
    labels: ['queue', 'horizon', 'quantile', 'namespace', 'workload'],
    description: 'Forecast queue depth (messages) at the horizon; quantile 0.5 is the point forecast, 0.1 and 0.9 bound the 80% band.',
  },
  { metric: 'queue_depth', labels: ['queue', 'namespace', 'workload'], description: 'Observed queue depth (messages).' },
  { metric: 'recommended_replicas', labels: ['resource', 'namespace', 'workload'], description: 'Replicas (pool size for db_connections) Foresight recommends now.' },
  { metric: 'anomaly_score', labels: ['metric', 'queue', 'namespace', 'workload'], description: 'Anomaly score in [0, 1] of a monitored metric (queue depth verdicts carry their queue).' },
]);

/** The quantiles a forecast is served at, with the snapshot field holding each. */
export const servedQuantiles = [
  ['0.1', 'p10'],
  ['0.5', 'value'],
  ['0.9', 'p90'],
] as const;

/** One of the served quantile label values. */
export type QuantileLabel = (typeof servedQuantiles)[number][0];
