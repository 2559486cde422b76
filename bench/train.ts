/**
 * `npm run bench:train`: what LSTM training costs, and what it costs serving.
 *
 * 1. Training time and peak memory for 14 days of 1-minute history (20,160 points per series) for
 *    1, 10 and 100 series, on this machine (2 cores), through the real path: one low-priority child process per
 *    series (`runTrainingInWorker`), one training at a time (the lifecycle never runs two), the
 *    design network (LSTM 64 → 32, 60 steps × 8 features). Full training (20 epochs of up to 4,096
 *    windows per series) would take hours for 100 series, so the runs use fewer epochs and windows
 *    (printed) and the table extrapolates to the defaults from the measured cost per window-epoch.
 * 2. Latency of `GET /metrics` and `GET /scaling/status` on a running Service (test/support/service.ts)
 *    while idle and while a training runs in a worker, as p50/p99/max over sequential requests.
 *
 * Usage: tsx bench/train.ts [--counts 1,10,100] [--epochs N] [--windows N] [--requests N] [--json]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { horizonStepsFor, seasonStepsFor } from '../src/forecast/index.js';
import type { ForecastSpec, LstmOptions } from '../src/forecast/index.js';
import { runTrainingInWorker } from '../src/training/index.js';
import type { TrainingJob } from '../src/training/index.js';
import { buildService, configFromYaml } from '../test/support/service.js';

interface Args {
  readonly counts: readonly number[];
  readonly epochs: number;
  readonly windows: number;
  readonly requests: number;
  readonly json: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let counts = [1, 10, 100];
  let epochs = 2;
  let windows = 512;
  let requests = 300;
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
    if (arg === '--counts') counts = next().split(',').map(positive);
    else if (arg === '--epochs') epochs = positive(next());
    else if (arg === '--windows') windows = positive(next());
    else if (arg === '--requests') requests = positive(next());
    else if (arg === '--json') json = true;
    else throw new Error(`unknown argument "${arg}" (usage: tsx bench/train.ts [--counts 1,10,100] [--epochs N] [--windows N] [--requests N] [--json])`);
  }
  return { counts, epochs, windows, requests, json };
}

/** 14 days of 1-minute points: daily and weekly cycles, AR(1) noise and bursts; deterministic per series. */
function syntheticSeries(index: number): Float64Array {
  const n = 14 * 1440;
  let state = (index + 1) * 2654435761;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const values = new Float64Array(n);
  let ar = 0;
  const level = 200 + 50 * (index % 7);
  for (let i = 0; i < n; i++) {
    ar = 0.9 * ar + 10 * (random() - 0.5);
    const day = Math.sin((2 * Math.PI * i) / 1440);
    const week = i % (7 * 1440) > 5 * 1440 ? 0.6 : 1;
    values[i] = Math.max(0, level * week * (1 + 0.5 * day) + ar + (random() < 0.002 ? 300 * random() : 0));
  }
  return values;
}

const spec: ForecastSpec = { stepSeconds: 60, seasonSteps: seasonStepsFor(60), horizonSteps: horizonStepsFor(900, 60).steps };
const design: Partial<LstmOptions> = { lookbackSteps: 60, units: [64, 32], dropout: 0.2, denseUnits: 16, batchSize: 64 };
const defaultEpochs = 20;
const defaultWindows = 4096;

/** Samples the process RSS (main thread and workers share it) every 50 ms; returns the peak in MB. */
function rssPeak(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss) / 2 ** 20;
    },
  };
}

interface TrainingRow {
  readonly series: number;
  readonly epochs: number;
  readonly windows: number;
  readonly seconds: number;
  readonly secondsPerSeries: number;
  readonly peakRssMb: number;
  readonly failures: number;
  /** Seconds per series at the default 20 epochs × 4,096 windows, from the measured cost. */
  readonly extrapolatedSecondsPerSeries: number;
  readonly extrapolatedTotalHours: number;
}

