// Module source: getting input series in (Prometheus, replayed traces).
// Owns: the MetricSource port, its implementations, PromQL templating and the bundled demo traces.
// May import: core only.
export type * from './metric-source.js';
export * from './promql.js';
export * from './prometheus.js';
export type { QueryEvent } from './prometheus-dispatch.js';
export type { PrometheusAuth } from './prometheus-http.js';
export { chunkRange, type PrometheusQueries, type WorkloadQueries } from './prometheus-query-plan.js';
export * from './replay.js';
export * from './published-series.js';
