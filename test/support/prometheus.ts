/**
 * A real Prometheus (the Debian 2.42 binary) for integration tests, on a free 127.0.0.1 port, with
 * history backfilled by promtool before it starts.
 *
 * Every instance gets its own temp dir (config, log, TSDB), a long retention (retention is measured
 * from the newest *block*, so backfilled history would otherwise be deleted at startup), and is
 * killed when the test file ends, fails, or the worker process exits. See docs/testing.md.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, fstatSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { stringify } from 'yaml';
import type { Sample } from '../../src/core/index.js';
import { assertBinary, findBinary } from './binaries.js';
import { writeOpenMetrics, type BackfillSeries, type OpenMetricsStats } from './openmetrics.js';
import { waitForLogLine } from './log-line.js';
import { getFreePort, LOOPBACK } from './ports.js';

export type { BackfillSeries } from './openmetrics.js';

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
  /** Extra command-line flags, appended last (e.g. `--enable-feature=...`). */
  readonly extraArgs?: readonly string[];
}

/** One element of an instant vector (or a scalar, with empty `metric`). */
export interface InstantSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly timestampMs: number;
  readonly value: number;
}

/** One series of a range query result. */
export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly samples: readonly Sample[];
}

/** One active scrape target as Prometheus reports it. */
export interface TargetStatus {
  readonly job: string;
  readonly scrapeUrl: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
  /** Time of the last scrape in ms; `undefined` before the first scrape. */
  readonly lastScrapeMs: number | undefined;
  readonly labels: Readonly<Record<string, string>>;
}

/** A running (or stopped, restartable) test Prometheus. */
export interface PrometheusHandle {
  /** `http://127.0.0.1:<port>`. Stays the same across {@link PrometheusHandle.restart}. */
  readonly url: string;
  readonly port: number;
  /** The TSDB directory. Survives `stop()`; removed by `dispose()`. */
  readonly dataDir: string;
  readonly configPath: string;
  /** Combined stdout/stderr of every run of this instance. */
  readonly logPath: string;
  /** Whether the process is currently running. */
  readonly running: boolean;
  /** Stops the process (SIGTERM, then SIGKILL after the stop timeout) and waits for it to exit. Keeps the data. */
  stop(): Promise<void>;
  /** Starts the process again (stopping it first if needed) on the same port and data dir; waits for ready. */
  restart(): Promise<void>;
  /** Stops the process and removes the temp dir. Idempotent; the handle is unusable afterwards. */
  dispose(): Promise<void>;
  /** Instant query, at `atMs` or at Prometheus' "now". Vector or scalar results only. */
  query(expr: string, atMs?: number): Promise<InstantSample[]>;
  /** Range query; `startMs`/`endMs` in ms, the step in seconds. Refuses more than 11,000 points per series up front. */
  queryRange(expr: string, startMs: number, endMs: number, stepSeconds: number): Promise<RangeSeries[]>;
  /**
   * Polls an instant query until `predicate` holds (returns that result) or `timeoutMs` passes
   * (throws with the last result; default 120 s, a bound on a hang, never a budget). Connection errors are retried (Prometheus may be restarting);
   * query errors such as a PromQL syntax error fail at once.
   */
  waitFor(expr: string, predicate: (result: InstantSample[]) => boolean, timeoutMs?: number): Promise<InstantSample[]>;
  /** The active scrape targets. */
  targets(): Promise<TargetStatus[]>;
  /** Re-reads the config and rule files (`POST /-/reload`). */
  reload(): Promise<void>;
  /** The last `lines` lines of the log, for failure messages. */
  logTail(lines?: number): string;
}

/** Any failure of the harness: startup, promtool, HTTP, or an error answer from Prometheus. */
export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
}

/** Query results Prometheus refused (bad PromQL, too many points...); retrying will not help. */
export class PrometheusQueryError extends PrometheusError {
  constructor(
    message: string,
    readonly errorType: string,
  ) {
    super(message);
  }
}

