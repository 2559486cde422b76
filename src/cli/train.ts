import { lstat, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { configDeprecations, loadConfig } from '../config/index.js';
import type { Config } from '../config/index.js';
import { formatDuration, inputKey, messageOf, parseDurationSeconds, systemClock } from '../core/index.js';
import { covariateInputs, featureInputsOf, forecastTargets, listedQueues } from '../engine/index.js';
import { horizonStepsFor, seasonStepsFor } from '../forecast/index.js';
import type { ForecastSpec, GlobalSeriesInput, LstmOptions, LstmProgress, TfBackendPreference } from '../forecast/index.js';
import { createSource } from '../app/index.js';
import { globalLstmMetaOf, globalMetaToStore, globalModelKey, globalModels, lstmOptionsFromConfig, ModelStore, runTrainingInWorker } from '../training/index.js';
import type { TrainingJob } from '../training/index.js';
import { inferStepSeconds, readInputCsvFile, rowsToRegularSeries } from './csv.js';
import { type FlagValues, parseFlags } from './flags.js';
import { exitCodesHelp, exitFailure, exitOk, exitUsage } from './io.js';
import type { CliIo, Command } from './io.js';

const usage = `Usage: foresight train [--config FILE] [--input F.csv|DIR ...] [options]

Trains the global LSTM (one network for every series, each scaled in its own units) in a
low-priority child process and saves it atomically under the model path (scaling.modelPath /
SCALING_ML_MODEL_PATH, default models/) in global/lstm/ as model.json + weights.bin + meta.json.
The stored model is kept unless the new one is better on the held-out newest data of the series
(shadow evaluation), or --force is given.

Sources:
  --input F.csv|DIR    train from timestamp,value CSV files (repeatable; a folder means every
                       *.csv directly inside it; one series per file, named after the file, or
                       --series for a single file; all files must share one step)
  (no --input)         train from the configured source (Prometheus, or the replay traces): every
                       forecast series over forecast.history at forecast.step, with the covariates
                       the service feeds the LSTM (CPU, memory, queue rates, wait, failures)

Options:
  --config FILE        YAML configuration (default: FORESIGHT_CONFIG, else built-in defaults)
  --series KEY         the series key of a single --input file (default: the file name)
  --horizon D          forecast horizon (default: the first of forecast.horizons)
  --out DIR            model folder (default: scaling.modelPath)
  --fine-tune          continue from the stored model on the data it has not trained on
                       (ml.lstm.fineTuneEpochs, ml.lstm.fineTuneWindows) instead of from scratch
  --epochs N           override ml.lstm.epochs (or fineTuneEpochs with --fine-tune)
  --max-windows N      override ml.lstm.maxWindows (or fineTuneWindows with --fine-tune)
  --seed N             override ml.lstm.seed
  --backend B          auto | wasm | cpu | tensorflow (default: ml.lstm.backend)
  --force              save the new model even if it does not beat the current one
  --help               this text

Per-series held-out scores go to stdout; progress to stderr: a bar on a terminal, one log line
per epoch otherwise.

${exitCodesHelp('the configuration is invalid, the training data cannot be read, or no model could be trained or saved')}(0 means the model was trained and saved, or the stored one was kept because it is better.)
`;

/** The series to train on, with their grid spec (one for all: the model is global). */
interface TrainSet {
  readonly series: readonly GlobalSeriesInput[];
  readonly spec: ForecastSpec;
}

/** Largest CSV file read (a training file is data, not an unbounded stream). */
const maxCsvBytes = 256 * 1024 * 1024;

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

/** The CSV files named: a file as it is, a folder as the plain-named `*.csv` regular files directly inside it. */
async function csvFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const stats = await lstat(path);
    if (stats.isDirectory()) {
      const names = (await readdir(path)).filter((name) => /^[A-Za-z0-9][A-Za-z0-9._-]*\.csv$/i.test(name)).sort();
      for (const name of names) {
        const file = join(path, name);
        if ((await lstat(file)).isFile()) out.push(file);
      }
    } else if (stats.isFile()) out.push(path);
    else throw new Error(`${path}: not a regular file or a folder`);
  }
  for (const file of out) {
    const size = (await lstat(file)).size;
    if (size > maxCsvBytes) throw new Error(`${file}: ${size} bytes, more than the ${maxCsvBytes} a training file may have`);
  }
  return out;
}

