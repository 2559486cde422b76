/**
 * The LSTM columns of `bench:forecast` (`--lstm`): the service's global LSTM, one network per grid
 * (step and horizon: a network forecasts one), trained across every real series of that grid on
 * each series' rows before `auto`'s validation split, as the service trains one network across its
 * series. Per series it is then scored twice, like the per-series models: alone (the same weights
 * forecasting the test rows) and as a candidate of `auto` (scored on the validation origins, which
 * it never trained on, and served only where it wins there).
 *
 * Settings are chosen leave-one-dataset-out: with several `--lstm-variants`, each dataset's series
 * are scored with the variant whose geomean validation MASE is lowest on the *other* datasets
 * (bench/support/leave-one-out.ts), so no setting is chosen on the series it is reported on. With
 * one variant (the default: the service's `ml.lstm` defaults) nothing is chosen at all.
 *
 * Cost: training dominates (epochs × windows passes per grid; `--lstm-epochs`/`--lstm-windows`
 * scale it down for a quick run), then one forecast per scored origin: the validation origins and
 * the test rows only, not the whole series.
 */
import { prefix } from '../../src/core/index.js';
import type { RegularSeries } from '../../src/core/index.js';
import { loadConfig } from '../../src/config/index.js';
import { prepareBacktest, runBacktest } from '../../src/cli/backtest.js';
import type { BacktestRun } from '../../src/cli/backtest.js';
import type { TimestampValueRows } from '../../src/cli/csv.js';
import { createNaiveForecaster, geometricMean, trainGlobalLstm, withFallback } from '../../src/forecast/index.js';
import type { CandidateFit, EachOriginForecasts, FitFailure, FittedForecaster, ForecastSpec, LstmOptions, TrainedGlobalLstm, TrainedLstm } from '../../src/forecast/index.js';
import { lstmOptionsFromConfig } from '../../src/training/index.js';
import { leaveOneGroupOut } from './leave-one-out.js';

/** Named settings the leave-one-dataset-out choice picks from (overrides of the `ml.lstm` defaults). */
export const lstmVariants: Readonly<Record<string, Partial<LstmOptions>>> = {
  default: {},
  'lookback-30': { lookbackSteps: 30 },
  'lr-0.001': { learningRate: 0.001 },
  'target-only-4': { features: ['value', 'growth', 'value_24h_ago', 'value_7d_avg'] },
};

/** The `--lstm-*` flags of `bench:forecast`. */
export interface LstmColumnArgs {
  readonly variants: readonly string[];
  readonly epochs?: number;
  readonly windows?: number;
}

export const lstmColumnUsage = '[--lstm-variants NAME,...] [--lstm-epochs N] [--lstm-windows N]';

/**
 * Consumes one `--lstm-*` flag at argv[i] into `args`; returns the index of its last token, or
 * undefined when argv[i] is not one of them. Throws with a clear message on a bad value.
 */
export function parseLstmColumnArg(argv: readonly string[], i: number, args: { -readonly [K in keyof LstmColumnArgs]: LstmColumnArgs[K] }): number | undefined {
  const arg = argv[i]!;
  const value = argv[i + 1];
  if (!['--lstm-variants', '--lstm-epochs', '--lstm-windows'].includes(arg)) return undefined;
  if (value === undefined) throw new Error(`${arg} needs a value`);
  if (arg === '--lstm-variants') {
    const names = value.split(',');
    const unknown = names.filter((n) => lstmVariants[n] === undefined);
    if (unknown.length > 0) throw new Error(`--lstm-variants: unknown variant(s) ${unknown.join(', ')} (known: ${Object.keys(lstmVariants).join(', ')})`);
    args.variants = names;
  } else {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`${arg} must be a whole number >= 1, got "${value}"`);
    if (arg === '--lstm-epochs') args.epochs = Number(value);
    else args.windows = Number(value);
  }
  return i + 1;
}

/** One series given to the LSTM columns. */
export interface LstmSeriesInput {
  /** The series' name (its path under the data folder); the dataset is its folder. */
  readonly series: string;
  readonly rows: TimestampValueRows;
  readonly horizonSeconds: number;
}

/** The two runs of a series: the LSTM alone, and `auto` with the LSTM as a candidate. */
export interface LstmRuns {
  readonly lstm: BacktestRun;
  readonly autoLstm: BacktestRun;
  /** The variant these runs used (chosen on the other datasets). */
  readonly variant: string;
}

/** The dataset of a series: its folder (`nab/realTweets`, `cpu`, `web`). */
export function datasetOf(series: string): string {
  const parts = series.split('/');
  return parts.slice(0, -1).join('/') || series;
}

/** The `ml.lstm` defaults as the service trains them. */
function serviceOptions(): Partial<LstmOptions> {
  const loaded = loadConfig({ env: {} });
  if (!loaded.ok) throw new Error(loaded.error.message);
  return lstmOptionsFromConfig(loaded.value.ml.lstm);
}

/**
 * A view of the network that forecasts only from `fromOrigin` on (naive behind it answers before):
 * the backtest scores only validation origins (onSplit) or test rows (onTrain), and a forecast per
 * row of a 84,000-row series would cost more than the training. Memoised per series (the LSTM-alone
 * run and `auto` ask for the same forecasts).
 */