/** Prometheus' hard limit on points per series in one range query. */
export const MAX_POINTS_PER_SERIES = 11_000;

const DEFAULTS = {
  evaluationIntervalSeconds: 5,
  scrapeIntervalSeconds: 5,
  stopTimeoutMs: 10_000,
  // Bounds on a hang only (docs/testing.md): never reached by a test that works, even on busy cores.
  requestTimeoutMs: 120_000,
  waitForTimeoutMs: 120_000,
} as const;

/** What Prometheus logs once it serves queries; the harness waits for this line, not for a time. */
const READY_LINE = /msg="Server is ready to receive web requests\."/;
/** Poll period of waitFor: Prometheus' state changes on its own schedule (scrapes, evaluations), so this one wait polls. */
const WAIT_FOR_POLL_MS = 200;

/** A free port can be taken between probing and Prometheus binding it; try a few fresh ones. */
const PORT_ATTEMPTS = 3;

/** Set `FORESIGHT_KEEP_TEST_DIRS=1` to keep temp dirs (config, log, TSDB) for debugging. */
function keepDirs(): boolean {
  const value = process.env['FORESIGHT_KEEP_TEST_DIRS'] ?? '';
  return value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

// ---------------------------------------------------------------------------------------------
// Process registry: whatever happens to a test, no Prometheus outlives the worker that started it.
// ---------------------------------------------------------------------------------------------

/** Everything the synchronous exit hook needs to clean up one instance. */
interface Tracked {
  child: ChildProcess | undefined;
  readonly root: string;
  dispose(): Promise<void>;
}

const live = new Set<Tracked>();
let hooksInstalled = false;

/** Synchronous last-resort cleanup, for `process.on('exit')` where nothing async can run. */
function killAllSync(): void {
  for (const tracked of live) {
    const child = tracked.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (!keepDirs()) rmSync(tracked.root, { recursive: true, force: true });
  }
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllSync();
      // Re-raise for the default action, unless someone else (e.g. the test runner) handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/**
 * Disposes every Prometheus started by this worker. Safe to call from any `afterAll`; the exit hook
 * does the same synchronously if a test forgets.
 */
export async function stopAllPrometheus(): Promise<void> {
  await Promise.allSettled([...live].map((tracked) => tracked.dispose()));
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/** The last `lines` lines of a file from byte `from` on; reads at most the final 64 KiB. */
function readTail(path: string, lines: number, from = 0): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - 64 * 1024);
    const length = Math.max(0, size - start);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, start);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

function fileSize(path: string): number {
  try {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}

/**
 * Writes `series` as OpenMetrics into `workDir` and loads it into `dataDir` with
 * `promtool tsdb create-blocks-from openmetrics --max-block-duration=24h`. The hidden 24 h flag
 * makes ~10 blocks for a week instead of 85 two-hour blocks (0.5 s instead of 9 s). Run it only on a
 * fresh dir while Prometheus is stopped: a second import silently creates overlapping blocks, and a
 * running server does not see new blocks until it compacts.
 */
export async function backfillTsdb(dataDir: string, series: readonly BackfillSeries[], workDir: string, timeoutMs = 300_000): Promise<OpenMetricsStats> {
  const promtool = assertBinary('promtool');
  const input = join(workDir, 'backfill.om');
  const stats = await writeOpenMetrics(input, series);
  await new Promise<void>((done, fail) => {
    execFile(
      promtool,
      ['tsdb', 'create-blocks-from', 'openmetrics', '--max-block-duration=24h', '--quiet', input, dataDir],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) {
          done();
          return;
        }
        const output = `${stdout}${stderr}`.trim().split('\n').slice(-20).join('\n');
        fail(new PrometheusError(`promtool backfill of ${input} failed (${error.message.split('\n')[0]}):\n${output}`));
      },
    );
  });
  // The .om file can be tens of MB; the blocks are all we need from here on.
  if (!keepDirs()) await rm(input, { force: true });
  return stats;
}

