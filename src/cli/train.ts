import { basename } from 'node:path';
import { loadConfig } from '../config/index.js';
import type { Config } from '../config/index.js';
import { formatDuration, inputKey, parseDurationSeconds, systemClock, messageOf } from '../core/index.js';
import type { RegularSeries } from '../core/index.js';
import { forecastTargets } from '../engine/index.js';
import { horizonStepsFor, seasonStepsFor } from '../forecast/index.js';
import type { ForecastSpec, LstmOptions, LstmProgress, TfBackendPreference } from '../forecast/index.js';
import { createSource } from '../app/index.js';
import { lstmMetaOf, lstmOptionsFromConfig, ModelStore, runTrainingInWorker } from '../training/index.js';
import type { TrainingJob } from '../training/index.js';
import { inferStepSeconds, readInputCsvFile, rowsToRegularSeries } from './csv.js';
import { type FlagValues, parseFlags } from './flags.js';
import { exitCodesHelp, exitFailure, exitOk, exitUsage } from './io.js';
import type { CliIo, Command } from './io.js';

const usage = `Usage: foresight train [--config FILE] [--input F.csv ...] [options]

Trains the LSTM of each series in a low-priority child process and saves it atomically under the model path
(scaling.modelPath / SCALING_ML_MODEL_PATH, default models/) as model.json + weights.bin + meta.json.
A series that already has a model keeps it unless the new one is better on the held-out newest
data (shadow evaluation), or --force is given.

Sources:
  --input F.csv        train from a timestamp,value CSV (repeatable; one series per file, named
                       after the file, or --series for a single file)
  (no --input)         train from the configured source (Prometheus, or the replay traces): the
                       history of every forecast series over forecast.history at forecast.step

Options:
  --config FILE        YAML configuration (default: FORESIGHT_CONFIG, else built-in defaults)
  --series KEY         the series key of a single --input file (default: the file name)
  --horizon D          forecast horizon (default: the first of forecast.horizons)
  --out DIR            model folder (default: scaling.modelPath)
  --epochs N           override ml.lstm.epochs
  --max-windows N      override ml.lstm.maxWindows
  --seed N             override ml.lstm.seed
  --backend B          auto | wasm | cpu | tensorflow (default: ml.lstm.backend)
  --force              save the new model even if it does not beat the current one
  --help               this text

Progress goes to stderr: a bar on a terminal, one log line per epoch otherwise.

${exitCodesHelp('the configuration is invalid, the training data cannot be read, or a series failed to train or save')}(0 means every series trained, or kept its better model.)
`;

/** A series to train, with its grid spec. */
interface TrainTarget {
  readonly seriesKey: string;
  readonly series: RegularSeries;
  readonly spec: ForecastSpec;
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`${flag} must be a whole number >= 1, got "${text}"`);
  return Number(text);
}

/** The LSTM options of the configuration, with command-line overrides. */
function lstmOptionsOf(config: Config, overrides: { epochs?: number; maxWindows?: number; seed?: number }): Partial<LstmOptions> {
  return { ...lstmOptionsFromConfig(config.ml.lstm), ...overrides };
}

