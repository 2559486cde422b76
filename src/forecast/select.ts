import type { RegularSeries } from '../core/index.js';
import { ok } from '../core/index.js';
import type { AccuracyReport } from './accuracy.js';
import { backtest } from './backtest.js';
import { type AutoSelection, createAutoForecaster, refitChosen } from './ensemble.js';
import { withFallback } from './fallback.js';
import type { FitFailure, FittedForecaster, ForecastSpec, Forecaster } from './forecaster.js';
import { createNaiveForecaster } from './naive.js';
import { createAllForecasters, createForecaster } from './registry.js';
import { createServingForecaster, type ServingModelName } from './serving.js';

/** A fitted model ready to serve, and why it is not the one asked for (if it is not). */
export interface ServingModel {
  /** The model asked for with naive behind it, or naive alone when the model could not be fitted. */
  readonly fitted: FittedForecaster;
  /** Set when naive replaced the model asked for: the fit failure or the unknown name. */
  readonly fallbackReason?: string;
  /** Which model serves and why, for /scaling/ml/accuracy and foresight_forecast_model_info. */
  readonly selection?: ModelSelection;
  /**
   * For `auto`: every candidate's backtest on the validation origins (fitted on the oldest 70 %,
   * scored on the newest 30 %): the same numbers {@link evaluateModels} would compute for these
   * models on the same series, so the refit reuses them instead of backtesting twice.
   */
  readonly candidateScores?: readonly ModelEvaluation[];
  /** For `auto`: what it chose, so that a refit can refit the chosen members alone ({@link refitServingModel}). */
  readonly autoSelection?: AutoSelection;
}

/** Why a series is served by what it is served by. */
export type SelectionWhy = 'lowest_validation_mae' | 'configured' | 'fallback' | 'learned_beats_baseline' | 'sanity_fallback' | 'first_pass';

/** The model that serves a series, why, and the runner-up. */
export interface ModelSelection {
  /** A model name, or a combination: "median_top3(holt_winters, seasonal_mean, naive)". */
  readonly served: string;
  readonly why: SelectionWhy;
  /** The same, for people. */
  readonly reason: string;
  /** The next best on validation (absent when nothing was compared). */
  readonly runnerUp?: string;
  /** Mean absolute error on the validation origins of what serves, of the runner-up and of naive. */
  readonly validationMae?: number;
  readonly runnerUpValidationMae?: number;
  readonly naiveValidationMae?: number;
  /** The scores of what serves on the validation origins (for `auto`), beside the baselines' backtests. */
  readonly validationScore?: { readonly mase: number; readonly wape: number; readonly accuracyPercent: number; readonly coverage: number; readonly points: number };
}

/** The name of a chosen combination as people read it: a model alone, or kind(members). */
export function combinationLabel(kind: string, members: readonly string[]): string {
  return kind === 'best' ? members[0]! : `${kind}(${members.join(', ')})`;
}

/**
 * What `auto` chose, why and the runner-up: the combination with the lowest validation MAE, and
 * the next best that is not the same thing under another name. The chosen one is never worse than
 * naive on validation: naive is a candidate, and "the best candidate alone" is a combination.
 */