async function csvTargets(paths: readonly string[], seriesName: string | undefined, horizonSeconds: number, io: CliIo): Promise<TrainSet> {
  const files = await csvFiles(paths);
  if (files.length === 0) throw new Error(`no .csv file in ${paths.join(', ')}`);
  if (seriesName !== undefined && files.length !== 1) throw new Error('--series names the series of exactly one CSV file');
  const series: GlobalSeriesInput[] = [];
  let step: number | undefined;
  for (const file of files) {
    const csv = await readInputCsvFile(file);
    if (csv.badLines.length > 0) io.stderr.write(`${file}: skipped ${csv.badLines.length} bad line(s) (first: line ${csv.badLines[0]!.line}: ${csv.badLines[0]!.reason})\n`);
    const fileStep = inferStepSeconds(csv.rows.timestampsSeconds);
    if (fileStep === undefined) throw new Error(`${file}: fewer than two usable timestamp,value rows`);
    // One network forecasts one step and horizon: every file must share the grid.
    if (step !== undefined && fileStep !== step)
      throw new Error(`${file}: a ${formatDuration(fileStep)} step, but ${files[0]} has ${formatDuration(step)}; train files of different steps separately (--out)`);
    step = fileStep;
    series.push({ key: seriesName ?? basename(file).replace(/\.csv$/i, ''), inputs: { target: rowsToRegularSeries(csv.rows, fileStep).series } });
  }
  return { series, spec: { stepSeconds: step!, seasonSteps: seasonStepsFor(step!), horizonSteps: horizonStepsFor(horizonSeconds, step!).steps } };
}

