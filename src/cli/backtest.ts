import { writeFile } from 'node:fs/promises';
import { clampQuantiles, formatDuration, messageOf, parseDurationSeconds, type ValueDomain, valueDomains } from '../core/index.js';
import type { RegularSeries, Result } from '../core/index.js';
import {
  combinationLabel,
  createAutoForecaster,
  createForecaster,
  createLagRegressionForecaster,
  createNaiveForecaster,
  createRandomForestForecaster,
  fitForBacktest,
  fitLstmCandidate,
  trainLstm,
  forecastEachOriginWithFallback,
  forecasterNames,
  horizonStepsFor,
  maseScale,
  scoreForecasts,
  seasonStepsFor,
  validationSplitIndex,
} from '../forecast/index.js';
import type {
  AccuracyReport,
  AutoSelection,
  CandidateFit,
  FitFailure,
  Forecaster,
  ForecastSpec,
  FittedWithFallback,
  HorizonSteps,
  LstmOptions,
  PointForecast,
  ValidationSelection,
} from '../forecast/index.js';
import { formatCsv, inferStepSeconds, rowsToRegularSeries, readInputCsv } from './csv.js';
import { parseFlags } from './flags.js';
import type { TimestampValueRows } from './csv.js';
import { exitCodesHelp, exitFailure, exitOk, exitUsage } from './io.js';
import type { CliIo, Command } from './io.js';

/** The default share of rows up to the default `--train-until`. */
export const defaultTrainShare = 0.7;

/** The default horizon: 15 minutes, the horizon the published `predicted_queue_depth` uses. */
export const defaultHorizonSeconds = 900;

/** Models `--model` accepts besides `auto`: the baselines, the learned models, and the LSTM. */
export const backtestModelNames: readonly string[] = [...forecasterNames, 'lag_regression', 'random_forest', 'lstm'];

/**
 * The LSTM a backtest trains: smaller than the service's default network (which trains for minutes
 * per series on two cores), so that `--lstm` stays usable on long traces.
 */
export const backtestLstmOptions: Partial<LstmOptions> = Object.freeze({
  lookbackSteps: 48,
  units: [32],
  denseUnits: 16,
  dropout: 0,
  epochs: 8,
  batchSize: 64,
  learningRate: 0.003,
  maxWindows: 1024,
});

const backtestLstmSummary = 'one LSTM layer of 32 units over 48 steps, 8 epochs on up to 1,024 windows';

const usage = `Usage: foresight backtest --input F.csv --out O.csv [--horizon 15m] [--train-until UNIX] [--model auto|NAME] [--lstm] [--seed N]

Rolling-origin forecasts of a CSV trace. For every input row (origin t) writes the forecast of the
value at t + horizon, made from rows with timestamp <= t only, with a p10-p90 band.

Options:
  --input F.csv        timestamp,value rows (unix seconds; header optional; gaps and irregular steps allowed)
  --out O.csv          output: timestamp,forecast,p10,p90 (one row per usable input row)
  --horizon D          how far ahead, a duration such as 15m, 1h or 900 (seconds); default 15m.
                       Rounded to a whole number of the input's step (the median interval), at least one.
  --train-until UNIX   model parameters are fitted only on rows with timestamp <= UNIX
                       (default: the timestamp of the row at the 70 % point)
  --model M            auto (default) or one of: ${backtestModelNames.join(', ')}.
                       auto fits every candidate (the baselines, lag_regression, random_forest, and
                       the LSTM with --lstm) on the first 70 % of the training rows, scores them on
                       the rest, and forecasts with the combination (the best one alone, or the
                       median or mean of the best few) that had the lowest validation error; its
                       p10-p90 band is the quantiles of that combination's validation errors.
  --lstm               let auto consider an LSTM too (trained on the training rows before the
                       validation split: ${backtestLstmSummary}); slower
  --seed N             seed of the learned models (default 1)
  --domain D           the values the series can take: nonnegative (counts, rates, durations),
                       percent (0-100) or finite (any finite value); forecasts and p10/p90 are clamped
                       into it. Default: nonnegative when every training row is >= 0, else finite.
  --help               this text

Where the model cannot forecast yet (before its warm-up, e.g. two days for holt_winters), the naive
forecast (last value) is written instead. A summary (model, MASE, WAPE, p10-p90 coverage over the
rows after --train-until) goes to stderr. The output is the same for the same input.

${exitCodesHelp('the input cannot be read or has too few usable rows, or the output cannot be written')}`;

