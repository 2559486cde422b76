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
import { loadavg } from 'node:os';
import process from 'node:process';
import { loadConfig } from '../src/config/index.js';
import { isFeatureName } from '../src/forecast/index.js';
import type { FeatureName, LstmOptions } from '../src/forecast/index.js';
import { lstmOptionsFromConfig, runTrainingInWorker } from '../src/training/index.js';
import type { TrainingJob, TrainingOutcome } from '../src/training/index.js';
import { readProcess } from './support/proc-stat.js';
import { demoSeries, demoStartMs } from './support/demo-series.js';
import { alive, latencyMarkdown, median, servingLatency, trainingProcesses } from './support/serving-latency.js';
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
  const latency = args.latency ? await servingLatency({ ...args, lstmOptions: configuredLstm().options }) : undefined;
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

function describeNetwork(o: Partial<LstmOptions>): string {
  return `: LSTM ${o.units?.join(' → ')}, ${o.lookbackSteps} steps × ${o.features?.length} features (${o.features?.join(', ')}), batch ${o.batchSize}, learning rate ${o.learningRate}`;
}

function navigatorCores(): number {
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
}

await main();