/** host:port, scheme and path prefix of an Alertmanager URL, for `alerting.alertmanagers`. */
function alertmanagerConfig(url: string): Record<string, unknown> {
  const parsed = new URL(url);
  const config: Record<string, unknown> = {
    scheme: parsed.protocol.replace(/:$/, ''),
    static_configs: [{ targets: [parsed.host] }],
  };
  if (parsed.pathname !== '/' && parsed.pathname !== '') config['path_prefix'] = parsed.pathname;
  return config;
}

/** The prometheus.yml for these options. Rule paths are made absolute: Prometheus resolves them against the config's dir. */
export function renderConfig(options: StartPrometheusOptions): string {
  const config: Record<string, unknown> = {
    global: {
      scrape_interval: `${options.scrapeIntervalSeconds ?? DEFAULTS.scrapeIntervalSeconds}s`,
      evaluation_interval: `${options.evaluationIntervalSeconds ?? DEFAULTS.evaluationIntervalSeconds}s`,
    },
  };
  if (options.ruleFiles !== undefined && options.ruleFiles.length > 0) {
    config['rule_files'] = options.ruleFiles.map((file) => resolve(file));
  }
  if (options.alertmanagerUrl !== undefined) {
    config['alerting'] = { alertmanagers: [alertmanagerConfig(options.alertmanagerUrl)] };
  }
  if (options.scrapeTargets !== undefined && options.scrapeTargets.length > 0) {
    config['scrape_configs'] = options.scrapeTargets.map((job) => ({
      job_name: job.job,
      ...(job.scrapeIntervalSeconds === undefined ? {} : { scrape_interval: `${job.scrapeIntervalSeconds}s` }),
      ...(job.metricsPath === undefined ? {} : { metrics_path: job.metricsPath }),
      static_configs: [{ targets: [...job.targets] }],
    }));
  }
  return stringify(config);
}

// ---------------------------------------------------------------------------------------------
// HTTP API
// ---------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** `[<unix seconds>, "<value>"]` → a Sample. Prometheus spells non-finite values `NaN`, `+Inf`, `-Inf`; Number() reads all three. */
function parsePoint(point: unknown): Sample {
  if (!Array.isArray(point) || point.length !== 2 || typeof point[0] !== 'number' || typeof point[1] !== 'string') {
    throw new PrometheusError(`unexpected sample ${JSON.stringify(point)}`);
  }
  return { timestampMs: Math.round(point[0] * 1000), value: Number(point[1]) };
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code: unknown = (cause as Error & { code?: unknown }).code;
    return `${error.message}: ${typeof code === 'string' ? code : cause.message}`;
  }
  return error.message;
}

/** Thrown when Prometheus cannot be reached at all (stopped, crashed, restarting). */
export class PrometheusUnreachableError extends PrometheusError {}

// ---------------------------------------------------------------------------------------------
// The instance
// ---------------------------------------------------------------------------------------------

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

class PrometheusInstance implements PrometheusHandle, Tracked {
  child: ChildProcess | undefined;
  private exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  private disposed = false;
  port = 0;
  readonly dataDir: string;
  readonly configPath: string;
  readonly logPath: string;

  constructor(
    readonly root: string,
    private readonly options: StartPrometheusOptions,
  ) {
    this.dataDir = join(root, 'data');
    this.configPath = join(root, 'prometheus.yml');
    this.logPath = join(root, 'prometheus.log');
  }