/** What `foresight backtest` was asked to do. */
export interface BacktestArgs {
  readonly input: string;
  readonly out: string;
  readonly horizonSeconds: number;
  /** Undefined: the 70 % point of the rows. */
  readonly trainUntilSeconds: number | undefined;
  /** 'auto' or a name of {@link backtestModelNames}. */
  readonly model: string;
  /** Whether auto also considers an LSTM. */
  readonly lstm: boolean;
  readonly seed: number;
  /** `--domain`; undefined: inferred from the training rows. */
  readonly domain: ValueDomain | undefined;
}

/** Parses the command's arguments; 'help' when help was asked for, an error message for bad usage. */
export function parseBacktestArgs(args: readonly string[]): Result<BacktestArgs | 'help', string> {
  const flags = parseFlags(args, {
    input: { type: 'string' },
    out: { type: 'string' },
    horizon: { type: 'string' },
    'train-until': { type: 'string' },
    model: { type: 'string' },
    seed: { type: 'string' },
    lstm: { type: 'boolean' },
    domain: { type: 'string' },
  });
  if (!flags.ok) return flags;
  if (flags.value === 'help') return { ok: true, value: 'help' };
  const given = flags.value;
  const lstm = given.lstm === true;
  const { input, out } = given;
  if (input === undefined || input === '') return { ok: false, error: '--input is required' };
  if (out === undefined || out === '') return { ok: false, error: '--out is required' };
  let horizonSeconds = defaultHorizonSeconds;
  const horizonText = given.horizon;
  if (horizonText !== undefined) {
    const parsed = /^\d+(\.\d+)?$/.test(horizonText) ? Number(horizonText) : parseDurationSeconds(horizonText);
    if (parsed === undefined || !(parsed > 0)) {
      return { ok: false, error: `--horizon "${horizonText}" is not a positive duration (examples: 15m, 1h, 900)` };
    }
    horizonSeconds = parsed;
  }
  let trainUntilSeconds: number | undefined;
  const trainUntilText = given['train-until'];
  if (trainUntilText !== undefined) {
    trainUntilSeconds = /^[+-]?\d+(\.\d+)?$/.test(trainUntilText) ? Number(trainUntilText) : Number.NaN;
    if (!Number.isFinite(trainUntilSeconds)) return { ok: false, error: `--train-until "${trainUntilText}" is not a unix timestamp in seconds` };
  }
  const model = given.model ?? 'auto';
  if (model !== 'auto' && !backtestModelNames.includes(model)) {
    return { ok: false, error: `--model "${model}" is not a model; use auto or one of: ${backtestModelNames.join(', ')}` };
  }
  const seedText = given.seed ?? '1';
  if (!/^-?\d+$/.test(seedText)) return { ok: false, error: `--seed "${seedText}" is not a whole number` };
  const domain = given.domain;
  if (domain !== undefined && !Object.hasOwn(valueDomains, domain)) return { ok: false, error: `--domain "${domain}" is not a domain; use one of: ${Object.keys(valueDomains).join(', ')}` };
  return { ok: true, value: { input, out, horizonSeconds, trainUntilSeconds, model, lstm, seed: Number(seedText), domain: domain as ValueDomain | undefined } };
}

/** A synchronous forecaster by `--model` name (the LSTM trains asynchronously, see {@link runBacktestAsync}). */
function syncForecaster(name: string, seed: number): Forecaster | undefined {
  if (name === 'lag_regression') return createLagRegressionForecaster();
  if (name === 'random_forest') return createRandomForestForecaster({ seed });
  return createForecaster(name);
}

/** What {@link runBacktest} is asked to do. */
export interface BacktestRunOptions {
  readonly horizonSeconds: number;
  readonly trainUntilSeconds?: number | undefined;
  /** 'auto' or a name of {@link backtestModelNames}. */
  readonly model: string;
  /** Seed of the learned models (default 1). The output is a function of the input and the seed. */
  readonly seed?: number;
  /** For `auto`: candidates fitted elsewhere (the LSTM), on the same training rows and split. */
  readonly extraCandidates?: readonly CandidateFit[];
  /** For a named model: an already fitted model to use instead of fitting one (the LSTM). */
  readonly prefitted?: { readonly model: FittedWithFallback['primary']; readonly failure?: FitFailure };
  /** The values the series can take; forecasts and quantiles are clamped into it. Default: nonnegative when every training row is ≥ 0, else any. */
  readonly domain?: ValueDomain | undefined;
}

