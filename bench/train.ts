/**
 * `npm run bench:train`: what training the global LSTM costs, and what it costs serving.
 *
 * 1. The global model on the demo's forecast series (13 series, 14 days of 1-minute history each,
 *    with their covariates, read from the replay traces as the service reads them), through the
 *    real path: one low-priority child process (`runTrainingInWorker`), the configured network and
 *    budget (`ml.lstm`: LSTM 64 → 32, 60 steps × 8 features, epochs × windows). First from scratch
 *    on the 14 days that end an hour before "now", then a fine-tune on the 14 days ending now (one
 *    new hour: the windows whose targets are new, and as many replayed). Wall time, window passes,
 *    peak RSS (this process plus the training process, sampled every 50 ms) and the held-out scores.
 * 2. Serving latency while idle and while the LSTM trains (the quality bar: no worse than 2× idle), for
 *    `GET /metrics`, `GET /scaling/status` and an external-metrics request over HTTPS with the local
 *    client certificate. Three processes, so that none times another's work on its own event loop:
 *    the Service (test/support/service.ts) in a child process (bench/support/service-child.ts), the
 *    client in this process (sequential requests, one keep-alive connection per endpoint, endpoints
 *    taken in turn), and the training in its own nice-19 child process (`runTrainingInWorker`, the
 *    design network with endless epochs, aborted at the end of the round).
 *    Rounds interleave idle, training, idle, training, … (`--rounds` of each) so that slow drift of a
 *    shared machine affects both states alike; each round makes `--requests` requests per endpoint.
 *    A training round starts its training, waits for the first finished epoch (start-up is over and
 *    the network is fitting), and counts only if every request of the round began and ended while
 *    that training was fitting and its process was alive at the end; an idle round only if no
 *    training process existed at its start or end. A round that fails its check is redone.
 *    Reported: p50/p99/max pooled per state, the p50 and p99 ratios, the median over rounds of the
 *    per-round p99 ratio (training round k ÷ idle round k, so one stall cannot decide), and per round
 *    what ran: the service's CPU time per request, the training process's niceness and CPU use, and
 *    the CPU used by everything else on the machine (other people's work disturbs a shared machine).
 *
 * Usage: tsx bench/train.ts [--series N] [--epochs N] [--windows N] [--features A,B,...] [--no-latency] [--no-training]
 *                           [--rounds N] [--requests N] [--service-node-option FLAG]... [--json]
 *   --series N                 the first N forecast series only (short runs while developing)
 *   --epochs N, --windows N    override ml.lstm.epochs and ml.lstm.maxWindows (from scratch)
 *   --features A,B,...         override ml.lstm.features (to measure a feature list's held-out scores)
 *   --rounds N                 rounds of each state (default 3)
 *   --requests N               sequential requests per endpoint per round (default 1000)
 *   --service-node-option FLAG a Node.js flag for the service process, repeatable, for investigating
 *                              the latency (e.g. `--service-node-option --cpu-prof
 *                              --service-node-option --cpu-prof-dir=/tmp/prof`, or `--trace-gc`;
 *                              the service's output goes to stderr)
 * Run it at the lowest priority on a shared machine: `nice -n 19 npm run bench:train`.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { isFeatureName } from '../src/forecast/index.js';
import type { FeatureName, LstmOptions } from '../src/forecast/index.js';
import { lstmOptionsFromConfig, runTrainingInWorker } from '../src/training/index.js';
import type { TrainingJob, TrainingOutcome } from '../src/training/index.js';
import { childProcesses, processTreeCpuSeconds, readMachineCpu, readProcess } from './support/proc-stat.js';
import { demoSeries, demoStartMs } from './support/demo-series.js';
import type { ServiceChildReady } from './support/service-child.js';
import { messageOf } from '../src/core/index.js';
import { compareHeldOut, winsOver } from './support/held-out-baselines.js';
import type { HeldOutComparison } from './support/held-out-baselines.js';

interface Args {
  readonly series: number | undefined;
  readonly epochs: number | undefined;
  readonly windows: number | undefined;
  readonly features: readonly FeatureName[] | undefined;
  readonly latency: boolean;
  readonly training: boolean;
  readonly rounds: number;
  readonly requests: number;
  readonly serviceNodeOptions: readonly string[];
  readonly json: boolean;
}

const usage =
  'usage: tsx bench/train.ts [--series N] [--epochs N] [--windows N] [--features A,B,...] [--no-latency] [--no-training] [--rounds N] [--requests N] [--service-node-option FLAG]... [--json]';

function parseArgs(argv: readonly string[]): Args {
  let series: number | undefined;
  let epochs: number | undefined;
  let windows: number | undefined;
  let features: FeatureName[] | undefined;
  let latency = true;
  let training = true;
  let rounds = 3;
  let requests = 1000;
  const serviceNodeOptions: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    const positive = (text: string) => {
      if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`${arg} must be a whole number >= 1, got "${text}"`);
      return Number(text);
    };
    if (arg === '--series') series = positive(next());
    else if (arg === '--epochs') epochs = positive(next());
    else if (arg === '--windows') windows = positive(next());
    else if (arg === '--features') {
      const names = next().split(',');
      const unknown = names.filter((name) => !isFeatureName(name));
      if (unknown.length > 0) throw new Error(`--features: unknown feature(s) ${unknown.join(', ')} (docs/ml-models.md lists them)`);
      features = names.filter(isFeatureName);
    } else if (arg === '--no-latency') latency = false;
    else if (arg === '--no-training') training = false;
    else if (arg === '--rounds') rounds = positive(next());
    else if (arg === '--requests') requests = positive(next());
    else if (arg === '--service-node-option') serviceNodeOptions.push(next());
    else if (arg === '--json') json = true;
    else throw new Error(`unknown argument "${arg}" (${usage})`);
  }
  // Fewer than 100 requests per round make each round's p99 its single worst sample.
  if (requests < 100) throw new Error(`--requests must be at least 100 (a round's p99 needs 100 samples), got ${requests}`);
  return { series, epochs, windows, features, latency, training, rounds, requests, serviceNodeOptions, json };
}

/** The configured LSTM (the defaults of `ml.lstm`), as the service trains it. */
function configuredLstm(): { readonly options: Partial<LstmOptions>; readonly fineTune: { readonly epochs: number; readonly maxWindows: number } } {
  const loaded = loadConfig({ env: {} });
  if (!loaded.ok) throw new Error(loaded.error.message);
  const lstm = loaded.value.ml.lstm;
  return { options: lstmOptionsFromConfig(lstm), fineTune: { epochs: lstm.fineTuneEpochs, maxWindows: lstm.fineTuneWindows } };
}

