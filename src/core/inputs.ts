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

/**
 * A workload's own measurements (its pods' CPU and memory, its latency and error rate, its
 * replicas), read with the workload's templates instead of the cluster-wide ones.
 */
export const workloadMetrics = ['cpu_percent', 'memory_percent', 'response_time_p95_seconds', 'error_rate_percent', 'replicas'] as const;
export type WorkloadMetric = (typeof workloadMetrics)[number];

/** A configured workload: a Deployment, StatefulSet or ScaledObject target in a namespace. */
export interface WorkloadRef {
  readonly namespace: string;
  readonly workload: string;
}

/** One input series, identified independently of how it is queried. */
export type InputRef =
  /** A queue; `namespace` and `workload` are set when the queue belongs to a configured workload. */
  | { readonly kind: 'queue'; readonly queue: string; readonly metric: QueueMetric; readonly namespace?: string; readonly workload?: string }
  | { readonly kind: 'workload'; readonly namespace: string; readonly workload: string; readonly metric: WorkloadMetric }
  | { readonly kind: 'system'; readonly metric: SystemMetric }
  | { readonly kind: 'performance'; readonly metric: PerformanceMetric }
  | { readonly kind: 'replicas'; readonly resource: Resource };

/** The workload an input belongs to (a workload's queue or its own input); undefined for the cluster-wide inputs. */
export function workloadOfInput(ref: InputRef): WorkloadRef | undefined {
  if (ref.kind === 'workload') return { namespace: ref.namespace, workload: ref.workload };
  return ref.kind === 'queue' && ref.namespace !== undefined && ref.workload !== undefined ? { namespace: ref.namespace, workload: ref.workload } : undefined;
}

/**
 * The identity of a queue among all queues: its name for the seed's cluster-wide queues,
 * "namespace/workload/name" for a workload's queue (two namespaces may both have an "orders" queue).
 */
export function queueId(ref: { readonly queue: string; readonly namespace?: string | undefined; readonly workload?: string | undefined }): string {
  return ref.namespace === undefined || ref.workload === undefined ? ref.queue : `${ref.namespace}/${ref.workload}/${ref.queue}`;
}

/**
 * A stable string key for an input: "queue/batch_processing/depth", "system/cpu_percent",
 * "replicas/ml_workers", "queue/shop/orders-worker/orders/depth", "workload/shop/api/cpu_percent".
 */
export function inputKey(ref: InputRef): string {
  switch (ref.kind) {
    case 'queue':
      return `queue/${queueId(ref)}/${ref.metric}`;
    case 'workload':
      return `workload/${ref.namespace}/${ref.workload}/${ref.metric}`;
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