/** The outcome of a backtest over CSV rows. */
export interface BacktestRun {
  /** The model that produced the forecasts (naive where it could not forecast yet). */
  readonly model: string;
  /** The validation scores `auto` chose from (undefined when a model was named). */
  readonly selection?: ValidationSelection;
  /** For `auto`: the combinations tried, the one chosen, and its band. */
  readonly autoSelection?: AutoSelection;
  /** Why the model could not be fitted at all (then naive answered at every row). */
  readonly fitFailure?: FitFailure;
  /** The grid step, seconds. */
  readonly stepSeconds: number;
  readonly horizon: HorizonSteps;
  readonly spec: ForecastSpec;
  readonly trainUntilSeconds: number;
  /** Rows with timestamp <= trainUntilSeconds. */
  readonly trainRows: number;
  /** Per input row: the forecast for row time + horizon, and its band. */
  readonly forecast: Float64Array;
  readonly p10: Float64Array;
  readonly p90: Float64Array;
  /** Per input row: the actual the forecast is scored against (the grid value at the target; NaN if none). */
  readonly actual: Float64Array;
  /** Rows where the naive fallback answered (the model had no forecast yet). */
  readonly fallbackRows: number;
  /** Accuracy over the rows after trainUntilSeconds. */
  readonly accuracy: AccuracyReport;
  /** Things the user should know: rounding, fallbacks, scale choices. */
  readonly notes: readonly string[];
}

/** The grid, spec and training part of a backtest: what every model is fitted and scored on. */
export interface BacktestSetup {
  readonly stepSeconds: number;
  readonly horizon: HorizonSteps;
  readonly spec: ForecastSpec;
  readonly trainUntilSeconds: number;
  readonly trainRows: number;
  /** All rows on the grid, and each row's cell. */
  readonly full: ReturnType<typeof rowsToRegularSeries>;
  /** The grid of the training rows alone. */
  readonly train: RegularSeries;
  /** The last index of the part before the validation split of `train` (for `auto`). */
  readonly splitIndex: number;
  readonly notes: readonly string[];
}

/**
 * Puts rows on a grid at the median interval and cuts the training part at `trainUntilSeconds`
 * (default: the row at the 70 % point). The training grid is built from the training rows alone,
 * so a later row in the same grid cell as the last training row cannot leak into the fit.
 */
export function prepareBacktest(rows: TimestampValueRows, options: Pick<BacktestRunOptions, 'horizonSeconds' | 'trainUntilSeconds'>): Result<BacktestSetup, string> {
  const n = rows.values.length;
  if (n === 0) return { ok: false, error: 'no usable rows' };
  const notes: string[] = [];
  const timestamps = rows.timestampsSeconds;
  const inferred = inferStepSeconds(timestamps);
  const stepSeconds = inferred ?? options.horizonSeconds;
  if (inferred === undefined) notes.push(`one row only: the step is taken to be the horizon (${formatDuration(stepSeconds)})`);
  const horizon = horizonStepsFor(options.horizonSeconds, stepSeconds);
  if (!horizon.exact) {
    notes.push(
      `horizon ${formatDuration(options.horizonSeconds)} is not a whole number of ${formatDuration(stepSeconds)} steps; ` +
        `forecasting ${horizon.steps} step(s) = ${formatDuration(horizon.effectiveSeconds)} ahead`,
    );
  }
  const spec: ForecastSpec = { stepSeconds, seasonSteps: seasonStepsFor(stepSeconds), horizonSteps: horizon.steps };
  const trainUntilSeconds = options.trainUntilSeconds ?? timestamps[Math.max(0, Math.ceil(defaultTrainShare * n) - 1)]!;
  if (trainUntilSeconds < timestamps[0]!) {
    return { ok: false, error: `--train-until ${trainUntilSeconds} is before the first row (${timestamps[0]!}); there is nothing to fit on` };
  }
  let trainRows = 0;
  while (trainRows < n && timestamps[trainRows]! <= trainUntilSeconds) trainRows++;
  const full = rowsToRegularSeries(rows, stepSeconds);
  const train = rowsToRegularSeries(rows, stepSeconds, trainRows).series;
  return {
    ok: true,
    value: { stepSeconds, horizon, spec, trainUntilSeconds, trainRows, full, train, splitIndex: validationSplitIndex(train.values.length), notes },
  };
}

