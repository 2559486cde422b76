import type { performanceMetrics, queueMetrics, resources, systemMetrics } from '../core/index.js';

// The defaults that are tables rather than single values: the PromQL template of every input
// (exporters' metric names) and the design's five queues.

export const queueQueryDefaults: Record<(typeof queueMetrics)[number], string> = {
  depth: 'sum(rabbitmq_queue_messages_ready{queue="{{queue}}"})',
  enqueue_rate_per_second: 'sum(rate(rabbitmq_queue_messages_published_total{queue="{{queue}}"}[5m]))',
  dequeue_rate_per_second: 'sum(rate(rabbitmq_queue_messages_delivered_total{queue="{{queue}}"}[5m]))',
  wait_avg_seconds: 'sum(rate(queue_wait_seconds_sum{queue="{{queue}}"}[5m])) / sum(rate(queue_wait_seconds_count{queue="{{queue}}"}[5m]))',
  wait_max_seconds: 'time() - min(rabbitmq_queue_head_message_timestamp{queue="{{queue}}"})',
  consumers: 'sum(rabbitmq_queue_consumers{queue="{{queue}}"})',
  failed_messages: 'sum(increase(queue_failed_messages_total{queue="{{queue}}"}[5m]))',
};

export const systemQueryDefaults: Record<(typeof systemMetrics)[number], string> = {
  cpu_percent: '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[5m])))',
  memory_percent: '100 * (1 - sum(node_memory_MemAvailable_bytes) / sum(node_memory_MemTotal_bytes))',
  disk_io_bytes_per_second: 'sum(rate(node_disk_read_bytes_total[5m])) + sum(rate(node_disk_written_bytes_total[5m]))',
  network_io_bytes_per_second: 'sum(rate(node_network_receive_bytes_total{device!="lo"}[5m])) + sum(rate(node_network_transmit_bytes_total{device!="lo"}[5m]))',
  load1: 'avg(node_load1)',
  load5: 'avg(node_load5)',
  load15: 'avg(node_load15)',
};

export const performanceQueryDefaults: Record<(typeof performanceMetrics)[number], string> = {
  response_time_p95_seconds: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))',
  error_rate_percent: '100 * sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
  db_connection_utilization_percent: '100 * sum(db_connections_in_use) / sum(db_connection_pool_size)',
};

export const replicaQueryDefaults: Record<(typeof resources)[number], string> = {
  worker_processes: 'sum(kube_deployment_spec_replicas{deployment="worker"})',
  api_instances: 'sum(kube_deployment_spec_replicas{deployment="api"})',
  batch_processors: 'sum(kube_deployment_spec_replicas{deployment="batch-processor"})',
  ml_workers: 'sum(kube_deployment_spec_replicas{deployment="ml-worker"})',
  db_connections: 'max(db_connection_pool_size)',
};

/** The design's five queues, with thresholds taken from the resource triggers of DESIGN.md. */
export const defaultQueues = [
  { name: 'batch_processing', threshold: 5000, resource: 'batch_processors' },
  { name: 'ml_inference', threshold: 500, resource: 'ml_workers' },
  { name: 'validation', threshold: 1000, resource: 'worker_processes' },
  { name: 'failed_claims', threshold: 1000, resource: 'worker_processes' },
  { name: 'priority_claims', threshold: 1000, resource: 'worker_processes' },
] as const;
