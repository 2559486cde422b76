/**
 * A real Prometheus (the Debian 2.42 binary) for integration tests, on a free 127.0.0.1 port, with
 * history backfilled by promtool before it starts.
 *
 * Every instance gets its own temp dir (config, log, TSDB), a long retention (retention is measured
 * from the newest *block*, so backfilled history would otherwise be deleted at startup), and is
 * killed when the test file ends, fails, or the worker process exits. See docs/testing.md.
 *
 * The parts, one job each, in prometheus/: start.ts (startPrometheus, usePrometheus),
 * instance.ts (the process), http-api.ts (queries, targets, reload), backfill.ts (promtool),
 * config-file.ts (prometheus.yml), registry.ts (no process outlives the worker),
 * options.ts, errors.ts.
 */
export type { BackfillSeries } from './openmetrics.js';
export { backfillTsdb } from './prometheus/backfill.js';
export { renderConfig } from './prometheus/config-file.js';
export { PrometheusError, PrometheusQueryError, PrometheusUnreachableError, StartupError } from './prometheus/errors.js';
export { type InstantSample, MAX_POINTS_PER_SERIES, type RangeSeries, type TargetStatus } from './prometheus/http-api.js';
export type { PrometheusHandle } from './prometheus/instance.js';
export type { ScrapeJob, StartPrometheusOptions } from './prometheus/options.js';
export { stopAllPrometheus } from './prometheus/registry.js';
export { startPrometheus, usePrometheus } from './prometheus/start.js';
