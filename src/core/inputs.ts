/**
 * The vocabulary of what Foresight reads: every input series is one of these, whatever source
 * (Prometheus or a replayed trace) provides it. Names carry their units.
 */

/** Per-queue measurements. */
export const queueMetrics = ['depth', 'enqueue_rate_per_second', 'dequeue_rate_per_second', 'wait_avg_seconds', 'wait_max_seconds', 'consumers', 'failed_messages'] as const;
export type QueueMetric = (typeof queueMetrics)[number];

/** Node-level measurements (node_exporter by default). */
export const systemMetrics = ['cpu_percent', 'memory_percent', 'disk_io_bytes_per_second', 'network_io_bytes_per_second', 'load1', 'load5', 'load15'] as const;
export type SystemMetric = (typeof systemMetrics)[number];

/** Service-level measurements. */
export const performanceMetrics = ['response_time_p95_seconds', 'error_rate_percent', 'db_connection_utilization_percent'] as const;
export type PerformanceMetric = (typeof performanceMetrics)[number];

/** The five resources Foresight recommends replicas (or a pool size) for. */
export const resources = ['worker_processes', 'api_instances', 'batch_processors', 'ml_workers', 'db_connections'] as const;
export type Resource = (typeof resources)[number];

/** One input series, identified independently of how it is queried. */
export type InputRef =
  | { readonly kind: 'queue'; readonly queue: string; readonly metric: QueueMetric }
  | { readonly kind: 'system'; readonly metric: SystemMetric }
  | { readonly kind: 'performance'; readonly metric: PerformanceMetric }
  | { readonly kind: 'replicas'; readonly resource: Resource };

/** A stable string key for an input: "queue/batch_processing/depth", "system/cpu_percent", "replicas/ml_workers". */
export function inputKey(ref: InputRef): string {
  switch (ref.kind) {
    case 'queue':
      return `queue/${ref.queue}/${ref.metric}`;
    case 'system':
    case 'performance':
      return `${ref.kind}/${ref.metric}`;
    case 'replicas':
      return `replicas/${ref.resource}`;
  }
}

/** Every input Foresight reads for the given queues. */
export function allInputs(queues: readonly string[]): InputRef[] {
  return [
    ...queues.flatMap((queue) => queueMetrics.map((metric): InputRef => ({ kind: 'queue', queue, metric }))),
    ...systemMetrics.map((metric): InputRef => ({ kind: 'system', metric })),
    ...performanceMetrics.map((metric): InputRef => ({ kind: 'performance', metric })),
    ...resources.map((resource): InputRef => ({ kind: 'replicas', resource })),
  ];
}