/**
 * Samples every 50 ms the RSS of this process plus that of its training processes (each series
 * trains in a child process, whose memory is not in this process's RSS); returns the peak in MB.
 */
function rssPeak(): { stop(): number } {
  // The /proc scan for a new training process costs milliseconds: only when the known one is gone.
  let pids: number[] = [];
  const trainingRss = () => pids.reduce((sum, pid) => sum + (readProcess(pid)?.rssBytes ?? 0), 0);
  const sample = () => {
    if (!pids.some(alive)) pids = trainingProcesses();
    return process.memoryUsage().rss + trainingRss();
  };
  let peak = sample();
  const timer = setInterval(() => {
    peak = Math.max(peak, sample());
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, sample()) / 2 ** 20;
    },
  };
}

/** One training run of the global model. */
interface TrainingRow {
  readonly run: 'from scratch' | 'fine-tune on one new hour';
  readonly series: number;
  readonly points: number;
  readonly epochs: number;
  readonly windows: number;
  readonly windowPasses: number;
  readonly seconds: number;
  readonly windowPassesPerSecond: number;
  readonly peakRssMb: number;
  readonly deployed: boolean;
  readonly failure?: string;
  /** Geometric mean over series of the held-out MASE (newest 20 % of each series, never trained on). */
  readonly heldOutGeomeanMase: number;
  readonly heldOutMedianMase: number;
  readonly backend: string;
  /** CPU seconds of the training process: training (windows, fit, held-out scoring) and the shadow evaluation. */
  readonly cpuTrainingSeconds: number;
  readonly cpuShadowSeconds: number;
  /** Per series: the held-out MAE beside naive's and Holt-Winters' on the same window. */
  readonly heldOut: readonly HeldOutComparison[];
}

function geomean(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  return finite.length === 0 ? Number.NaN : Math.exp(finite.reduce((a, v) => a + Math.log(v), 0) / finite.length);
}

