/**
 * The serving-latency half of `bench:train` (bench/train.ts describes the method): the Service in
 * a child process, sequential requests from this process, and rounds that interleave idle and a
 * training at nice 19 in its own process.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import type { LstmOptions } from '../../src/forecast/index.js';
import { runTrainingInWorker } from '../../src/training/index.js';
import type { TrainingJob, TrainingOutcome } from '../../src/training/index.js';
import { demoSeries, demoStartMs } from './demo-series.js';
import { childProcesses, processTreeCpuSeconds, readMachineCpu, readProcess } from './proc-stat.js';
import type { ServiceChildReady } from './service-child.js';

/** What the latency half is asked to do. */
export interface LatencyArgs {
  readonly rounds: number;
  readonly requests: number;
  readonly serviceNodeOptions: readonly string[];
  /** The LSTM options the background training uses (the configured ones). */
  readonly lstmOptions: Partial<LstmOptions>;
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

export function median(values: readonly number[]): number {
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
async function backgroundJob(options: Partial<LstmOptions>): Promise<TrainingJob> {
  const { series, spec } = await demoSeries(demoStartMs, 14);
  return { seriesKey: 'global', series, spec, options: { ...options, epochs: 1_000_000, maxWindows: 256, seed: 1 } };
}

/** The live training processes this benchmark started (children running training-worker). */
export function trainingProcesses(): number[] {
  return childProcesses(process.pid)
    .filter((p) => p.state !== 'Z' && p.commandLine.includes('training-worker'))
    .map((p) => p.pid);
}

export function alive(pid: number): boolean {
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
async function startBackgroundTraining(options: Partial<LstmOptions>): Promise<BackgroundTraining> {
  const job = await backgroundJob(options);
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
  lstmOptions: Partial<LstmOptions>,
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
  const training = await startBackgroundTraining(lstmOptions);
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

export interface LatencyReport {
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

export async function servingLatency(args: LatencyArgs): Promise<LatencyReport> {
  const pkiDir = mkdtempSync(join(tmpdir(), 'foresight-bench-pki-'));
  // The service's stdout goes to our stderr: --json output stays clean, and diagnostics (--trace-gc) stay visible.
  const child = fork(fileURLToPath(new URL('./service-child.ts', import.meta.url)), [pkiDir], {
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
          const measured = await measureRound(endpoints, args.requests, servicePid, state, args.lstmOptions);
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

function summarize(names: readonly string[], rounds: readonly Round[], dropped: LatencyReport['dropped'], args: LatencyArgs): LatencyReport {
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

export function latencyMarkdown(report: LatencyReport): string[] {
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

function shortName(endpoint: string): string {
  return endpoint.startsWith('GET ') ? endpoint.slice(4) : 'external';
}
