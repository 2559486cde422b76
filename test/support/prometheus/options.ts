// How a test Prometheus is started: the options, their defaults, and the switch that keeps temp dirs.
import type { BackfillSeries } from '../openmetrics.js';

/** A static scrape job. */
export interface ScrapeJob {
  /** `job_name`; also the `job` label of the scraped series. */
  readonly job: string;
  /** `host:port` targets, e.g. `127.0.0.1:40123`. */
  readonly targets: readonly string[];
  /** Defaults to the global scrape interval ({@link StartPrometheusOptions.scrapeIntervalSeconds}). */
  readonly scrapeIntervalSeconds?: number;
  /** Defaults to `/metrics`. */
  readonly metricsPath?: string;
}

/** How to start a test Prometheus. Everything is optional: `startPrometheus()` gives an empty server. */
export interface StartPrometheusOptions {
  /** History written as OpenMetrics and loaded with promtool into the fresh data dir before start. */
  readonly backfill?: readonly BackfillSeries[];
  /** Static scrape jobs. */
  readonly scrapeTargets?: readonly ScrapeJob[];
  /** Rule files; relative paths are resolved against the current directory (not the temp config dir). */
  readonly ruleFiles?: readonly string[];
  /** Alertmanager base URL, e.g. `http://127.0.0.1:40200`. */
  readonly alertmanagerUrl?: string;
  /** Rule evaluation interval. Default 5 s: Prometheus' own 1 m default would make alert tests crawl. */
  readonly evaluationIntervalSeconds?: number;
  /** Global scrape interval. Default 5 s, for the same reason. */
  readonly scrapeIntervalSeconds?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 10 s. */
  readonly stopTimeoutMs?: number;
  /** Per-request timeout of the query helpers: only a bound on a hang. Default 120 s. */
  readonly requestTimeoutMs?: number;
  /** How long promtool may take to load the backfill. Default 300 s (benchmarks with millions of samples need more). */
  readonly backfillTimeoutMs?: number;
  /**
   * A TSDB directory of the caller's to serve (and backfill into) instead of a fresh one in the temp
   * dir; it is left in place by `dispose()`. For benchmarks that reuse an hour-long backfill.
   */
  readonly dataDir?: string;
  /** Extra command-line flags, appended last (e.g. `--enable-feature=...`). */
  readonly extraArgs?: readonly string[];
}

export const DEFAULTS = {
  evaluationIntervalSeconds: 5,
  scrapeIntervalSeconds: 5,
  stopTimeoutMs: 10_000,
  // Bounds on a hang only (docs/testing.md): never reached by a test that works, even on busy cores.
  requestTimeoutMs: 120_000,
  waitForTimeoutMs: 120_000,
} as const;

/** Set `FORESIGHT_KEEP_TEST_DIRS=1` to keep temp dirs (config, log, TSDB) for debugging. */
export function keepDirs(): boolean {
  const value = process.env['FORESIGHT_KEEP_TEST_DIRS'] ?? '';
  return value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}