/** Draws progress: a redrawn bar on a terminal, a log line per epoch elsewhere (logs, CI). */
function progressReporter(io: CliIo): { update(key: string, p: LstmProgress, seconds: number): void; done(): void } {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let drawn = false;
  return {
    update(key, p, seconds) {
      if (tty) {
        const width = 24;
        const filled = Math.round((width * p.epoch) / p.epochs);
        io.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${key}: epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} ${seconds.toFixed(0)}s\u001b[K`);
        drawn = true;
      } else {
        io.stderr.write(`train ${key}: epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} windows ${p.windows} elapsed ${seconds.toFixed(1)}s\n`);
      }
    },
    done() {
      if (drawn) io.stderr.write('\n');
      drawn = false;
    },
  };
}

async function csvTargets(files: readonly string[], seriesName: string | undefined, horizonSeconds: number, io: CliIo): Promise<TrainTarget[]> {
  const out: TrainTarget[] = [];
  for (const file of files) {
    const csv = await readInputCsvFile(file);
    if (csv.badLines.length > 0) io.stderr.write(`${file}: skipped ${csv.badLines.length} bad line(s) (first: line ${csv.badLines[0]!.line}: ${csv.badLines[0]!.reason})\n`);
    const step = inferStepSeconds(csv.rows.timestampsSeconds);
    if (step === undefined) throw new Error(`${file}: fewer than two usable timestamp,value rows`);
    const series = rowsToRegularSeries(csv.rows, step).series;
    const horizon = horizonStepsFor(horizonSeconds, step);
    out.push({
      seriesKey: seriesName ?? basename(file).replace(/\.csv$/i, ''),
      series,
      spec: { stepSeconds: step, seasonSteps: seasonStepsFor(step), horizonSteps: horizon.steps },
    });
  }
  return out;
}

async function sourceTargets(config: Config, horizonSeconds: number): Promise<TrainTarget[]> {
  const step = config.forecast.step;
  const stepMs = step * 1000;
  const endMs = Math.floor(systemClock.nowMs() / stepMs) * stepMs;
  const startMs = endMs - config.forecast.history * 1000;
  const history = await createSource(config, systemClock).readHistory(forecastTargets(config), { startMs, endMs, stepSeconds: step });
  const spec: ForecastSpec = { stepSeconds: step, seasonSteps: Math.round(config.forecast.season / step), horizonSteps: horizonStepsFor(horizonSeconds, step).steps };
  return history.history.map((h) => ({ seriesKey: inputKey(h.input), series: h.series, spec }));
}

const trainFlags = {
  config: { type: 'string' },
  input: { type: 'string', multiple: true },
  series: { type: 'string' },
  horizon: { type: 'string' },
  out: { type: 'string' },
  epochs: { type: 'string' },
  'max-windows': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  force: { type: 'boolean' },
} as const;

/** `foresight train`: see the usage text. */
export const trainCommand: Command = async (args, io) => {
  const parsed = parseFlags(args, trainFlags);
  if (parsed.ok && parsed.value === 'help') {
    io.stdout.write(usage);
    return exitOk;
  }
  let overrides: { epochs?: number; maxWindows?: number; seed?: number };
  let horizonOverride: number | undefined;
  let values: FlagValues<typeof trainFlags>;
  try {
    if (!parsed.ok) throw new Error(parsed.error);
    values = parsed.value as FlagValues<typeof trainFlags>;
    const epochs = positiveInt(values.epochs, '--epochs');
    const maxWindows = positiveInt(values['max-windows'], '--max-windows');
    const seed = values.seed === undefined ? undefined : /^-?\d+$/.test(values.seed) ? Number(values.seed) : Number.NaN;
    if (seed !== undefined && !Number.isFinite(seed)) throw new Error(`--seed must be a whole number, got "${values.seed}"`);
    overrides = { ...(epochs !== undefined ? { epochs } : {}), ...(maxWindows !== undefined ? { maxWindows } : {}), ...(seed !== undefined ? { seed } : {}) };
    if (values.horizon !== undefined) {
      const horizon = /^\d+(\.\d+)?$/.test(values.horizon) ? Number(values.horizon) : parseDurationSeconds(values.horizon);
      if (horizon === undefined || !(horizon > 0)) throw new Error(`--horizon "${values.horizon}" is not a positive duration (examples: 15m, 1h, 900)`);
      horizonOverride = horizon;
    }
    if (values.backend !== undefined && !['auto', 'wasm', 'cpu', 'tensorflow'].includes(values.backend)) throw new Error(`--backend must be auto, wasm, cpu or tensorflow, got "${values.backend}"`);
    if (values.series !== undefined && (values.input?.length ?? 0) !== 1) throw new Error('--series names the series of exactly one --input file');
  } catch (error) {
    io.stderr.write(`foresight train: ${messageOf(error)}\n\n${usage}`);
    return exitUsage;
  }
  const file = values.config ?? io.env['FORESIGHT_CONFIG'];
  const loaded = loadConfig({ ...(file === undefined ? {} : { file }), env: io.env });
  if (!loaded.ok) {
    io.stderr.write(`foresight train: the configuration is invalid:\n${loaded.error.message}\n`);
    return exitFailure;
  }
  const config = loaded.value;
  const horizonSeconds = horizonOverride ?? config.forecast.horizons[0]!;
  const store = new ModelStore(values.out ?? config.scaling.modelPath);
  const backend = (values.backend ?? config.ml.lstm.backend) as TfBackendPreference;
  const options = lstmOptionsOf(config, overrides);

  let targets: TrainTarget[];
  try {
    targets = values.input !== undefined && values.input.length > 0 ? await csvTargets(values.input, values.series, horizonSeconds, io) : await sourceTargets(config, horizonSeconds);
  } catch (error) {
    io.stderr.write(`foresight train: cannot read the training data: ${messageOf(error)}\n`);
    return exitFailure;
  }
  if (targets.length === 0) {
    io.stderr.write('foresight train: no series to train (the source returned no history)\n');
    return exitFailure;
  }
  const progress = progressReporter(io);
  let failures = 0;
  for (const target of targets) {
    const current = await store.load(target.seriesKey);
    if (!current.ok && current.error.reason !== 'missing')
      io.stderr.write(`foresight train: ${target.seriesKey}: the stored model is ${current.error.reason} (${current.error.message}); it will be replaced\n`);
    const job: TrainingJob = {
      seriesKey: target.seriesKey,
      inputs: { target: target.series },
      spec: target.spec,
      options,
      backend,
      ...(current.ok && values.force !== true ? { current: { artifacts: current.value.artifacts, meta: lstmMetaOf(current.value.meta) } } : {}),
    };
    io.stderr.write(
      `foresight train: ${target.seriesKey}: ${target.series.values.length} points at ${formatDuration(target.spec.stepSeconds)}, ` +
        `horizon ${formatDuration(target.spec.horizonSteps * target.spec.stepSeconds)}, ${options.epochs} epochs, up to ${options.maxWindows} windows\n`,
    );
    const began = performance.now();
    const outcome = await runTrainingInWorker(job, { onProgress: (p) => progress.update(target.seriesKey, p, (performance.now() - began) / 1000) });
    progress.done();
    if (!outcome.ok) {
      failures++;
      io.stderr.write(`foresight train: ${target.seriesKey}: no model: ${outcome.failure.reason}: ${outcome.failure.message}\n`);
      continue;
    }
    const v = outcome.meta.validation;
    const scores = `held-out MAE ${v.mae.toFixed(4)}, MASE ${v.mase.toFixed(3)}, WAPE ${(100 * v.wape).toFixed(1)} % over ${v.count} origins; ${outcome.durationSeconds.toFixed(1)} s`;
    if (!outcome.shadow.deploy) {
      io.stderr.write(
        `foresight train: ${target.seriesKey}: kept the current model (new MAE ${outcome.shadow.candidateMae.toFixed(4)} vs current ${outcome.shadow.currentMae.toFixed(4)} on the held-out window); ${scores}\n`,
      );
      continue;
    }
    try {
      const saved = await store.save(target.seriesKey, outcome.artifacts, {
        ...outcome.meta,
        seriesKey: target.seriesKey,
        createdAtMs: Math.round(systemClock.nowMs()),
        trainingDurationSeconds: outcome.durationSeconds,
      });
      io.stderr.write(`foresight train: ${target.seriesKey}: saved ${saved.dir} (${outcome.shadow.reason}); ${scores}\n`);
    } catch (error) {
      failures++;
      io.stderr.write(`foresight train: ${target.seriesKey}: cannot save the model under ${store.root}: ${messageOf(error)}\n`);
    }
  }
  return failures > 0 ? exitFailure : exitOk;
};