/** Runs one job in the low-priority training process and measures it. */
async function measureRun(run: TrainingRow['run'], job: TrainingJob): Promise<{ row: TrainingRow; outcome: TrainingOutcome }> {
  const memory = rssPeak();
  const began = performance.now();
  let epochs = 0;
  let windows = 0;
  const outcome = await runTrainingInWorker(job, {
    onProgress: (p) => {
      epochs = p.epochs;
      windows = p.windows;
      process.stderr.write(`bench:train: ${run}: epoch ${p.epoch}/${p.epochs}, ${p.windows} windows, loss ${p.loss.toFixed(4)}, ${((performance.now() - began) / 1000).toFixed(0)} s\n`);
    },
  });
  const seconds = (performance.now() - began) / 1000;
  const peakRssMb = memory.stop();
  const points = job.series.reduce((sum, s) => sum + s.inputs.target.values.length, 0);
  if (!outcome.ok) {
    const failure = `${outcome.failure.reason}: ${outcome.failure.message}`;
    return {
      outcome,
      row: {
        run,
        series: job.series.length,
        points,
        epochs,
        windows,
        windowPasses: 0,
        seconds,
        windowPassesPerSecond: 0,
        peakRssMb,
        deployed: false,
        failure,
        heldOutGeomeanMase: Number.NaN,
        heldOutMedianMase: Number.NaN,
        backend: 'n/a',
        cpuTrainingSeconds: Number.NaN,
        cpuShadowSeconds: Number.NaN,
        heldOut: [],
      },
    };
  }
  const mases = job.series.map((s) => outcome.meta.series[s.key]?.validation.mase ?? Number.NaN);
  return {
    outcome,
    row: {
      run,
      series: Object.keys(outcome.meta.series).length,
      points,
      epochs,
      windows,
      windowPasses: outcome.meta.windowPasses,
      seconds,
      windowPassesPerSecond: outcome.meta.windowPasses / seconds,
      peakRssMb,
      deployed: outcome.shadow.deploy,
      heldOutGeomeanMase: geomean(mases),
      heldOutMedianMase: median(mases.filter(Number.isFinite)),
      backend: outcome.meta.backend,
      cpuTrainingSeconds: outcome.cpuSeconds.training,
      cpuShadowSeconds: outcome.cpuSeconds.shadow,
      heldOut: compareHeldOut(outcome.meta, job.series, job.spec),
    },
  };
}

/** The configured LSTM options with the command line's overrides. */
function trainingOptions(args: Args): Partial<LstmOptions> {
  return {
    ...configuredLstm().options,
    ...(args.epochs !== undefined ? { epochs: args.epochs } : {}),
    ...(args.windows !== undefined ? { maxWindows: args.windows } : {}),
    ...(args.features !== undefined ? { features: args.features } : {}),
  };
}

/**
 * From scratch on the 14 days ending an hour before "now", then a fine-tune of that model on the
 * 14 days ending now: the hour the service adds between two retrainings.
 */
async function trainGlobal(args: Args): Promise<TrainingRow[]> {
  const configured = configuredLstm();
  const options = trainingOptions(args);
  const before = await demoSeries(demoStartMs, 14, args.series);
  const scratch = await measureRun('from scratch', { seriesKey: 'global', series: before.series, spec: before.spec, options });
  if (!scratch.outcome.ok) return [scratch.row];
  const after = await demoSeries(demoStartMs + 3_600_000, 14, args.series);
  const base = { artifacts: scratch.outcome.artifacts, meta: scratch.outcome.meta };
  const fine = await measureRun('fine-tune on one new hour', { seriesKey: 'global', series: after.series, spec: after.spec, options, current: base, fineTune: configured.fineTune });
  return [scratch.row, fine.row];
}

type LatencyState = 'idle' | 'training';

