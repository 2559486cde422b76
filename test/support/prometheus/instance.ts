// One test Prometheus process: started on a given port and data dir, ready when it says so,
// stopped (SIGTERM, then SIGKILL), restarted, disposed of with its temp dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { assertBinary, findBinary } from '../binaries.js';
import { fileSize, readTail } from '../log-file.js';
import { waitForLogLine } from '../log-line.js';
import { LOOPBACK } from '../ports.js';
import { PrometheusError, StartupError } from './errors.js';
import { type InstantSample, PrometheusHttpApi, type RangeSeries, type TargetStatus } from './http-api.js';
import { DEFAULTS, keepDirs, type StartPrometheusOptions } from './options.js';
import { type Tracked, untrack } from './registry.js';

/** A running (or stopped, restartable) test Prometheus. */
export interface PrometheusHandle {
  /** `http://127.0.0.1:<port>`. Stays the same across {@link PrometheusHandle.restart}. */
  readonly url: string;
  readonly port: number;
  /** The TSDB directory. Survives `stop()`; removed by `dispose()` unless the caller gave it (`options.dataDir`). */
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

/** What Prometheus logs once it serves queries; the harness waits for this line, not for a time. */
const READY_LINE = /msg="Server is ready to receive web requests\."/;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

/** The process behind a {@link PrometheusHandle}; its temp dir `root` holds the config, the log and the TSDB. */
export class PrometheusInstance implements PrometheusHandle, Tracked {
  child: ChildProcess | undefined;
  private exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  private disposed = false;
  port = 0;
  readonly dataDir: string;
  readonly configPath: string;
  readonly logPath: string;
  private readonly api: PrometheusHttpApi;

  constructor(
    readonly root: string,
    private readonly options: StartPrometheusOptions,
  ) {
    this.dataDir = options.dataDir ?? join(root, 'data');
    this.configPath = join(root, 'prometheus.yml');
    this.logPath = join(root, 'prometheus.log');
    this.api = new PrometheusHttpApi(() => this.url, options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs);
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
      untrack(this);
      if (keepDirs()) console.warn(`[prometheus harness] kept ${this.root} (FORESIGHT_KEEP_TEST_DIRS)`);
      else await rm(this.root, { recursive: true, force: true });
    }
  }

  logTail(lines = 30): string {
    return readTail(this.logPath, lines);
  }

  query(expr: string, atMs?: number): Promise<InstantSample[]> {
    return this.api.query(expr, atMs);
  }

  queryRange(expr: string, startMs: number, endMs: number, stepSeconds: number): Promise<RangeSeries[]> {
    return this.api.queryRange(expr, startMs, endMs, stepSeconds);
  }

  waitFor(expr: string, predicate: (result: InstantSample[]) => boolean, timeoutMs: number = DEFAULTS.waitForTimeoutMs): Promise<InstantSample[]> {
    return this.api.waitFor(expr, predicate, timeoutMs);
  }

  targets(): Promise<TargetStatus[]> {
    return this.api.targets();
  }

  reload(): Promise<void> {
    return this.api.reload();
  }
}