/** The model `auto` chose, as one line ("median_top3 of random_forest, lag_regression, holt_winters"). */
export function describeChoice(selection: AutoSelection): string {
  return combinationLabel(selection.chosen.kind, selection.chosen.members);
}

/**
 * The backtest behind `foresight backtest`, without I/O. Rows are put on a grid at the median
 * interval; parameters are fitted on the rows up to `trainUntilSeconds` only; each row is an
 * origin whose forecast is made from rows at or before it only (a row sharing its grid cell with a
 * later row gets its own forecast from the grid as it stood at that row). Deterministic.
 */
export function runBacktest(rows: TimestampValueRows, options: BacktestRunOptions): Result<BacktestRun, string> {
  const prepared = prepareBacktest(rows, options);
  if (!prepared.ok) return prepared;
  const setup = prepared.value;
  const { spec, train, full, trainRows } = setup;
  const notes = [...setup.notes];
  const n = rows.values.length;
  const seed = options.seed ?? 1;

  let modelName = options.model;
  let selection: ValidationSelection | undefined;
  let autoSelection: AutoSelection | undefined;
  let model: FittedWithFallback;
  const naive = createNaiveForecaster().fit(train, spec);
  if (!naive.ok) return { ok: false, error: naive.error.message };
  if (modelName === 'auto') {
    const auto = createAutoForecaster({ forecasters: () => autoCandidates(seed), ...(options.extraCandidates !== undefined ? { extraCandidates: options.extraCandidates } : {}) });
    const fitted = auto.fitWithReport(train, spec);
    if (fitted.ok) {
      autoSelection = fitted.value.selection;
      selection = { best: describeChoice(autoSelection), splitIndex: autoSelection.splitIndex, scores: autoSelection.candidates };
      model = { primary: fitted.value.fitted, fallback: naive.value };
      modelName = `auto: ${describeChoice(autoSelection)}`;
    } else {
      model = { primary: undefined, primaryFailure: fitted.error, fallback: naive.value };
    }
  } else if (options.prefitted !== undefined) {
    const { model: primary, failure } = options.prefitted;
    model = primary !== undefined ? { primary, fallback: naive.value } : { primary: undefined, ...(failure !== undefined ? { primaryFailure: failure } : {}), fallback: naive.value };
  } else {
    const forecaster = syncForecaster(modelName, seed);
    if (forecaster === undefined) return { ok: false, error: `unknown model "${modelName}"` };
    const fitted = fitForBacktest(forecaster, train, spec);
    if (!fitted.ok) return { ok: false, error: fitted.error.message };
    model = fitted.value;
  }
  if (model.primaryFailure !== undefined) notes.push(`${model.primaryFailure.message}; naive forecasts are written instead`);

  const eachOrigin = forecastEachOriginWithFallback(model, full.series);
  const forecast = new Float64Array(n);
  const p10 = new Float64Array(n);
  const p90 = new Float64Array(n);
  const actual = new Float64Array(n).fill(Number.NaN);
  let fallbackRows = 0;
  const gridValues = full.series.values;
  for (let r = 0; r < n; r++) {
    const i = full.gridIndex[r]!;
    const sharesCellWithLaterRow = r + 1 < n && full.gridIndex[r + 1] === i;
    if (sharesCellWithLaterRow) {
      const point = forecastAsOfRow(model, full.series, i, rows.values[r]!);
      forecast[r] = point.forecast.value;
      p10[r] = point.forecast.p10;
      p90[r] = point.forecast.p90;
      if (point.usedFallback) fallbackRows++;
    } else {
      forecast[r] = eachOrigin.forecasts.value[i]!;
      p10[r] = eachOrigin.forecasts.p10[i]!;
      p90[r] = eachOrigin.forecasts.p90[i]!;
      if (eachOrigin.fallbackOrigins[i] === 1) fallbackRows++;
    }
    if (r >= trainRows && i + spec.horizonSteps < gridValues.length) actual[r] = gridValues[i + spec.horizonSteps]!;
  }
  // Quantiles respect the series' domain (core's definition, as the service serves them): a queue
  // depth never gets a negative p10, a percentage never a p90 above 100.
  const domain = options.domain ?? (train.values.every((v) => !(v < 0)) ? 'nonnegative' : 'finite');
  for (let r = 0; r < n; r++) {
    const clamped = clampQuantiles(valueDomains[domain], forecast[r]!, p10[r]!, p90[r]!);
    forecast[r] = clamped.value;
    p10[r] = clamped.p10;
    p90[r] = clamped.p90;
  }
  if (options.domain === undefined) notes.push(`forecasts clamped into the ${domain} domain (--domain)`);
  const scale = maseScale(train.values, spec.seasonSteps);
  if (scale.note !== undefined) notes.push(scale.note);
  const accuracy = scoreForecasts(actual, { value: forecast, p10, p90 }, scale);
  return {
    ok: true,
    value: {
      model: modelName,
      ...(selection !== undefined ? { selection } : {}),
      ...(autoSelection !== undefined ? { autoSelection } : {}),
      ...(model.primaryFailure !== undefined ? { fitFailure: model.primaryFailure } : {}),
      stepSeconds: setup.stepSeconds,
      horizon: setup.horizon,
      spec,
      trainUntilSeconds: setup.trainUntilSeconds,
      trainRows,
      forecast,
      p10,
      p90,
      actual,
      fallbackRows,
      accuracy,
      notes,
    },
  };
}