/** Latency of a set of requests, in ms; percentiles by nearest rank. */
interface LatencyStats {
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function statsOf(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  return { requests: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[sorted.length - 1]! };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** An endpoint the client times: one keep-alive connection, one request at a time. */
interface Endpoint {
  readonly name: string;
  /** Sends one GET; resolves once the whole response arrived, rejects unless it is a 200. */
  get(): Promise<void>;
  close(): void;
}

function keepAliveEndpoint(name: string, url: string, tls?: { readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer }): Endpoint {
  const onResponse = (resolve: () => void, reject: (error: Error) => void) => (res: http.IncomingMessage) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${name} answered ${res.statusCode}`))));
    res.on('error', reject);
  };
  if (tls !== undefined) {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ...tls });
    return {
      name,
      get: () => new Promise<void>((resolve, reject) => https.get(url, { agent }, onResponse(resolve, reject)).on('error', reject)),
      close: () => agent.destroy(),
    };
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    name,
    get: () => new Promise<void>((resolve, reject) => http.get(url, { agent }, onResponse(resolve, reject)).on('error', reject)),
    close: () => agent.destroy(),
  };
}

/** The external-metrics request an HPA makes (through the aggregator: mTLS with a client certificate). */
const externalMetricsPath = '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue%3Dbatch_processing';

/**
 * The training that keeps the training process busy during a training round: the configured network on
 * the demo's 14 days, with more epochs than any round lasts. 256 windows (4 batches) per epoch, so the
 * first epoch (the sign that start-up is over and the network is fitting) ends soon after start-up;
 * every batch is the same work as in a full-size training (the batch size does not change).
 */
async function backgroundJob(): Promise<TrainingJob> {
  const { series, spec } = await demoSeries(demoStartMs, 14);
  return { seriesKey: 'global', series, spec, options: { ...configuredLstm().options, epochs: 1_000_000, maxWindows: 256, seed: 1 } };
}

/** The live training processes this benchmark started (children running training-worker). */
function trainingProcesses(): number[] {
  return childProcesses(process.pid)
    .filter((p) => p.state !== 'Z' && p.commandLine.includes('training-worker'))
    .map((p) => p.pid);
}

function alive(pid: number): boolean {
  const sample = readProcess(pid);
  return sample !== undefined && sample.state !== 'Z';
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** A training in progress in its own process. */
interface BackgroundTraining {
  readonly pid: number;
  /** True from the end of the first epoch until the run ends (or is aborted). */
  fitting(): boolean;
  /** Aborts the run (the process is killed) and resolves once the process is gone. */
  stop(): Promise<void>;
}

/** Starts {@link backgroundJob} through the real path and resolves once its first epoch finished. */
async function startBackgroundTraining(): Promise<BackgroundTraining> {
  const job = await backgroundJob();
  const abort = new AbortController();
  let fitting = false;
  let ended = false;
  let firstEpoch = () => {};
  const epochDone = new Promise<'fitting'>((resolve) => {
    firstEpoch = () => resolve('fitting');
  });
  const run: Promise<TrainingOutcome> = runTrainingInWorker(job, {
    signal: abort.signal,
    onProgress: () => {
      fitting = true;
      firstEpoch();
    },
  }).then((outcome) => {
    ended = true;
    return outcome;
  });
  let timer: NodeJS.Timeout | undefined;
  const started = await Promise.race([epochDone, run, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 300_000)))]);
  clearTimeout(timer);
  const pids = trainingProcesses();
  if (started !== 'fitting' || pids.length !== 1) {
    abort.abort();
    await run;
    const why =
      started === 'timeout'
        ? 'no epoch finished within 300 s'
        : started === 'fitting'
          ? `${pids.length} training processes are running, expected 1`
          : `it ended: ${started.ok ? 'finished' : started.failure.message}`;
    throw new Error(`the background training did not start: ${why}`);
  }
  const pid = pids[0]!;
  return {
    pid,
    fitting: () => fitting && !ended,
    async stop() {
      abort.abort();
      await run;
      // runTrainingInWorker resolves as soon as it sent SIGKILL: wait until the process is really gone.
      for (let waitedMs = 0; alive(pid); waitedMs += 10) {
        if (waitedMs > 10_000) throw new Error(`the training process ${pid} did not exit within 10 s of being killed`);
        await sleep(10);
      }
    },
  };
}

/** What ran on the machine during one round (from /proc; undefined where /proc is unavailable). */
interface RoundEvidence {
  readonly seconds: number;
  /** CPU time of the service process (and any child process of its own) per request, in µs. */
  readonly serviceCpuMicrosPerRequest: number | undefined;
  /** Cores the training process used on average (CPU seconds ÷ round seconds). */
  readonly trainingCores: number | undefined;
  readonly trainingNice: number | undefined;
  /** Cores used by the client (this process). */
  readonly clientCores: number;
  /** Cores used by everything else on the machine: other processes, and kernel work not charged to a process. */
  readonly otherCores: number | undefined;
  /** Cores the hypervisor withheld (steal time). */
  readonly stealCores: number | undefined;
}

interface CpuPoint {
  readonly atMs: number;
  readonly service: number | undefined;
  readonly training: number | undefined;
  readonly client: number;
  readonly machine: ReturnType<typeof readMachineCpu>;
}

function cpuPoint(servicePid: number, trainingPid: number | undefined): CpuPoint {
  const usage = process.cpuUsage();
  return {
    atMs: performance.now(),
    // With its children: the Service may run work (model fits) in child processes of its own.
    service: processTreeCpuSeconds(servicePid),
    training: trainingPid === undefined ? 0 : readProcess(trainingPid)?.cpuSeconds,
    client: (usage.user + usage.system) / 1e6,
    machine: readMachineCpu(),
  };
}

function evidenceBetween(a: CpuPoint, b: CpuPoint, requests: number, trainingNice: number | undefined): RoundEvidence {
  const seconds = (b.atMs - a.atMs) / 1000;
  const delta = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined ? undefined : y - x);
  const service = delta(a.service, b.service);
  const training = delta(a.training, b.training);
  const client = b.client - a.client;
  const busy = a.machine === undefined || b.machine === undefined ? undefined : b.machine.busySeconds - a.machine.busySeconds;
  const steal = a.machine === undefined || b.machine === undefined ? undefined : b.machine.stealSeconds - a.machine.stealSeconds;
  return {
    seconds,
    serviceCpuMicrosPerRequest: service === undefined ? undefined : (service * 1e6) / requests,
    trainingCores: training === undefined ? undefined : training / seconds,
    trainingNice,
    clientCores: client / seconds,
    otherCores: busy === undefined || service === undefined || training === undefined ? undefined : Math.max(0, busy - service - training - client) / seconds,
    stealCores: steal === undefined ? undefined : steal / seconds,
  };
}

/** One measured round: latencies per endpoint in request order, and what ran meanwhile. */
interface Round {
  readonly state: LatencyState;
  /** 1-based within its state; training round k follows idle round k. */
  readonly round: number;
  /** 1 unless earlier attempts were dropped. */
  readonly attempt: number;
  readonly latencyMs: readonly (readonly number[])[];
  readonly evidence: RoundEvidence;
}

/**
 * `requests` sequential requests per endpoint, endpoints in turn. With a training, also counts the
 * requests that did not both begin and end while it was fitting.
 */
async function runRequests(endpoints: readonly Endpoint[], requests: number, training?: BackgroundTraining): Promise<{ latencyMs: number[][]; outsideTraining: number }> {
  const latencyMs = endpoints.map(() => [] as number[]);
  let outsideTraining = 0;
  for (let i = 0; i < requests; i++) {
    for (let e = 0; e < endpoints.length; e++) {
      const wasFitting = training?.fitting() ?? false;
      const began = performance.now();
      await endpoints[e]!.get();
      latencyMs[e]!.push(performance.now() - began);
      if (training !== undefined && !(wasFitting && training.fitting())) outsideTraining++;
    }
  }
  return { latencyMs, outsideTraining };
}

/** Measures one round; returns why it does not count instead when its check fails. */
async function measureRound(
  endpoints: readonly Endpoint[],
  requests: number,
  servicePid: number,
  state: LatencyState,
): Promise<{ latencyMs: number[][]; evidence: RoundEvidence } | { problem: string }> {
  const total = requests * endpoints.length;
  if (state === 'idle') {
    if (trainingProcesses().length > 0) return { problem: 'a training process was running at the start' };
    const before = cpuPoint(servicePid, undefined);
    const { latencyMs } = await runRequests(endpoints, requests);
    const after = cpuPoint(servicePid, undefined);
    if (trainingProcesses().length > 0) return { problem: 'a training process was running at the end' };
    return { latencyMs, evidence: evidenceBetween(before, after, total, undefined) };
  }
  const training = await startBackgroundTraining();
  try {
    const nice = readProcess(training.pid)?.nice;
    const before = cpuPoint(servicePid, training.pid);
    const { latencyMs, outsideTraining } = await runRequests(endpoints, requests, training);
    const after = cpuPoint(servicePid, training.pid);
    if (outsideTraining > 0) return { problem: `${outsideTraining} of ${total} requests were not made while the training was fitting` };
    if (!alive(training.pid)) return { problem: `the training process ${training.pid} was gone at the end of the round` };
    return { latencyMs, evidence: evidenceBetween(before, after, total, nice) };
  } finally {
    await training.stop();
  }
}

/** Per endpoint: both states pooled over rounds, and the ratios the quality bar is about. */
interface EndpointLatency {
  readonly endpoint: string;
  readonly idle: LatencyStats;
  readonly training: LatencyStats;
  /** p50 while training ÷ p50 idle. */
  readonly p50Ratio: number;
  /** p99 while training ÷ p99 idle, pooled over rounds. */
  readonly p99Ratio: number;
  /** p99 of training round k ÷ p99 of idle round k, for each k. */
  readonly roundP99Ratios: readonly number[];
  /** The median of {@link roundP99Ratios}: robust to one round with a one-off stall. */
  readonly medianRoundP99Ratio: number;
  /** Issue #4's bar: the pooled p99 while training is at most 2× the idle p99. */
  readonly barMet: boolean;
}

/** One round as reported: its p50/p99 per endpoint (in the order of {@link LatencyReport.endpoints}) and its evidence. */
interface RoundSummary extends RoundEvidence {
  readonly state: LatencyState;
  readonly round: number;
  readonly attempt: number;
  readonly p50Ms: readonly number[];
  readonly p99Ms: readonly number[];
}

interface LatencyReport {
  readonly roundsPerState: number;
  readonly requestsPerEndpointPerRound: number;
  readonly endpoints: readonly EndpointLatency[];
  readonly rounds: readonly RoundSummary[];
  /** Rounds measured and thrown away because their check failed, with the reason. */
  readonly dropped: readonly { readonly state: LatencyState; readonly round: number; readonly attempt: number; readonly problem: string }[];
  readonly loadAverageAtEnd: readonly number[];
}

/** Attempts at a round before the benchmark gives up (a training that keeps dying is a bug to see). */
const maxAttempts = 3;

/** Other work above this many cores during a round marks the round as disturbed in the report. */
const disturbedCores = 0.2;

async function servingLatency(args: Args): Promise<LatencyReport> {
  const pkiDir = mkdtempSync(join(tmpdir(), 'foresight-bench-pki-'));
  // The service's stdout goes to our stderr: --json output stays clean, and diagnostics (--trace-gc) stay visible.
  const child = fork(fileURLToPath(new URL('./support/service-child.ts', import.meta.url)), [pkiDir], {
    execArgv: [...process.execArgv, ...args.serviceNodeOptions],
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoints: Endpoint[] = [];
  try {
    const ready = await new Promise<ServiceChildReady>((resolve, reject) => {
      child.once('message', (message) => resolve(message as ServiceChildReady));
      child.once('exit', (code, signal) => reject(new Error(`the service process exited with ${signal ?? `code ${code}`} before it was ready`)));
    });
    const servicePid = child.pid!;
    const tls = { ca: readFileSync(join(pkiDir, 'ca.crt')), cert: readFileSync(join(pkiDir, 'client.crt')), key: readFileSync(join(pkiDir, 'client.key')) };
    endpoints.push(
      keepAliveEndpoint('GET /metrics', `${ready.url}/metrics`),
      keepAliveEndpoint('GET /scaling/status', `${ready.url}/scaling/status`),
      keepAliveEndpoint('external metrics (HTTPS, client cert)', `${ready.externalMetricsUrl}${externalMetricsPath}`, tls),
    );
    // Warm-up, not recorded: connections and TLS sessions opened, both processes' JIT and heap sizes
    // settled. 200 requests per endpoint were not enough: the first idle round then still cost the
    // service 20–30 % more CPU per request than later rounds, which flattered the first round pair.
    await runRequests(endpoints, Math.max(1000, args.requests));
    const rounds: Round[] = [];
    const dropped: LatencyReport['dropped'][number][] = [];
    for (let round = 1; round <= args.rounds; round++) {
      for (const state of ['idle', 'training'] as const) {
        for (let attempt = 1; ; attempt++) {
          const measured = await measureRound(endpoints, args.requests, servicePid, state);
          if ('problem' in measured) {
            dropped.push({ state, round, attempt, problem: measured.problem });
            process.stderr.write(`bench:train: latency round ${round} (${state}), attempt ${attempt}, dropped: ${measured.problem}\n`);
            if (attempt === maxAttempts) throw new Error(`latency round ${round} (${state}) failed its check ${maxAttempts} times; the last: ${measured.problem}`);
            continue;
          }
          rounds.push({ state, round, attempt, ...measured });
          const p99s = measured.latencyMs.map((samples, e) => `${endpoints[e]!.name} ${statsOf(samples).p99Ms.toFixed(2)} ms`).join(', ');
          process.stderr.write(`bench:train: latency round ${round}/${args.rounds} (${state}): ${measured.evidence.seconds.toFixed(1)} s, p99 ${p99s}\n`);
          break;
        }
      }
    }
    return summarize(
      endpoints.map((e) => e.name),
      rounds,
      dropped,
      args,
    );
  } finally {
    for (const endpoint of endpoints) endpoint.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(pkiDir, { recursive: true, force: true });
  }
}

function summarize(names: readonly string[], rounds: readonly Round[], dropped: LatencyReport['dropped'], args: Args): LatencyReport {
  const of = (state: LatencyState) => rounds.filter((r) => r.state === state).sort((a, b) => a.round - b.round);
  const idle = of('idle');
  const training = of('training');
  const endpoints = names.map((endpoint, e): EndpointLatency => {
    const pooledIdle = statsOf(idle.flatMap((r) => r.latencyMs[e]!));
    const pooledTraining = statsOf(training.flatMap((r) => r.latencyMs[e]!));
    const roundP99Ratios = training.map((t, k) => statsOf(t.latencyMs[e]!).p99Ms / statsOf(idle[k]!.latencyMs[e]!).p99Ms);
    const p99Ratio = pooledTraining.p99Ms / pooledIdle.p99Ms;
    return {
      endpoint,
      idle: pooledIdle,
      training: pooledTraining,
      p50Ratio: pooledTraining.p50Ms / pooledIdle.p50Ms,
      p99Ratio,
      roundP99Ratios,
      medianRoundP99Ratio: median(roundP99Ratios),
      barMet: p99Ratio <= 2,
    };
  });
  return {
    roundsPerState: args.rounds,
    requestsPerEndpointPerRound: args.requests,
    endpoints,
    rounds: rounds.map((r) => ({
      state: r.state,
      round: r.round,
      attempt: r.attempt,
      ...r.evidence,
      p50Ms: r.latencyMs.map((samples) => statsOf(samples).p50Ms),
      p99Ms: r.latencyMs.map((samples) => statsOf(samples).p99Ms),
    })),
    dropped,
    loadAverageAtEnd: loadavg(),
  };
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench:train: ${messageOf(error)}\n`);
    process.exit(2);
  }
  const began = performance.now();
  const training = args.training ? await trainGlobal(args) : [];
  const latency = args.latency ? await servingLatency(args) : undefined;
  const seconds = (performance.now() - began) / 1000;
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ command: 'npm run bench:train -- --json', seconds, training, latency }, null, 2)}\n`);
    return;
  }
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  const out: string[] = [];
  if (training.length > 0) {
    const scratch = training[0]!;
    const fine = training[1];
    out.push(
      `Produced by \`nice -n 19 npm run bench:train${process.argv.slice(2).length > 0 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` (\`tsx bench/train.ts\`) in ${f(seconds, 0)} s on ${navigatorCores()} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')} at the end. ` +
        `The global model on the demo's ${scratch.series} forecast series (14 days of 1-minute history each, ${scratch.points.toLocaleString('en-US')} points, with their covariates), ` +
        `the configured network (\`ml.lstm\`${describeNetwork(trainingOptions(args))}), in one low-priority child process. Held-out MASE: each series' newest 20 % of origins, never trained on.`,
    );
    out.push('');
    out.push(
      '| run | series | epochs × windows | window passes | wall time | window passes / s | training process CPU (training + shadow) | passes / CPU-second | peak RSS | held-out MASE (geomean, median) | beats naive / Holt-Winters (held out) | deployed | bar (wall; CPU) |',
    );
    out.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|---|');
    for (const r of training) {
      const limit = r.run === 'from scratch' ? 600 : 60;
      const cpu = r.cpuTrainingSeconds + r.cpuShadowSeconds;
      const bar = `≤ ${limit} s: ${r.seconds <= limit ? 'met' : '**not met**'}; ${Number.isFinite(cpu) ? (cpu <= limit ? 'met' : '**not met**') : 'n/a'}`;
      const wins = r.heldOut.length > 0 ? `${winsOver(r.heldOut, 'naiveMae')} / ${winsOver(r.heldOut, 'holtWintersMae')} of ${r.heldOut.length}` : 'n/a';
      out.push(
        `| ${r.run} | ${r.series} | ${r.epochs} × ${r.windows} | ${r.windowPasses.toLocaleString('en-US')} | ${f(r.seconds)} s | ${f(r.windowPassesPerSecond)} | ${f(cpu)} s (${f(r.cpuTrainingSeconds)} + ${f(r.cpuShadowSeconds)}) | ${f(r.windowPasses / r.cpuTrainingSeconds)} | ${f(r.peakRssMb, 0)} MB | ${f(r.heldOutGeomeanMase, 3)}, ${f(r.heldOutMedianMase, 3)} | ${wins} | ${r.failure ?? (r.deployed ? 'yes' : 'no (the serving model was better)')} | ${bar} |`,
      );
    }
    out.push('');
    out.push(
      'The training process runs TensorFlow.js on one thread, so its CPU time is about the wall time it would take on an otherwise idle core: on a busy machine the wall time measures the machine, the CPU time the training. ' +
        '"Beats naive / Holt-Winters": series whose held-out MAE is below that baseline\'s over the same window (the baseline fitted on the rows before it); the service serves the LSTM only where it beats the serving baseline on data it never trained on.',
    );
    out.push('');
    const scratchHeldOut = scratch.heldOut;
    if (scratchHeldOut.length > 0) {
      out.push('Held-out MAE per series after the training from scratch (series units):');
      out.push('');
      out.push('| series | LSTM | naive | Holt-Winters |');
      out.push('|---|---:|---:|---:|');
      const g = (v: number) => (Number.isFinite(v) ? v.toPrecision(4) : 'n/a');
      for (const h of scratchHeldOut) {
        const best = Math.min(h.lstmMae, h.naiveMae, h.holtWintersMae);
        const cell = (v: number) => (v === best ? `**${g(v)}**` : g(v));
        out.push(`| ${h.key} | ${cell(h.lstmMae)} | ${cell(h.naiveMae)} | ${cell(h.holtWintersMae)} |`);
      }
      out.push('');
    }
    if (fine === undefined) out.push('The fine-tune did not run: the training from scratch failed.');
    out.push('');
  }
  if (latency !== undefined) out.push(...latencyMarkdown(latency));
  process.stdout.write(`${out.join('\n')}\n`);
}

