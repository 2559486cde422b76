import { median } from 'simple-statistics';
import { err, ok, prefix } from '../core/index.js';
import type { RegularSeries, Result } from '../core/index.js';
import { maseScale, scoreForecasts } from './accuracy.js';
import type { AccuracyReport } from './accuracy.js';
import { defaultValidationFraction } from './backtest.js';
import type { ValidationScore } from './backtest.js';
import { withFallback } from './fallback.js';
import type { EachOriginForecasts, FitFailure, FittedForecaster, ForecastSpec, Forecaster, PointForecast } from './forecaster.js';
import { createLagRegressionForecaster } from './lag-regression.js';
import { createNaiveForecaster } from './naive.js';
import { createRandomForestForecaster } from './random-forest/forecaster.js';
import { createAllForecasters } from './registry.js';
import { quantileOfSorted } from './residual-bands.js';
import { specProblem } from './spec.js';

/**
 * One candidate of `auto`, fitted twice: on the part of the training data before the validation
 * split (to be scored on the validation origins) and on all of it (to forecast). Either may be
 * missing when the candidate could not be fitted; a candidate without `onSplit` is not eligible.
 * Learned models that are expensive to train (the LSTM) may pass the same fit for both.
 */
export interface CandidateFit {
  readonly name: string;
  readonly onSplit?: FittedForecaster;
  readonly onTrain?: FittedForecaster;
  readonly failure?: FitFailure;
}

/**
 * How `auto` may combine the candidates ranked by validation MAE: the best one alone, the median
 * or mean of the best few, or an inverse-validation-error weighted mean. Medians of several
 * models are robust to one of them going wrong, which is what wins most often (M4: 12 of the 17
 * best methods were combinations).
 */
export const combinationKinds = ['best', 'median_top3', 'median_top5', 'median_all', 'mean_top2', 'mean_top3', 'inverse_error_top3'] as const;

/** One way of combining candidates. */
export type CombinationKind = (typeof combinationKinds)[number];

/** A combination's members and its validation score. */
export interface CombinationScore {
  readonly kind: CombinationKind;
  /** Member names, best first. */
  readonly members: readonly string[];
  /** Weights of the members (sum 1) for the means; empty for medians. */
  readonly weights: readonly number[];
  /** Mean absolute h-step error on the validation origins. */
  readonly validationMae: number;
  /** The same, scaled like MASE (in-sample seasonal naive of the part before the split). */
  readonly validationMase: number;
}

/** What `auto` chose, and everything it chose from (for reports and /scaling/ml/accuracy). */
export interface AutoSelection {
  /** Last index of the part the candidates were first fitted on; validation origins come after it. */
  readonly splitIndex: number;
  /** Every candidate's validation score, in the order given (the shape `selectByValidation` reports). */
  readonly candidates: readonly ValidationScore[];
  /** Every combination tried. */
  readonly combinations: readonly CombinationScore[];
  /** The combination with the lowest validation MAE (ties go to the simpler one, earlier in the list). */
  readonly chosen: CombinationScore;
  /** The p10/p90 offsets: quantiles of the chosen combination's validation residuals. */
  readonly band: { readonly q10: number; readonly q90: number; readonly count: number; readonly source: 'validation' | 'members' };
  /**
   * The chosen combination's scores on the validation origins (its band there is built from the
   * same residuals, so its coverage is in-sample). In the service the validation origins are the
   * newest 30 % of the buffer, where every baseline's backtest is scored too: the rows compare.
   */
  readonly chosenAccuracy: AccuracyReport;
}

/** A fitted `auto` model and its selection report. */
export interface AutoModel {
  readonly fitted: FittedForecaster;
  readonly selection: AutoSelection;
}

/** Fewest validation residuals for a conformal band; below it the members' own bands are combined. */
const minBandResiduals = 30;

/** The default candidates of `auto`: the five baselines, the lag regression and the Random Forest. */
export function autoCandidateForecasters(seed = 1): Forecaster[] {
  return [...createAllForecasters(), createLagRegressionForecaster(), createRandomForestForecaster({ seed })];
}

/** The index where validation starts for a training part of `length` points (the last fitting index). */
export function validationSplitIndex(length: number, validationFraction: number = defaultValidationFraction): number {
  return Math.max(0, Math.floor(length * (1 - validationFraction)) - 1);
}

/**
 * Fits every forecaster on the part before the split and on all of `train`, each with naive
 * behind it for the origins it cannot forecast yet (as the backtest would output).
 */