/** What {@link runBacktestAsync} is asked to do: a backtest that may train an LSTM. */
export interface AsyncBacktestRunOptions extends BacktestRunOptions {
  /** LSTM settings when auto should consider an LSTM, or the model is 'lstm' (default {@link backtestLstmOptions}). */
  readonly lstm?: Partial<LstmOptions>;
}

/**
 * {@link runBacktest} with the LSTM: for `auto` with `lstm` set, the LSTM is trained on the
 * training rows before the validation split and joins the candidates; for the model `lstm`, it is
 * trained on all training rows and forecasts alone (naive before its first full window). Training
 * is asynchronous; everything else is the same code path, so the contract holds unchanged.
 */
export async function runBacktestAsync(rows: TimestampValueRows, options: AsyncBacktestRunOptions): Promise<Result<BacktestRun, string>> {
  const wantsLstm = options.model === 'lstm' || (options.model === 'auto' && options.lstm !== undefined);
  if (!wantsLstm) return runBacktest(rows, options);
  const prepared = prepareBacktest(rows, options);
  if (!prepared.ok) return prepared;
  const { train, spec, splitIndex } = prepared.value;
  const lstmOptions = { ...backtestLstmOptions, ...options.lstm, seed: options.seed ?? 1 };
  if (options.model === 'auto') {
    const fitted = await fitLstmCandidate(train, spec, splitIndex, lstmOptions);
    try {
      return runBacktest(rows, { ...options, extraCandidates: [...(options.extraCandidates ?? []), fitted.candidate] });
    } finally {
      fitted.trained?.dispose();
    }
  }
  const trained = await trainLstm({ target: train }, spec, lstmOptions);
  try {
    return runBacktest(rows, { ...options, prefitted: trained.ok ? { model: trained.value } : { model: undefined, failure: trained.error } });
  } finally {
    if (trained.ok) trained.value.dispose();
  }
}

/** The synchronous candidates of `auto` in the CLI (the LSTM joins through `extraCandidates`). */
function autoCandidates(seed: number): Forecaster[] {
  return [...forecasterNames.map((name) => createForecaster(name)), createLagRegressionForecaster(), createRandomForestForecaster({ seed })];
}

/**
 * The forecast at a row that is not the last in its grid cell: the grid up to that cell, with the
 * cell holding this row's value (what the grid looked like at the row's time). O(i) per such row.
 */
