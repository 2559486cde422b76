import { Counter, Histogram, type Registry } from 'prom-client';
import { metricCatalog } from '../metric-catalog.js';
import { externalMetricNames } from './served-metrics.js';
import type { RequestMetricLabel } from './routes.js';

/** What the external-metrics server reports about the requests it answers. */
export interface ExternalMetricsInstruments {
  /** One request answered: its metric label, HTTP status code and duration. */
  observeRequest(metric: RequestMetricLabel, code: number, durationSeconds: number): void;
  /** A metric value served from a snapshot of this age. */
  observeFreshness(metric: RequestMetricLabel, ageSeconds: number): void;
}

/** Instruments that record nothing (tests, benchmarks of the bare path). */
export const noopExternalMetricsInstruments: ExternalMetricsInstruments = {
  observeRequest: () => undefined,
  observeFreshness: () => undefined,
};

/**
 * Registers `foresight_external_metrics_requests_total`, `..._request_duration_seconds` and
 * `..._freshness_seconds` (see the metric catalog) on `registry`. Labels are bounded: `metric` is a
 * served metric name, `discovery`, `health` or `other`, and `code` an HTTP status.
 */
export function createExternalMetricsInstruments(registry: Registry): ExternalMetricsInstruments {
  const c = metricCatalog;
  const registers = [registry];
  const requests = new Counter({ name: c.externalMetricsRequests.name, help: c.externalMetricsRequests.help, labelNames: c.externalMetricsRequests.labelNames, registers });
  const duration = new Histogram({
    name: c.externalMetricsRequestDuration.name,
    help: c.externalMetricsRequestDuration.help,
    labelNames: c.externalMetricsRequestDuration.labelNames,
    // The serving goal is p99 < 5 ms; buckets resolve around it.
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers,
  });
  const freshness = new Histogram({
    name: c.externalMetricsFreshness.name,
    help: c.externalMetricsFreshness.help,
    labelNames: c.externalMetricsFreshness.labelNames,
    // custom-metrics-apiserver's metric_freshness_seconds buckets: 1 × 1.364^n, 20 of them.
    buckets: Array.from({ length: 20 }, (_, n) => Number((1.364 ** n).toFixed(3))),
    registers,
  });
  // Known series start at zero, so that a rate() over them works from the first scrape.
  for (const metric of externalMetricNames) requests.inc({ metric, code: '200' }, 0);
  return {
    observeRequest(metric, code, durationSeconds) {
      requests.inc({ metric, code: String(code) });
      duration.observe({ metric }, durationSeconds);
    },
    observeFreshness(metric, ageSeconds) {
      freshness.observe({ metric }, ageSeconds);
    },
  };
}