export function fitCandidates(forecasters: readonly Forecaster[], train: RegularSeries, spec: ForecastSpec, splitIndex: number): CandidateFit[] {
  const splitPart = prefix(train, splitIndex + 1);
  const naiveSplit = createNaiveForecaster().fit(splitPart, spec);
  const naiveTrain = createNaiveForecaster().fit(train, spec);
  return forecasters.map((forecaster): CandidateFit => {
    const onSplit = forecaster.fit(splitPart, spec);
    const onTrain = forecaster.fit(train, spec);
    const failure = !onSplit.ok ? onSplit.error : !onTrain.ok ? onTrain.error : undefined;
    return {
      name: forecaster.name,
      ...(onSplit.ok && naiveSplit.ok ? { onSplit: withFallback(onSplit.value, naiveSplit.value) } : {}),
      ...(onTrain.ok && naiveTrain.ok ? { onTrain: withFallback(onTrain.value, naiveTrain.value) } : {}),
      ...(failure !== undefined ? { failure } : {}),
    };
  });
}

/**
 * The combined point forecast from the members' forecasts at one origin (NaN where a member has
 * none: it is left out). Medians ignore weights; means renormalise over the members present.
 */
function combine(kind: CombinationKind, points: readonly number[], weights: readonly number[]): number {
  const present: number[] = [];
  let weighted = 0;
  let weightSum = 0;
  points.forEach((value, i) => {
    if (!Number.isFinite(value)) return;
    present.push(value);
    const w = weights[i] ?? 1;
    weighted += w * value;
    weightSum += w;
  });
  if (present.length === 0) return Number.NaN;
  if (kind === 'best' || kind.startsWith('median')) return median(present);
  return weightSum > 0 ? weighted / weightSum : Number.NaN;
}

/** Members and weights of a combination over candidates ranked by validation MAE (best first). */
function membersOf(kind: CombinationKind, ranked: readonly { name: string; mae: number }[]): { members: string[]; weights: number[] } {
  const top = (k: number) => ranked.slice(0, Math.min(k, ranked.length));
  switch (kind) {
    case 'best':
      return { members: top(1).map((c) => c.name), weights: [] };
    case 'median_top3':
      return { members: top(3).map((c) => c.name), weights: [] };
    case 'median_top5':
      return { members: top(5).map((c) => c.name), weights: [] };
    case 'median_all':
      return { members: ranked.map((c) => c.name), weights: [] };
    case 'mean_top2':
      return { members: top(2).map((c) => c.name), weights: top(2).map(() => 1 / Math.min(2, ranked.length)) };
    case 'mean_top3':
      return { members: top(3).map((c) => c.name), weights: top(3).map(() => 1 / Math.min(3, ranked.length)) };
    case 'inverse_error_top3': {
      const chosen = top(3);
      const raw = chosen.map((c) => (c.mae > 0 ? 1 / c.mae : 1e12));
      const sum = raw.reduce((a, b) => a + b, 0);
      return { members: chosen.map((c) => c.name), weights: raw.map((w) => w / sum) };
    }
  }
}

/** Each-origin combined forecasts of `members` (fitted forecasters in member order). */
function combineEachOrigin(kind: CombinationKind, members: readonly EachOriginForecasts[], weights: readonly number[], length: number): Float64Array {
  const out = new Float64Array(length);
  const points = new Array<number>(members.length);
  for (let t = 0; t < length; t++) {
    for (let m = 0; m < members.length; m++) points[m] = members[m]!.value[t]!;
    out[t] = combine(kind, points, weights);
  }
  return out;
}

/**
 * Chooses how to combine the candidates by their errors on the validation origins of `train`
 * (origins after `splitIndex` whose targets are still inside `train`), never by anything later:
 * the test part is never seen. Then builds the combination from the candidates fitted on all of
 * `train`, with a p10–p90 band from the quantiles of the chosen combination's validation residuals
 * (split-conformal; an honest out-of-sample band, unlike in-sample residuals).
 * Fails only when no candidate could be fitted before the split.
 */