async function trainSeries(count: number, epochs: number, windows: number): Promise<TrainingRow> {
  const memory = rssPeak();
  const began = performance.now();
  let failures = 0;
  let fixedSeconds = 0;
  let epochSeconds = 0;
  let measuredEpochs = 0;
  for (let s = 0; s < count; s++) {
    const job: TrainingJob = {
      seriesKey: `queue/q${s}/depth`,
      inputs: { target: { startMs: Date.UTC(2024, 0, 1), stepSeconds: 60, values: syntheticSeries(s) } },
      spec,
      options: { ...design, epochs, maxWindows: windows, seed: s + 1 },
    };
    const epochEnds: number[] = [];
    const jobBegan = performance.now();
    const outcome = await runTrainingInWorker(job, { onProgress: () => epochEnds.push(performance.now()) });
    if (!outcome.ok) failures++;
    // Epochs after the first are pure training; everything else (worker and TensorFlow.js start-up,
    // features, the first epoch's warm-up, validation, shadow evaluation, export) is per-series overhead.
    for (let k = 1; k < epochEnds.length; k++) {
      epochSeconds += (epochEnds[k]! - epochEnds[k - 1]!) / 1000;
      measuredEpochs++;
    }
    fixedSeconds += (performance.now() - jobBegan) / 1000;
    process.stderr.write(`bench:train: ${count} series: ${s + 1}/${count} done (${outcome.durationSeconds.toFixed(1)} s${outcome.ok ? '' : `, failed: ${outcome.failure.message}`})\n`);
  }
  const seconds = (performance.now() - began) / 1000;
  const perSeries = seconds / count;
  // Cost model: per-series overhead plus epochs × windows × (cost of one window-epoch), from the
  // epochs after the first. With one epoch only, the whole run is scaled (an overestimate).
  const perEpoch = measuredEpochs > 0 ? epochSeconds / measuredEpochs : perSeriesFallback(fixedSeconds / count, epochs);
  const overhead = Math.max(0, fixedSeconds / count - epochs * perEpoch);
  const extrapolated = overhead + defaultEpochs * (Math.min(defaultWindows, maxTrainingWindows) / windows) * perEpoch;
  return {
    series: count,
    epochs,
    windows,
    seconds,
    secondsPerSeries: perSeries,
    peakRssMb: memory.stop(),
    failures,
    extrapolatedSecondsPerSeries: extrapolated,
    extrapolatedTotalHours: (extrapolated * count) / 3600,
  };
}

/** With a single measured epoch there is nothing to separate: the whole run counts as that epoch. */
function perSeriesFallback(seriesSeconds: number, epochs: number): number {
  return seriesSeconds / epochs;
}

/** Training origins 14 days of 1-minute data give (80 % of the windows; the rest are held out). */
const maxTrainingWindows = Math.floor(0.8 * (14 * 1440 - 60 - 15));