function scoredFrom(view: TrainedLstm, fromOrigin: number): FittedForecaster {
  const memo = new Map<string, EachOriginForecasts>();
  return {
    model: view.model,
    spec: view.spec,
    ...(view.parameters !== undefined ? { parameters: view.parameters } : {}),
    forecast: (history: RegularSeries) => view.forecast(history),
    forecastEachOrigin: (series: RegularSeries) => {
      const key = `${series.startMs}:${series.stepSeconds}:${series.values.length}`;
      let out = memo.get(key);
      if (out === undefined) {
        out = view.forecastInputsEachOrigin({ target: series }, Math.max(0, fromOrigin));
        memo.set(key, out);
      }
      return out;
    },
  };
}

interface Prepared {
  readonly input: LstmSeriesInput;
  readonly train: RegularSeries;
  readonly spec: ForecastSpec;
  readonly splitIndex: number;
}

/** Trains one variant's networks (one per grid) and runs both backtests of every series. */
async function runVariant(prepared: readonly Prepared[], options: Partial<LstmOptions>, log: (line: string) => void): Promise<Map<string, Omit<LstmRuns, 'variant'>>> {
  const grids = new Map<string, Prepared[]>();
  for (const p of prepared) {
    const grid = JSON.stringify(p.spec);
    grids.set(grid, [...(grids.get(grid) ?? []), p]);
  }
  const out = new Map<string, Omit<LstmRuns, 'variant'>>();
  for (const [grid, members] of grids) {
    const began = performance.now();
    const trained = await trainGlobalLstm(
      members.map((p) => ({ key: p.input.series, inputs: { target: prefix(p.train, p.splitIndex + 1) } })),
      members[0]!.spec,
      options,
      { onProgress: (p) => log(`global LSTM ${grid}: epoch ${p.epoch}/${p.epochs}, ${p.windows} windows, loss ${p.loss.toFixed(4)}`) },
    );
    log(
      `global LSTM ${grid}: ${members.length} series, ${trained.ok ? `${trained.value.meta.windowPasses} window passes` : `failed: ${trained.error.message}`}, ${((performance.now() - began) / 1000).toFixed(0)} s`,
    );
    try {
      for (const p of members) out.set(p.input.series, seriesRuns(p, trained.ok ? trained.value : undefined, trained.ok ? undefined : trained.error));
    } finally {
      if (trained.ok) trained.value.dispose();
    }
  }
  return out;
}

function seriesRuns(p: Prepared, trained: TrainedGlobalLstm | undefined, failure: FitFailure | undefined): Omit<LstmRuns, 'variant'> {
  const { rows, horizonSeconds, series } = p.input;
  const view = trained?.forSeries(series);
  const naiveSplit = createNaiveForecaster().fit(prefix(p.train, p.splitIndex + 1), p.spec);
  const naiveTrain = createNaiveForecaster().fit(p.train, p.spec);
  if (!naiveSplit.ok || !naiveTrain.ok) throw new Error(`${series}: naive does not fit`);
  const why: FitFailure = failure ?? { reason: 'insufficient_history', message: `lstm: ${trained?.meta.skipped[series] ?? 'not trained on'}` };
  const candidate: CandidateFit =
    view === undefined
      ? { name: 'lstm', failure: why }
      : {
          name: 'lstm',
          // Forecasts from one step before the first scored origin on: validation after the split, test after the training rows.
          onSplit: withFallback(scoredFrom(view, p.splitIndex), naiveSplit.value),
          onTrain: withFallback(scoredFrom(view, p.train.values.length - 1), naiveTrain.value),
        };
  const autoLstm = runBacktest(rows, { horizonSeconds, model: 'auto', extraCandidates: [candidate] });
  const lstm = runBacktest(rows, {
    horizonSeconds,
    model: 'lstm',
    prefitted: candidate.onTrain !== undefined ? { model: candidate.onTrain } : { model: undefined, ...(candidate.failure !== undefined ? { failure: candidate.failure } : {}) },
  });
  if (!autoLstm.ok) throw new Error(`${series} auto + lstm: ${autoLstm.error}`);
  if (!lstm.ok) throw new Error(`${series} lstm: ${lstm.error}`);
  return { lstm: lstm.value, autoLstm: autoLstm.value };
}

/** The LSTM's validation MASE inside `auto`'s run (what the leave-one-dataset-out choice uses). */
function validationMase(runs: Omit<LstmRuns, 'variant'> | undefined): number {
  const score = runs?.autoLstm.selection?.scores.find((s) => s.model === 'lstm');
  return score?.fitted ? score.accuracy.mase : Number.NaN;
}

/** The variants' choices per dataset and the runs of every series. */
export interface LstmColumns {
  readonly runs: ReadonlyMap<string, LstmRuns>;
  /** Per dataset: the variant chosen on the other datasets, and its geomean validation MASE there. */
  readonly choices: readonly { readonly dataset: string; readonly variant: string; readonly otherDatasetsValidationMase: number }[];
  readonly options: Readonly<Record<string, Partial<LstmOptions>>>;
}