export function selectCombination(train: RegularSeries, spec: ForecastSpec, candidates: readonly CandidateFit[], splitIndex: number): Result<AutoModel, FitFailure> {
  const bad = specProblem(spec);
  if (bad !== undefined) return err(bad);
  const n = train.values.length;
  const h = spec.horizonSteps;
  const actual = new Float64Array(n).fill(Number.NaN);
  for (let t = splitIndex + 1; t + h < n; t++) actual[t] = train.values[t + h]!;
  const scale = maseScale(train.values.subarray(0, splitIndex + 1), spec.seasonSteps);
  const splitForecasts = new Map<string, EachOriginForecasts>();
  const scores: ValidationScore[] = [];
  const eligible: { name: string; mae: number }[] = [];
  const noScore: AccuracyReport = scoreForecasts(actual, { value: new Float64Array(n).fill(Number.NaN), p10: new Float64Array(n), p90: new Float64Array(n) }, scale);
  for (const candidate of candidates) {
    if (candidate.onSplit === undefined || candidate.onTrain === undefined) {
      scores.push({ model: candidate.name, fitted: false, ...(candidate.failure !== undefined ? { fitFailure: candidate.failure } : {}), accuracy: noScore });
      continue;
    }
    const forecasts = candidate.onSplit.forecastEachOrigin(train);
    splitForecasts.set(candidate.name, forecasts);
    const accuracy = scoreForecasts(actual, forecasts, scale);
    scores.push({ model: candidate.name, fitted: true, accuracy });
    eligible.push({ name: candidate.name, mae: Number.isFinite(accuracy.mae) ? accuracy.mae : Number.POSITIVE_INFINITY });
  }
  if (eligible.length === 0) {
    const reasons = candidates.map((c) => `${c.name}: ${c.failure?.message ?? 'not fitted'}`).join('; ');
    return err({ reason: 'insufficient_history', message: `auto: no candidate could be fitted before the validation split (${reasons})` });
  }
  // A stable sort keeps the given order (simpler models first) among equal errors.
  const ranked = [...eligible].sort((a, b) => a.mae - b.mae);
  const combinations: CombinationScore[] = [];
  const validationForecasts = new Map<CombinationKind, Float64Array>();
  for (const kind of combinationKinds) {
    const { members, weights } = membersOf(kind, ranked);
    const combined = combineEachOrigin(
      kind,
      members.map((m) => splitForecasts.get(m)!),
      weights,
      n,
    );
    validationForecasts.set(kind, combined);
    const accuracy = scoreForecasts(actual, { value: combined, p10: combined, p90: combined }, scale);
    combinations.push({ kind, members, weights, validationMae: accuracy.mae, validationMase: accuracy.mase });
  }
  let chosen = combinations[0]!;
  for (const c of combinations) if (c.validationMae < chosen.validationMae) chosen = c;

  const residuals: number[] = [];
  const chosenValidation = validationForecasts.get(chosen.kind)!;
  for (let t = splitIndex + 1; t + h < n; t++) {
    const r = actual[t]! - chosenValidation[t]!;
    if (Number.isFinite(r)) residuals.push(r);
  }
  const byName = new Map(candidates.map((c) => [c.name, c]));
  const members = chosen.members.map((m) => byName.get(m)!.onTrain!);
  let band: AutoSelection['band'];
  if (residuals.length >= minBandResiduals) {
    const sorted = Float64Array.from(residuals).sort();
    band = { q10: quantileOfSorted(sorted, 0.1), q90: quantileOfSorted(sorted, 0.9), count: residuals.length, source: 'validation' };
  } else {
    band = { q10: Number.NaN, q90: Number.NaN, count: residuals.length, source: 'members' };
  }
  const bandAt = (offset: number) => chosenValidation.map((v) => v + (Number.isFinite(offset) ? offset : 0));
  const chosenAccuracy = scoreForecasts(actual, { value: chosenValidation, p10: bandAt(band.q10), p90: bandAt(band.q90) }, scale);
  const selection: AutoSelection = { splitIndex, candidates: scores, combinations, chosen, band, chosenAccuracy };
  return ok({ fitted: combinedForecaster(spec, chosen, members, band), selection });
}

/**
 * The FittedForecaster of a chosen combination. With a validation band, p10/p90 = ŷ + q10/q90;
 * otherwise (too few validation residuals) the members' own p10 and p90 are combined the same way
 * as their point forecasts.
 */