interface LatencyRow {
  readonly path: string;
  readonly state: 'idle' | 'training';
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function measure(url: string, path: string, state: LatencyRow['state'], requests: number, until?: () => boolean): Promise<LatencyRow> {
  const times: number[] = [];
  for (let i = 0; i < requests && (until === undefined || !until()); i++) {
    const began = performance.now();
    const res = await fetch(`${url}${path}`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    times.push(performance.now() - began);
  }
  times.sort((a, b) => a - b);
  return { path, state, requests: times.length, p50Ms: quantile(times, 0.5), p99Ms: quantile(times, 0.99), maxMs: times[times.length - 1]! };
}

/** The external-metrics request an HPA makes, over mTLS with the local client certificate. */
const externalMetricsPath = '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue%3Dbatch_processing';

/** Like {@link measure}, over HTTPS with a client certificate on one keep-alive connection. */
async function measureHttps(url: string, path: string, pkiDir: string, state: LatencyRow['state'], requests: number, until?: () => boolean): Promise<LatencyRow> {
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 1,
    ca: readFileSync(join(pkiDir, 'ca.crt')),
    cert: readFileSync(join(pkiDir, 'client.crt')),
    key: readFileSync(join(pkiDir, 'client.key')),
  });
  const get = () =>
    new Promise<number>((resolve, reject) => {
      const req = https.get(`${url}${path}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
  const times: number[] = [];
  try {
    for (let i = 0; i < requests && (until === undefined || !until()); i++) {
      const began = performance.now();
      const status = await get();
      if (status !== 200) throw new Error(`${path} answered ${status}`);
      times.push(performance.now() - began);
    }
  } finally {
    agent.destroy();
  }
  times.sort((a, b) => a - b);
  return { path: 'external metrics (HTTPS, client cert)', state, requests: times.length, p50Ms: quantile(times, 0.5), p99Ms: quantile(times, 0.99), maxMs: times[times.length - 1]! };
}

async function servingLatency(requests: number): Promise<LatencyRow[]> {
  const pkiDir = mkdtempSync(join(tmpdir(), 'foresight-bench-pki-'));
  const service = buildService(
    configFromYaml(`server:\n  host: 127.0.0.1\n  port: 0\nexternalMetrics:\n  host: 127.0.0.1\n  port: 0\n  pkiDir: ${JSON.stringify(pkiDir)}\n`),
  );
  await service.start();
  try {
    await service.reconciler.runCycle();
    const rows: LatencyRow[] = [];
    for (const path of ['/metrics', '/scaling/status']) rows.push(await measure(service.url, path, 'idle', requests));
    rows.push(await measureHttps(service.externalMetrics.url, externalMetricsPath, pkiDir, 'idle', requests));
    // One full-size epoch of the design network on 14 days of 1-minute data keeps the worker busy long enough.
    let finished = false;
    const training = runTrainingInWorker({
      seriesKey: 'queue/bench/depth',
      inputs: { target: { startMs: Date.UTC(2024, 0, 1), stepSeconds: 60, values: syntheticSeries(0) } },
      spec,
      options: { ...design, epochs: 2, maxWindows: 2048, seed: 1 },
    }).finally(() => {
      finished = true;
    });
    // Let the worker get past TensorFlow.js start-up into training proper.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const path of ['/metrics', '/scaling/status']) rows.push(await measure(service.url, path, 'training', requests, () => finished));
    rows.push(await measureHttps(service.externalMetrics.url, externalMetricsPath, pkiDir, 'training', requests, () => finished));
    const outcome = await training;
    if (!outcome.ok) throw new Error(`the background training failed: ${outcome.failure.message}`);
    return rows;
  } finally {
    await service.stop();
    rmSync(pkiDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench:train: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const began = performance.now();
  const latency = await servingLatency(args.requests);
  const training: TrainingRow[] = [];
  for (const count of args.counts) training.push(await trainSeries(count, args.epochs, args.windows));
  const seconds = (performance.now() - began) / 1000;
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ command: 'npm run bench:train -- --json', spec, design, seconds, training, latency }, null, 2)}\n`);
    return;
  }
  const f = (v: number, d = 1) => v.toFixed(d);
  const out: string[] = [];
  out.push('## Training benchmark');
  out.push('');
  out.push(
    `Produced by \`npm run bench:train\` (\`tsx bench/train.ts\`) in ${f(seconds, 0)} s on ${navigatorCores()} cores. ` +
      `Each series: 14 days of 1-minute history (20,160 points), horizon 15 min, the design network (LSTM 64 → 32, 60 steps × 8 features), ` +
      `trained in its own low-priority child process, one series at a time. The extrapolation adds the per-series overhead measured here to ` +
      `20 epochs × 4,096 windows at the measured cost of one epoch (epochs after the first, scaled by windows).`,
  );
  out.push('');
  out.push('| series | epochs × windows (measured) | wall time | per series | peak RSS | failures | per series at 20 × 4,096 (extrapolated) | total at 20 × 4,096 (extrapolated) |');
  out.push('|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const r of training) {
    out.push(
      `| ${r.series} | ${r.epochs} × ${r.windows} | ${f(r.seconds)} s | ${f(r.secondsPerSeries)} s | ${f(r.peakRssMb, 0)} MB | ${r.failures} | ${f(r.extrapolatedSecondsPerSeries, 0)} s | ${f(r.extrapolatedTotalHours, 2)} h |`,
    );
  }
  out.push('');
  out.push('Serving latency while idle and while an LSTM trains in a low-priority child process (sequential requests on 127.0.0.1):');
  out.push('');
  out.push('| endpoint | state | requests | p50 | p99 | max | p99 vs idle |');
  out.push('|---|---|---:|---:|---:|---:|---:|');
  for (const r of latency) {
    const idle = latency.find((x) => x.path === r.path && x.state === 'idle')!;
    out.push(`| \`GET ${r.path}\` | ${r.state} | ${r.requests} | ${f(r.p50Ms, 2)} ms | ${f(r.p99Ms, 2)} ms | ${f(r.maxMs, 2)} ms | ${f(r.p99Ms / idle.p99Ms, 2)}× |`);
  }
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);
}

function navigatorCores(): number {
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
}

await main();