export function describeSelection(selection: AutoSelection): ModelSelection {
  const served = combinationLabel(selection.chosen.kind, selection.chosen.members);
  const ranked = [...selection.combinations].filter((c) => Number.isFinite(c.validationMae)).sort((a, b) => a.validationMae - b.validationMae);
  const runnerUp = ranked.find((c) => combinationLabel(c.kind, c.members) !== served);
  const naive = selection.candidates.find((c) => c.model === 'naive' && c.fitted);
  const naiveMae = naive?.accuracy.mae;
  const origins = selection.candidates.find((c) => c.fitted)?.accuracy.count ?? 0;
  const mae = selection.chosen.validationMae;
  return {
    served,
    why: 'lowest_validation_mae',
    reason:
      `lowest validation MAE (${mae.toPrecision(3)}) of ${selection.combinations.length} combinations of ` +
      `${selection.candidates.filter((c) => c.fitted).length} models over ${origins} rolling origins in the newest part of the history` +
      (naiveMae === undefined ? '' : `; naive ${naiveMae.toPrecision(3)}`),
    ...(runnerUp === undefined ? {} : { runnerUp: combinationLabel(runnerUp.kind, runnerUp.members), runnerUpValidationMae: runnerUp.validationMae }),
    validationMae: mae,
    ...(naiveMae === undefined ? {} : { naiveValidationMae: naiveMae }),
    validationScore: {
      mase: selection.chosenAccuracy.mase,
      wape: selection.chosenAccuracy.wape,
      accuracyPercent: selection.chosenAccuracy.accuracyPercent,
      coverage: selection.chosenAccuracy.coverage80,
      points: selection.chosenAccuracy.count,
    },
  };
}

/**
 * Fits the named model (or the given forecaster) on `train` for serving, with naive behind it for
 * the points it cannot forecast. When the model cannot be fitted at all (too little history,
 * unknown name) naive alone answers and `fallbackReason` says why. Undefined only when naive cannot
 * be fitted either: no finite value, or an invalid spec.
 */
export function fitWithFallback(model: string | Forecaster, train: RegularSeries, spec: ForecastSpec): ServingModel | undefined {
  const naive = createNaiveForecaster().fit(train, spec);
  if (!naive.ok) return undefined;
  const forecaster = typeof model === 'string' ? createForecaster(model) : model;
  const fallback = (reason: string): ServingModel => ({ fitted: naive.value, fallbackReason: reason, selection: { served: 'naive', why: 'fallback', reason } });
  if (forecaster === undefined) return fallback(`unknown model "${String(model)}"; using naive`);
  const fitted = forecaster.fit(train, spec);
  if (!fitted.ok) return fallback(`${fitted.error.message}; using naive`);
  return { fitted: withFallback(fitted.value, naive.value), selection: { served: forecaster.name, why: 'configured', reason: `forecast.model is ${forecaster.name}` } };
}

/**
 * Fits a serving model like {@link fitWithFallback}; for `auto` (the default) it also says which
 * combination won on validation, why, and the runner-up. `firstPass` restricts `auto` to the
 * baselines (see below).
 */
export function fitServingModel(model: ServingModelName, train: RegularSeries, spec: ForecastSpec, options: { readonly firstPass?: boolean } = {}): ServingModel | undefined {
  if (model !== 'auto') return fitWithFallback(createServingForecaster(model), train, spec);
  // The first pass chooses among the baselines only (a fraction of a second per series instead of
  // seconds: the learned candidates dominate the cost), so that the service forecasts soon after it
  // starts; the next refit adds them. Naive is a candidate either way, so neither pass serves
  // anything worse than naive on validation.
  const auto = createAutoForecaster(options.firstPass === true ? { forecasters: createAllForecasters } : {});
  let report: AutoSelection | undefined;
  const capturing: Forecaster = {
    name: auto.name,
    fit(series, fitSpec) {
      const result = auto.fitWithReport(series, fitSpec);
      if (!result.ok) return result;
      report = result.value.selection;
      return ok(result.value.fitted);
    },
  };
  const outcome = fitWithFallback(capturing, train, spec);
  if (outcome === undefined || report === undefined || outcome.fallbackReason !== undefined) return outcome;
  const selection = describeSelection(report);
  return {
    ...outcome,
    selection: options.firstPass === true ? { ...selection, reason: `first pass, baselines only (the learned candidates join at the next refit): ${selection.reason}` } : selection,
    candidateScores: candidateEvaluations(report),
    autoSelection: report,
  };
}

/**
 * Refits a serving model on newer data without choosing again: for `auto`, the members of the
 * combination it chose (kind, weights and validation band kept; the choice and its scores are
 * those of the selection); any other model is simply fitted again. Undefined when nothing could be
 * fitted; when a member cannot be refitted, `auto` chooses again.
 */