function latencyMarkdown(report: LatencyReport): string[] {
  const f = (v: number | undefined, d = 2) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));
  const out: string[] = [];
  out.push(
    `Serving latency while idle and while an LSTM trains. The Service runs in its own process, the client in the benchmark process ` +
      `(sequential requests on 127.0.0.1, one keep-alive connection per endpoint, endpoints in turn), the training in a child process at ` +
      `the lowest priority (\`runTrainingInWorker\`, the design network, measured from its first finished epoch on). ` +
      `${report.roundsPerState} rounds of each state, interleaved idle, training, idle, …; ${report.requestsPerEndpointPerRound} requests per endpoint per round; ` +
      `percentiles pooled over the rounds of a state.`,
  );
  out.push('');
  out.push('| endpoint | state | requests | p50 | p99 | max |');
  out.push('|---|---|---:|---:|---:|---:|');
  for (const e of report.endpoints) {
    for (const state of ['idle', 'training'] as const) {
      const s = e[state];
      out.push(`| ${e.endpoint} | ${state} | ${s.requests} | ${f(s.p50Ms)} ms | ${f(s.p99Ms)} ms | ${f(s.maxMs)} ms |`);
    }
  }
  out.push('');
  out.push('| endpoint | p50 training ÷ idle | p99 training ÷ idle (pooled) | p99 ratio per round pair (median) | bar: p99 ≤ 2× idle |');
  out.push('|---|---:|---:|---:|---|');
  for (const e of report.endpoints) {
    out.push(`| ${e.endpoint} | ${f(e.p50Ratio)}× | ${f(e.p99Ratio)}× | ${e.roundP99Ratios.map((r) => f(r)).join(', ')} (${f(e.medianRoundP99Ratio)}×) | ${e.barMet ? 'met' : '**not met**'} |`);
  }
  out.push('');
  out.push('What ran during each round (from /proc: CPU time ÷ round time; "others" is every other process on the machine):');
  out.push('');
  out.push(`| round | state | seconds | service CPU per request | training process | others | steal | ${report.endpoints.map((e) => `p99 ${shortName(e.endpoint)}`).join(' | ')} |`);
  out.push(`|---:|---|---:|---:|---|---:|---:|${report.endpoints.map(() => '---:|').join('')}`);
  for (const r of report.rounds) {
    const trainingColumn = r.state === 'idle' ? 'none' : `nice ${r.trainingNice ?? 'n/a'}, ${f(r.trainingCores)} cores`;
    out.push(
      `| ${r.round}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ''} | ${r.state} | ${f(r.seconds, 1)} | ${f(r.serviceCpuMicrosPerRequest, 0)} µs | ${trainingColumn} | ${f(r.otherCores)} cores | ${f(r.stealCores)} cores | ${r.p99Ms.map((p) => `${f(p)} ms`).join(' | ')} |`,
    );
  }
  out.push('');
  if (report.dropped.length > 0) {
    out.push(
      `Dropped and redone (failed the check that the state held for the whole round): ${report.dropped.map((d) => `round ${d.round} ${d.state} attempt ${d.attempt}: ${d.problem}`).join('; ')}.`,
    );
    out.push('');
  }
  const disturbed = report.rounds.filter((r) => r.otherCores !== undefined && r.otherCores > disturbedCores);
  out.push(
    disturbed.length === 0
      ? `Other work on the machine used at most ${f(disturbedCores, 1)} cores in every round (undisturbed); load average ${report.loadAverageAtEnd.map((l) => l.toFixed(2)).join(', ')} at the end.`
      : `**Disturbed**: other work on the machine used more than ${f(disturbedCores, 1)} cores in ${disturbed.length} of ${report.rounds.length} rounds ` +
          `(${disturbed.map((r) => `${r.state} ${r.round}: ${f(r.otherCores)}`).join(', ')}); compare the undisturbed rounds before trusting the ratios. ` +
          `Load average ${report.loadAverageAtEnd.map((l) => l.toFixed(2)).join(', ')} at the end.`,
  );
  out.push('');
  for (const e of report.endpoints) {
    out.push(
      `- ${e.endpoint}: p99 ${f(e.training.p99Ms)} ms while training vs ${f(e.idle.p99Ms)} ms idle = ${f(e.p99Ratio)}× (median per round pair ${f(e.medianRoundP99Ratio)}×): 2× bar ${e.barMet ? 'MET' : 'NOT MET'}.`,
    );
  }
  out.push('');
  return out;
}

function describeNetwork(o: Partial<LstmOptions>): string {
  return `: LSTM ${o.units?.join(' → ')}, ${o.lookbackSteps} steps × ${o.features?.length} features (${o.features?.join(', ')}), batch ${o.batchSize}, learning rate ${o.learningRate}`;
}

function shortName(endpoint: string): string {
  return endpoint.startsWith('GET ') ? endpoint.slice(4) : 'external';
}

function navigatorCores(): number {
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
}

await main();