  get url(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  get running(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Spawns Prometheus on `this.port` and waits for `/-/ready`. Throws with the log tail on failure. */
  async launch(): Promise<void> {
    if (this.disposed) throw new PrometheusError('this Prometheus handle was disposed');
    const binary = assertBinary('prometheus');
    const args = [
      `--config.file=${this.configPath}`,
      `--storage.tsdb.path=${this.dataDir}`,
      // Retention counts from the newest block, not the clock; the default 15 d would delete old
      // backfilled blocks at startup.
      '--storage.tsdb.retention.time=3650d',
      // The default binds all interfaces on :9090.
      `--web.listen-address=${LOOPBACK}:${this.port}`,
      '--web.enable-lifecycle',
      ...(this.options.extraArgs ?? []),
    ];
    // setpriv --pdeathsig makes the kernel SIGKILL Prometheus if the worker dies without running
    // any JS (SIGKILL, OOM); the exit hooks cover every other way out.
    const setpriv = findBinary('setpriv');
    const [command, argv] = setpriv === undefined ? [binary, args] : [setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args]];

    const logOffset = fileSize(this.logPath);
    const logFd = openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      // The child writes straight to the log file, so nothing is lost if this worker stalls.
      child = spawn(command, argv, { stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    this.child = child;
    this.exited = new Promise<Exit>((done) => {
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', (error) => done({ code: null, signal: null, error }));
    });
    // Do not hold the worker's event loop open; the exit hooks kill it if nobody stops it.
    child.unref();

    // Ready is an event: the log line Prometheus writes once it serves (after the TSDB has opened and
    // the config has loaded), or its exit. No deadline: vitest's hook timeout ends a start that hangs.
    const outcome = await waitForLogLine(this.logPath, READY_LINE, logOffset, this.exited);
    for (;;) {
      if (outcome === 'logged') {
        try {
          const response = await fetch(`${this.url}/-/ready`);
          await response.body?.cancel();
          if (response.status === 200) return;
        } catch {
          // It exited meanwhile; reported below.
        }
      }
      const exit = await Promise.race([this.exited, Promise.resolve(undefined)]);
      if (exit !== undefined) {
        const how = exit.error?.message ?? `code ${String(exit.code)}, signal ${String(exit.signal)}`;
        throw new StartupError(`Prometheus exited during startup (${how})`, readTail(this.logPath, 40, logOffset));
      }
      // Logged as ready but /-/ready says otherwise: the flag is set a moment after the line; ask again.
    }
  }

  /** SIGTERM, then SIGKILL after the stop timeout; resolves once the process has exited. */
  private async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    child.ref(); // keep the loop alive until it has really exited
    try {
      child.kill('SIGTERM');
      const timeoutMs = this.options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs;
      const graceful = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
      if (graceful) return;
      child.kill('SIGKILL');
      await this.exited;
    } finally {
      child.unref();
    }
  }

  async stop(): Promise<void> {
    await this.kill();
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    try {
      await this.kill();
    } finally {
      this.disposed = true;
      live.delete(this);
      if (keepDirs()) console.warn(`[prometheus harness] kept ${this.root} (FORESIGHT_KEEP_TEST_DIRS)`);
      else await rm(this.root, { recursive: true, force: true });
    }
  }

  logTail(lines = 30): string {
    return readTail(this.logPath, lines);
  }

  /** Calls the HTTP API and returns `data` of a `status: success` answer. */
  private async api(path: string, params?: Record<string, string>, method: 'GET' | 'POST' = 'GET'): Promise<unknown> {
    const url = `${this.url}${path}`;
    let response: Response;
    try {
      const signal = AbortSignal.timeout(this.options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs);
      const body = params === undefined ? undefined : new URLSearchParams(params);
      // POST form bodies: long PromQL does not fit in a URL.
      response =
        method === 'POST' ? await fetch(url, body === undefined ? { method, signal } : { method, body, signal }) : await fetch(body === undefined ? url : `${url}?${body.toString()}`, { signal });
    } catch (error) {
      throw new PrometheusUnreachableError(`${method} ${url} failed: ${describeNetworkError(error)}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new PrometheusError(`${method} ${url}: HTTP ${response.status}, not JSON: ${text.slice(0, 300)}`);
    }
    if (!isRecord(parsed) || parsed['status'] !== 'success') {
      const errorType = isRecord(parsed) && typeof parsed['errorType'] === 'string' ? parsed['errorType'] : 'unknown';
      const error = isRecord(parsed) && typeof parsed['error'] === 'string' ? parsed['error'] : text.slice(0, 300);
      throw new PrometheusQueryError(`${method} ${url} ${params?.['query'] === undefined ? '' : `(${params['query']}) `}→ HTTP ${response.status} ${errorType}: ${error}`, errorType);
    }
    return parsed['data'];
  }

  async query(expr: string, atMs?: number): Promise<InstantSample[]> {
    const params: Record<string, string> = { query: expr };
    if (atMs !== undefined) params['time'] = String(atMs / 1000);
    const data = await this.api('/api/v1/query', params, 'POST');
    if (!isRecord(data)) throw new PrometheusError(`unexpected query answer for ${expr}`);
    const { resultType, result } = data;
    if (resultType === 'scalar') {
      const sample = parsePoint(result);
      return [{ metric: {}, ...sample }];
    }
    if (resultType !== 'vector' || !Array.isArray(result)) {
      throw new PrometheusError(`instant query ${expr} returned a ${String(resultType)}; query() handles vectors and scalars (use queryRange for matrices)`);
    }
    return result.map((element: unknown) => {
      if (!isRecord(element)) throw new PrometheusError(`unexpected vector element for ${expr}`);
      return { metric: stringRecord(element['metric']), ...parsePoint(element['value']) };
    });
  }

  async queryRange(expr: string, startMs: number, endMs: number, stepSeconds: number): Promise<RangeSeries[]> {
    if (!(stepSeconds > 0)) throw new RangeError(`stepSeconds must be > 0, got ${stepSeconds}`);
    const points = Math.floor((endMs - startMs) / (stepSeconds * 1000)) + 1;
    if (points > MAX_POINTS_PER_SERIES) {
      // Prometheus would answer "exceeded maximum resolution of 11,000 points per timeseries".
      throw new RangeError(`queryRange(${expr}) would return ${points} points per series; Prometheus allows ${MAX_POINTS_PER_SERIES}. Use a larger step or a shorter range.`);
    }
    const data = await this.api('/api/v1/query_range', { query: expr, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepSeconds) }, 'POST');
    if (!isRecord(data) || data['resultType'] !== 'matrix' || !Array.isArray(data['result'])) {
      throw new PrometheusError(`unexpected query_range answer for ${expr}`);
    }
    return data['result'].map((element: unknown) => {
      if (!isRecord(element) || !Array.isArray(element['values'])) {
        throw new PrometheusError(`unexpected matrix element for ${expr}`);
      }
      return { metric: stringRecord(element['metric']), samples: element['values'].map(parsePoint) };
    });
  }

  async waitFor(expr: string, predicate: (result: InstantSample[]) => boolean, timeoutMs: number = DEFAULTS.waitForTimeoutMs): Promise<InstantSample[]> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      try {
        const result = await this.query(expr);
        if (predicate(result)) return result;
        last = `last result: ${JSON.stringify(result).slice(0, 1_000)}`;
      } catch (error) {
        if (!(error instanceof PrometheusUnreachableError)) throw error;
        last = `last error: ${error.message}`;
      }
      if (Date.now() >= deadline) {
        throw new PrometheusError(`waitFor(${expr}) did not hold within ${timeoutMs} ms; ${last}`);
      }
      await sleep(Math.min(WAIT_FOR_POLL_MS, Math.max(0, deadline - Date.now())));
    }
  }

  async targets(): Promise<TargetStatus[]> {
    const data = await this.api('/api/v1/targets', { state: 'active' });
    if (!isRecord(data) || !Array.isArray(data['activeTargets'])) {
      throw new PrometheusError('unexpected /api/v1/targets answer');
    }
    return data['activeTargets'].filter(isRecord).map((target) => {
      const labels = stringRecord(target['labels']);
      const health = target['health'];
      const lastScrape = typeof target['lastScrape'] === 'string' ? Date.parse(target['lastScrape']) : Number.NaN;
      return {
        job: labels['job'] ?? String(target['scrapePool'] ?? ''),
        scrapeUrl: typeof target['scrapeUrl'] === 'string' ? target['scrapeUrl'] : '',
        health: health === 'up' || health === 'down' ? health : 'unknown',
        lastError: typeof target['lastError'] === 'string' ? target['lastError'] : '',
        // Before the first scrape Prometheus reports the zero time (year 1).
        lastScrapeMs: Number.isFinite(lastScrape) && lastScrape > 0 ? lastScrape : undefined,
        labels,
      };
    });
  }

  async reload(): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${this.url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw new PrometheusUnreachableError(`reload failed: ${describeNetworkError(error)}`, { cause: error });
    }
    const text = await response.text();
    if (response.status !== 200) throw new PrometheusError(`reload → HTTP ${response.status}: ${text.trim()}`);
  }
}

/** Startup failed; the message ends with the tail of the Prometheus log. */
export class StartupError extends PrometheusError {
  constructor(
    summary: string,
    readonly logTail: string,
  ) {
    super(`${summary}\n--- prometheus log (tail) ---\n${logTail || '(empty)'}\n---`);
  }
}

/**
 * Starts a Prometheus for a test: makes a temp dir, backfills `options.backfill` with promtool,
 * writes the config, starts the binary on a free 127.0.0.1 port and waits for `/-/ready`.
 *
 * Call `dispose()` in `afterAll` (or use {@link usePrometheus}, which does). If a test forgets, the
 * worker's exit hooks kill the process and remove the dir anyway.
 *
 * @throws {MissingBinaryError} when prometheus (or, with a backfill, promtool) is not on PATH.
 * @throws {StartupError} when Prometheus exits or is not ready in time; the message has the log tail.
 */
export async function startPrometheus(options: StartPrometheusOptions = {}): Promise<PrometheusHandle> {
  assertBinary('prometheus');
  installExitHooks();
  const root = await mkdtemp(join(tmpdir(), 'foresight-prometheus-'));
  const instance = new PrometheusInstance(root, options);
  live.add(instance);
  try {
    await mkdir(instance.dataDir);
    if (options.backfill !== undefined && options.backfill.length > 0) {
      await backfillTsdb(instance.dataDir, options.backfill, root, options.backfillTimeoutMs);
    }
    await writeFile(instance.configPath, renderConfig(options));
    for (let attempt = 1; ; attempt++) {
      instance.port = await getFreePort();
      try {
        await instance.launch();
        return instance;
      } catch (error) {
        const portTaken = error instanceof StartupError && /address already in use/i.test(error.logTail);
        if (!portTaken || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    await instance.dispose();
    throw error;
  }
}

/**
 * Starts a Prometheus in `beforeAll` and disposes of it in `afterAll` of the enclosing `describe`,
 * printing its log tail when a test fails. Returns a getter, valid inside tests and hooks:
 *
 * ```ts
 * describe.skipIf(!requireBinaries('prometheus', 'promtool'))('with history', () => {
 *   const prometheus = usePrometheus(() => ({ backfill: makeHistory() }));
 *   it('answers', async () => { expect(await prometheus().query('up')).toEqual([]); });
 * });
 * ```
 *
 * `options` may be a function, evaluated in `beforeAll`, so fixtures relative to `Date.now()` are
 * built at start time rather than at collection time.
 */
export function usePrometheus(options: StartPrometheusOptions | (() => StartPrometheusOptions | Promise<StartPrometheusOptions>) = {}): () => PrometheusHandle {
  let handle: PrometheusHandle | undefined;
  beforeAll(async () => {
    handle = await startPrometheus(typeof options === 'function' ? await options() : options);
  });
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      if (handle !== undefined) console.error(`--- prometheus log (${handle.logPath}) ---\n${handle.logTail(40)}`);
    });
  });
  afterAll(async () => {
    await handle?.dispose();
    handle = undefined;
  });
  return () => {
    if (handle === undefined) throw new PrometheusError('Prometheus is not running (did beforeAll fail?)');
    return handle;
  };
}