/** Trains and scores the LSTM columns of every series (real ones: pass only those). */
export async function lstmColumns(inputs: readonly LstmSeriesInput[], args: LstmColumnArgs, log: (line: string) => void): Promise<LstmColumns> {
  const prepared: Prepared[] = inputs.map((input) => {
    const setup = prepareBacktest(input.rows, { horizonSeconds: input.horizonSeconds });
    if (!setup.ok) throw new Error(`${input.series}: ${setup.error}`);
    return { input, train: setup.value.train, spec: setup.value.spec, splitIndex: setup.value.splitIndex };
  });
  const base = serviceOptions();
  const options: Record<string, Partial<LstmOptions>> = {};
  const perVariant: Map<string, Omit<LstmRuns, 'variant'>>[] = [];
  for (const name of args.variants) {
    options[name] = { ...base, ...lstmVariants[name], ...(args.epochs !== undefined ? { epochs: args.epochs } : {}), ...(args.windows !== undefined ? { maxWindows: args.windows } : {}) };
    perVariant.push(await runVariant(prepared, options[name]!, (line) => log(`${name}: ${line}`)));
  }
  const series = inputs.map((i) => i.series);
  const groups = series.map(datasetOf);
  const runs = new Map<string, LstmRuns>();
  const choices: LstmColumns['choices'][number][] = [];
  const record = (dataset: string, chosen: number, score: number, items: readonly number[]) => {
    choices.push({ dataset, variant: args.variants[chosen]!, otherDatasetsValidationMase: score });
    for (const i of items) {
      const r = perVariant[chosen]!.get(series[i]!);
      if (r !== undefined) runs.set(series[i]!, { ...r, variant: args.variants[chosen]! });
    }
  };
  if (new Set(groups).size < 2 || args.variants.length === 1) {
    // Nothing to choose (one variant), or no other dataset to choose on: the first variant everywhere.
    for (const dataset of new Set(groups))
      record(
        dataset,
        0,
        Number.NaN,
        groups.flatMap((g, i) => (g === dataset ? [i] : [])),
      );
  } else {
    // Higher is better for the chooser: the negated geomean validation MASE over the other datasets' series.
    const folds = leaveOneGroupOut(groups, perVariant, (variantRuns, items) => -geometricMean(items.map((i) => validationMase(variantRuns.get(series[i]!)))));
    for (const fold of folds) record(fold.group, fold.chosen, -fold.trainingScore, fold.heldOut);
  }
  return { runs, choices, options };
}

/** What the report needs of a series' results (bench/forecast.ts's SeriesResult has it). */
export interface LstmReportRow {
  readonly series: string;
  readonly mase: Readonly<Record<string, number>>;
  readonly autoLstmChoice?: string;
}

/**
 * The quality bar's LSTM lines: the LSTM alone against Holt-Winters per series (bar: better on at
 * least 60 %), and its share of the series `auto` serves it on (alone or in the chosen combination).
 */
export function lstmReport(rows: readonly LstmReportRow[], columns: LstmColumns): string[] {
  const scored = rows.filter((r) => Number.isFinite(r.mase['lstm']) && Number.isFinite(r.mase['holt_winters']));
  const beats = scored.filter((r) => r.mase['lstm']! < r.mase['holt_winters']!);
  const share = beats.length / Math.max(1, scored.length);
  const served = rows.filter((r) => r.autoLstmChoice !== undefined);
  const alone = served.filter((r) => r.autoLstmChoice === 'lstm');
  const inCombination = served.filter((r) => /\blstm\b/.test(r.autoLstmChoice ?? ''));
  const pct = (a: number, b: number) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(0)} %`);
  const variants = Object.entries(columns.options).map(
    ([name, o]) => `${name} (${o.lookbackSteps} steps × ${o.features?.length} features, LSTM ${o.units?.join(' → ')}, ${o.epochs} epochs × ${o.maxWindows} windows, learning rate ${o.learningRate})`,
  );
  return [
    `The LSTM columns: the service's global LSTM, one network per grid (step and horizon), trained across that grid's real series on each series' rows before auto's validation split. Variants: ${variants.join('; ')}.`,
    '',
    '| dataset (left out) | variant chosen on the other datasets | their geomean validation MASE |',
    '|---|---|---:|',
    ...columns.choices.map((c) => `| ${c.dataset} | ${c.variant} | ${Number.isFinite(c.otherDatasetsValidationMase) ? c.otherDatasetsValidationMase.toFixed(3) : 'n/a (nothing to choose)'} |`),
    '',
    `- **LSTM alone vs Holt-Winters**: lower test MASE on **${beats.length} of ${scored.length}** series (${pct(beats.length, scored.length)}; bar ≥ 60 %: ${share >= 0.6 ? 'met' : 'NOT met'}).`,
    `- **LSTM's share of served series** (auto with the LSTM as a candidate, chosen on validation): alone on ${alone.length} of ${served.length} (${pct(alone.length, served.length)}), in the chosen combination on ${inCombination.length} of ${served.length} (${pct(inCombination.length, served.length)}).`,
  ];
}