/** Every forecast series of the configured source over forecast.history, with the covariates the service gives the LSTM. */
async function sourceTargets(config: Config, horizonSeconds: number): Promise<TrainSet> {
  const step = config.forecast.step;
  const stepMs = step * 1000;
  const endMs = Math.floor(systemClock.nowMs() / stepMs) * stepMs;
  const startMs = endMs - config.forecast.history * 1000;
  const targets = forecastTargets(config);
  const read = await createSource(config, systemClock).readHistory([...targets, ...covariateInputs(listedQueues(config))], { startMs, endMs, stepSeconds: step });
  const byKey = new Map(read.history.map((h) => [inputKey(h.input), h.series]));
  const spec: ForecastSpec = { stepSeconds: step, seasonSteps: Math.round(config.forecast.season / step), horizonSteps: horizonStepsFor(horizonSeconds, step).steps };
  const series = targets.flatMap((input) => {
    const target = byKey.get(inputKey(input));
    return target === undefined ? [] : [{ key: inputKey(input), inputs: featureInputsOf(input, target, (key) => byKey.get(key)) }];
  });
  return { series, spec };
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
  'fine-tune': { type: 'boolean' },
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
    if (values.force === true && values['fine-tune'] === true) throw new Error('--force and --fine-tune do not go together (a fine-tune is always compared with the model it continues)');
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
  for (const d of configDeprecations(config)) io.stderr.write(`foresight train: deprecated configuration key: ${d.message}\n`);
  const horizonSeconds = horizonOverride ?? config.forecast.horizons[0]!;
  const store = new ModelStore(values.out ?? config.scaling.modelPath, globalModels);
  const backend = (values.backend ?? config.ml.lstm.backend) as TfBackendPreference;
  const options = lstmOptionsOf(config, overrides);

  let targets: TrainSet;
  try {
    targets = values.input !== undefined && values.input.length > 0 ? await csvTargets(values.input, values.series, horizonSeconds, io) : await sourceTargets(config, horizonSeconds);
  } catch (error) {
    io.stderr.write(`foresight train: cannot read the training data: ${messageOf(error)}\n`);
    return exitFailure;
  }
  if (targets.series.length === 0) {
    io.stderr.write('foresight train: no series to train (the source returned no history)\n');
    return exitFailure;
  }
  const current = await store.load(globalModelKey);
  if (!current.ok && current.error.reason !== 'missing') io.stderr.write(`foresight train: the stored model is ${current.error.reason} (${current.error.message}); it will be replaced\n`);
  const base = current.ok ? { artifacts: current.value.artifacts, meta: globalLstmMetaOf(current.value.meta) } : undefined;
  if (values['fine-tune'] === true && base === undefined) {
    io.stderr.write('foresight train: --fine-tune needs a stored model; train from scratch first\n');
    return exitFailure;
  }
  const job: TrainingJob = {
    seriesKey: globalModelKey,
    series: targets.series,
    spec: targets.spec,
    options,
    backend,
    ...(base !== undefined && values.force !== true ? { current: base } : {}),
    ...(base !== undefined && values['fine-tune'] === true
      ? { current: base, fineTune: { epochs: overrides.epochs ?? config.ml.lstm.fineTuneEpochs, maxWindows: overrides.maxWindows ?? config.ml.lstm.fineTuneWindows } }
      : {}),
  };
  const points = targets.series.reduce((sum, s) => sum + s.inputs.target.values.length, 0);
  io.stderr.write(
    `foresight train: ${job.fineTune !== undefined ? 'fine-tuning' : 'training'} one global model on ${targets.series.length} series (${points} points at ${formatDuration(targets.spec.stepSeconds)}), ` +
      `horizon ${formatDuration(targets.spec.horizonSteps * targets.spec.stepSeconds)}, ` +
      (job.fineTune !== undefined ? `${job.fineTune.epochs} epochs, up to ${job.fineTune.maxWindows} windows\n` : `${options.epochs} epochs, up to ${options.maxWindows} windows\n`),
  );
  const progress = progressReporter(io);
  const began = performance.now();
  const outcome = await runTrainingInWorker(job, { onProgress: (p) => progress.update(globalModelKey, p, (performance.now() - began) / 1000) });
  progress.done();
  if (!outcome.ok) {
    io.stderr.write(`foresight train: no model: ${outcome.failure.reason}: ${outcome.failure.message}\n`);
    return exitFailure;
  }
  for (const [key, why] of Object.entries(outcome.meta.skipped)) io.stderr.write(`foresight train: ${key}: not trained on: ${why}\n`);
  for (const [key, s] of Object.entries(outcome.meta.series)) {
    const v = s.validation;
    if (targets.series.some((t) => t.key === key))
      io.stdout.write(`${key}\theld-out MAE ${v.mae.toPrecision(4)}\tMASE ${v.mase.toFixed(3)}\tWAPE ${(100 * v.wape).toFixed(1)} %\t${v.count} origins\n`);
  }
  const summary = `${outcome.meta.windowPasses} window passes in ${outcome.durationSeconds.toFixed(1)} s`;
  if (!outcome.shadow.deploy) {
    io.stderr.write(
      `foresight train: kept the current model (new scaled MAE ${outcome.shadow.candidateMae.toFixed(4)} vs current ${outcome.shadow.currentMae.toFixed(4)} on the held-out windows); ${summary}\n`,
    );
    return exitOk;
  }
  let failures = 0;
  try {
    const saved = await store.save(globalModelKey, outcome.artifacts, globalMetaToStore(outcome.meta, systemClock.nowMs(), outcome.durationSeconds));
    io.stderr.write(`foresight train: saved ${saved.dir} (${outcome.shadow.reason}); ${summary}\n`);
  } catch (error) {
    failures++;
    io.stderr.write(`foresight train: cannot save the model under ${store.root}: ${messageOf(error)}\n`);
  }
  return failures > 0 ? exitFailure : exitOk;
};
