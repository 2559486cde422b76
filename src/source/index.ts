// Module source: getting input series in (Prometheus, replayed traces).
// Owns: the MetricSource port, its implementations and the bundled demo traces (PromQL templating is core's).
// May import: core only.
export type * from './metric-source.js';
// PromQL templating moved to core (the configuration checks templates with it); re-exported for existing importers.
export { compileTemplate, type CompiledTemplate, escapePromqlString, escapeRegex, type PlaceholderName, type PromqlQuote, renderTemplate, type TemplateVars } from '../core/index.js';
export * from './prometheus.js';
export type { QueryEvent } from './prometheus-dispatch.js';
export type { PrometheusAuth } from './prometheus-http.js';
export { chunkRange, type PrometheusQueries, type WorkloadQueries } from './prometheus-query-plan.js';
export * from './replay.js';