function forecastAsOfRow(model: FittedWithFallback, series: RegularSeries, gridIndex: number, value: number): { readonly forecast: PointForecast; readonly usedFallback: boolean } {
  const values = series.values.slice(0, gridIndex + 1);
  values[gridIndex] = value;
  const history: RegularSeries = { ...series, values };
  const primary = model.primary?.forecast(history);
  if (primary !== undefined && Number.isFinite(primary.value)) return { forecast: primary, usedFallback: false };
  return { forecast: model.fallback.forecast(history), usedFallback: true };
}

function percent(ratio: number): string {
  return Number.isFinite(ratio) ? `${(100 * ratio).toFixed(1)} %` : 'n/a';
}

function fixed(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** The stderr summary of a run. */
export function formatBacktestSummary(run: BacktestRun, rowCount: number, input: string): string {
  const lines: string[] = [];
  const h = run.horizon;
  lines.push(
    `foresight backtest: ${rowCount} rows from ${input}; step ${formatDuration(run.stepSeconds)} (median interval), ` +
      `season ${run.spec.seasonSteps} steps, horizon ${formatDuration(h.effectiveSeconds)} = ${h.steps} step(s)`,
  );
  lines.push(`train-until ${run.trainUntilSeconds}: ${run.trainRows} training rows, ${rowCount - run.trainRows} test rows`);
  if (run.selection !== undefined) {
    const scores = run.selection.scores.map((s) => `${s.model} ${s.fitted ? fixed(s.accuracy.mase) : `not fitted (${s.fitFailure?.reason ?? 'failed'})`}`).join(', ');
    lines.push(`model: ${run.model} (the combination with the lowest validation error inside the training rows)`);
    lines.push(`  candidates, validation MASE: ${scores}`);
    if (run.autoSelection !== undefined) {
      const combos = run.autoSelection.combinations.map((c) => `${c.kind} ${fixed(c.validationMase)}`).join(', ');
      const band = run.autoSelection.band;
      lines.push(`  combinations, validation MASE: ${combos}`);
      lines.push(`  p10/p90 band: ${band.source === 'validation' ? `validation residual quantiles (${band.count} residuals)` : "the members' own bands (too few validation residuals)"}`);
    }
  } else {
    lines.push(`model: ${run.model}`);
  }
  const a = run.accuracy;
  lines.push(
    `test rows: MASE ${fixed(a.mase)}, WAPE ${percent(a.wape)}, p10-p90 coverage ${percent(a.coverage80)}, ` +
      `MAE ${fixed(a.mae, 4)} (${a.count} scored; MASE scale ${a.maseScale.kind} lag ${a.maseScale.lagSteps})`,
  );
  if (run.fallbackRows > 0) lines.push(`naive fallback at ${run.fallbackRows} row(s) where ${run.model} could not forecast yet`);
  for (const note of run.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

/** `foresight backtest`: see the usage text and DESIGN.md "Command-line contracts". */
export const backtestCommand: Command = async (args: readonly string[], io: CliIo): Promise<number> => {
  const parsed = parseBacktestArgs(args);
  if (!parsed.ok) {
    io.stderr.write(`foresight backtest: ${parsed.error}\n\n${usage}`);
    return exitUsage;
  }
  if (parsed.value === 'help') {
    io.stdout.write(usage);
    return exitOk;
  }
  const options = parsed.value;
  const csv = await readInputCsv('backtest', options.input, io.stderr);
  if (csv === undefined) return exitFailure;
  const rowCount = csv.rows.values.length;
  const { lstm, ...rest } = options;
  const run = await runBacktestAsync(csv.rows, { ...rest, ...(lstm ? { lstm: {} } : {}) });
  if (!run.ok) {
    io.stderr.write(`foresight backtest: ${run.error}\n`);
    return exitFailure;
  }
  const result = run.value;
  const text = formatCsv(['timestamp', 'forecast', 'p10', 'p90'], [csv.rows.timestampsSeconds, result.forecast, result.p10, result.p90]);
  try {
    await writeFile(options.out, text);
  } catch (error) {
    io.stderr.write(`foresight backtest: cannot write --out ${options.out}: ${messageOf(error)}\n`);
    return exitFailure;
  }
  io.stderr.write(formatBacktestSummary(result, rowCount, options.input));
  io.stderr.write(`wrote ${rowCount} rows to ${options.out}\n`);
  return exitOk;
};