function combinedForecaster(spec: ForecastSpec, chosen: CombinationScore, members: readonly FittedForecaster[], band: AutoSelection['band']): FittedForecaster {
  const { kind, weights } = chosen;
  const fromMembers = band.source === 'members';
  const parameters: Record<string, number> = { members: members.length, bandQ10: band.q10, bandQ90: band.q90, bandResiduals: band.count };
  chosen.members.forEach((name, i) => {
    parameters[`weight_${name}`] = weights[i] ?? 1 / members.length;
  });
  return {
    model: 'auto',
    spec,
    parameters,
    forecast(history: RegularSeries): PointForecast {
      const points = members.map((m) => m.forecast(history));
      const value = combine(
        kind,
        points.map((p) => p.value),
        weights,
      );
      if (!Number.isFinite(value)) return { value: Number.NaN, p10: Number.NaN, p90: Number.NaN };
      if (fromMembers) {
        return {
          value,
          p10: combine(
            kind,
            points.map((p) => p.p10),
            weights,
          ),
          p90: combine(
            kind,
            points.map((p) => p.p90),
            weights,
          ),
        };
      }
      return { value, p10: value + band.q10, p90: value + band.q90 };
    },
    forecastEachOrigin(series: RegularSeries): EachOriginForecasts {
      const n = series.values.length;
      const each = members.map((m) => m.forecastEachOrigin(series));
      const value = combineEachOrigin(kind, each, weights, n);
      if (fromMembers) {
        const p10 = combineEachOrigin(
          kind,
          each.map((e) => ({ value: e.p10, p10: e.p10, p90: e.p10 })),
          weights,
          n,
        );
        const p90 = combineEachOrigin(
          kind,
          each.map((e) => ({ value: e.p90, p10: e.p90, p90: e.p90 })),
          weights,
          n,
        );
        return { value, p10, p90 };
      }
      const p10 = new Float64Array(n);
      const p90 = new Float64Array(n);
      for (let t = 0; t < n; t++) {
        p10[t] = value[t]! + band.q10;
        p90[t] = value[t]! + band.q90;
      }
      return { value, p10, p90 };
    },
  };
}

/**
 * Refits the members of a combination `auto` chose earlier on newer data, keeping the choice (kind,
 * members, weights) and its validation band: the cheap refit between two selections. Choosing costs
 * every candidate fitted twice and backtested (about 2 s per series at a week of minutes); this
 * costs the members' fits only. Fails when a member is not among `forecasters` or cannot be fitted
 * on `train` (the caller then selects again).
 */
export function refitChosen(selection: AutoSelection, train: RegularSeries, spec: ForecastSpec, forecasters: readonly Forecaster[] = autoCandidateForecasters()): Result<AutoModel, FitFailure> {
  const naive = createNaiveForecaster().fit(train, spec);
  if (!naive.ok) return naive;
  const byName = new Map(forecasters.map((f) => [f.name, f]));
  const members: FittedForecaster[] = [];
  for (const name of selection.chosen.members) {
    const forecaster = byName.get(name);
    if (forecaster === undefined) return err({ reason: 'invalid_spec', message: `auto: the chosen member ${name} is no longer a candidate` });
    const fitted = forecaster.fit(train, spec);
    if (!fitted.ok) return fitted;
    members.push(withFallback(fitted.value, naive.value));
  }
  return ok({ fitted: combinedForecaster(spec, selection.chosen, members, selection.band), selection });
}

/** Options of {@link createAutoForecaster}. */
export interface AutoForecasterOptions {
  /** The candidates (default {@link autoCandidateForecasters}). */
  readonly forecasters?: () => readonly Forecaster[];
  /** Share of the training part held out for validation (default 0.3). */
  readonly validationFraction?: number;
  /** Candidates fitted elsewhere (the LSTM, trained asynchronously), fitted on the same split. */
  readonly extraCandidates?: readonly CandidateFit[];
}

/** The `auto` forecaster, which can also return its selection report. */
export interface AutoForecaster extends Forecaster {
  /** Like `fit`, with the report of what was chosen and why. */
  fitWithReport(train: RegularSeries, spec: ForecastSpec): Result<AutoModel, FitFailure>;
}

/**
 * `auto`: per series, fits every candidate before a validation split inside the training data,
 * ranks them by validation MAE, and picks the best of a few combinations of the best candidates
 * (or one alone) by validation MAE; the chosen combination of the candidates refitted on all the
 * training data forecasts, with a conformal p10–p90 band. Never looks past `train`.
 */
export function createAutoForecaster(options: AutoForecasterOptions = {}): AutoForecaster {
  const fitWithReport = (train: RegularSeries, spec: ForecastSpec): Result<AutoModel, FitFailure> => {
    const bad = specProblem(spec);
    if (bad !== undefined) return err(bad);
    const splitIndex = validationSplitIndex(train.values.length, options.validationFraction);
    const forecasters = options.forecasters?.() ?? autoCandidateForecasters();
    const candidates = [...fitCandidates(forecasters, train, spec, splitIndex), ...(options.extraCandidates ?? [])];
    return selectCombination(train, spec, candidates, splitIndex);
  };
  return {
    name: 'auto',
    fitWithReport,
    fit(train: RegularSeries, spec: ForecastSpec): Result<FittedForecaster, FitFailure> {
      const result = fitWithReport(train, spec);
      return result.ok ? ok(result.value.fitted) : result;
    },
  };
}