export function refitServingModel(model: ServingModelName, previous: ServingModel, train: RegularSeries, spec: ForecastSpec): ServingModel | undefined {
  if (model !== 'auto' || previous.autoSelection === undefined) return fitServingModel(model, train, spec);
  const refitted = refitChosen(previous.autoSelection, train, spec);
  if (!refitted.ok) return fitServingModel(model, train, spec);
  return { ...previous, fitted: refitted.value.fitted };
}

/**
 * The cheapest sensible first forecast: seasonal naive (naive before a full season), for the series
 * of a start too large to run even `auto`'s quick first pass on every series at once; `auto`
 * chooses for them in the background.
 */
export function fitStandIn(train: RegularSeries, spec: ForecastSpec, reason: string): ServingModel | undefined {
  const outcome = fitWithFallback('seasonal_naive', train, spec);
  if (outcome === undefined) return undefined;
  return { ...outcome, selection: { served: outcome.fitted.model === 'seasonal_naive' ? 'seasonal_naive' : 'naive', why: 'first_pass', reason } };
}

/** The candidates' validation scores of an `auto` fit, in the shape of {@link evaluateModels}. */
export function candidateEvaluations(selection: AutoSelection): ModelEvaluation[] {
  // A candidate that could not be fitted is scored as its naive fallback, as evaluateModels does.
  const naive = selection.candidates.find((c) => c.model === 'naive' && c.fitted);
  return selection.candidates.map(({ model, fitted, accuracy, fitFailure }) =>
    evaluationOf(model, fitted || naive === undefined ? accuracy : naive.accuracy, fitFailure ?? (fitted ? undefined : { reason: 'insufficient_history', message: `${model} could not be fitted` })),
  );
}

/** One model's accuracy report as a {@link ModelEvaluation}. */
function evaluationOf(model: string, accuracy: AccuracyReport, fitFailure: FitFailure | undefined): ModelEvaluation {
  return {
    model,
    mase: accuracy.mase,
    wape: accuracy.wape,
    accuracyPercent: accuracy.accuracyPercent,
    coverage: accuracy.coverage80,
    points: accuracy.count,
    ...(fitFailure !== undefined ? { fitFailure } : {}),
  };
}

/** One model's backtest score on a series, as shown next to the published forecasts. */
export interface ModelEvaluation {
  readonly model: string;
  /** MASE on the last part of the series (scaled on the first part). */
  readonly mase: number;
  /** WAPE, a ratio (0.1 = 10 %). */
  readonly wape: number;
  /** Prediction accuracy in percent (accuracy.ts `predictionAccuracyPercent`). */
  readonly accuracyPercent: number;
  /** Share of actuals inside [p10, p90]. */
  readonly coverage: number;
  /** Origins scored. */
  readonly points: number;
  /** Set when the model could not be fitted and naive was scored in its place. */
  readonly fitFailure?: FitFailure;
}

/** The share of a series used for fitting by {@link evaluateModels}; the rest is scored. */
export const defaultTrainFraction = 0.7;

/**
 * Backtests every registered model (or `forecasters`) on one series: fitted on the first
 * `trainFraction`, scored on the rest. Models that cannot be fitted are scored as their naive
 * fallback and say so. Empty when the series has no finite value.
 */
export function evaluateModels(
  series: RegularSeries,
  spec: ForecastSpec,
  trainFraction: number = defaultTrainFraction,
  forecasters: readonly Forecaster[] = createAllForecasters(),
): ModelEvaluation[] {
  const trainEndIndex = Math.floor(series.values.length * trainFraction) - 1;
  const out: ModelEvaluation[] = [];
  for (const forecaster of forecasters) {
    const result = backtest(forecaster, series, { spec, trainEndIndex });
    if (!result.ok) continue;
    out.push(evaluationOf(forecaster.name, result.value.accuracy, result.value.fitFailure));
  }
  return out;
}
