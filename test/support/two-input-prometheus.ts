/**
 * A service configuration with two Prometheus inputs (one queue's depth, the nodes' CPU) and every
 * other query turned off, and a healthy fake-Prometheus handler for it: the smallest real service
 * the source-hardening tests (issue 10) drive against a fake Prometheus over HTTP.
 */
import { matrix, rangeGrid, type RecordedRequest, type Reply, vector } from '../unit/source/fake-prometheus.js';

/** A healthy Prometheus: every instant query answers 5, every range query a gentle wave. */
export function healthy(request: RecordedRequest): Reply {
  if (request.path === '/api/v1/query_range') return matrix([{ values: rangeGrid(request).map((t) => [t, String(50 + 10 * Math.sin(t / 3600))] as const) }]);
  return vector(Number(request.params.get('time')), [{ value: '5' }]);
}

const off = (keys: readonly string[]) => keys.map((k) => `    ${k}: ""`).join('\n');

/** The YAML: queue `orders` (depth `sum(depth{…})`) and `avg(cpu)`, 1 m grid, 3 h history, 15 m horizon, 15 s cycles. */
export function twoInputConfigYaml(options: {
  readonly prometheusUrl: string;
  readonly server: string;
  readonly prometheusExtra?: string;
  readonly extra?: string;
  readonly timeout?: string;
}): string {
  return `
server: ${options.server}
logLevel: silent
source: { type: prometheus, prometheus: { url: ${options.prometheusUrl}, timeout: ${options.timeout ?? '5s'}${options.prometheusExtra ?? ''} } }
queues: [{ name: orders, threshold: 100 }]
queries:
  queue:
    depth: 'sum(depth{queue="{{queue}}"})'
${off(['consumers', 'enqueue_rate_per_second', 'dequeue_rate_per_second', 'wait_avg_seconds', 'wait_max_seconds', 'failed_messages'])}
  system:
    cpu_percent: avg(cpu)
${off(['memory_percent', 'disk_io_bytes_per_second', 'network_io_bytes_per_second', 'load1', 'load5', 'load15'])}
  performance:
${off(['response_time_p95_seconds', 'error_rate_percent', 'db_connection_utilization_percent'])}
  replicas:
${off(['worker_processes', 'api_instances', 'batch_processors', 'ml_workers', 'db_connections'])}
forecast: { step: 1m, season: 1h, history: 3h, horizons: [15m] }
scaling: { monitoringInterval: 15s }
${options.extra ?? ''}
`;
}
