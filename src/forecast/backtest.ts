import { err, ok, prefix } from '../core/index.js';
import type { RegularSeries, Result, SeriesValues } from '../core/index.js';
import { maseScale, scoreForecasts } from './accuracy.js';
import type { AccuracyReport } from './accuracy.js';
import { mergeEachOrigin } from './fallback.js';
import type { EachOriginForecasts, FitFailure, FittedForecaster, ForecastSpec, Forecaster } from './forecaster.js';
import { createNaiveForecaster } from './naive.js';

/** A model fitted for a backtest, with the naive fallback that covers origins it cannot forecast. */
export interface FittedWithFallback {
  /** The model asked for, fitted; undefined when it could not be fitted (the fallback answers everywhere). */
  readonly primary: FittedForecaster | undefined;
  /** Why the model asked for could not be fitted. */
  readonly primaryFailure?: FitFailure;
  /** Naive, fitted on the same training data. */
  readonly fallback: FittedForecaster;
}

/**
 * Fits `forecaster` and the naive fallback on `train`. Fails only when naive fails too, that is when
 * the training data has no finite value or the spec is invalid.
 */
export function fitForBacktest(forecaster: Forecaster, train: RegularSeries, spec: ForecastSpec): Result<FittedWithFallback, FitFailure> {
  const fallback = createNaiveForecaster().fit(train, spec);
  if (!fallback.ok) return fallback;
  const fitted = forecaster.fit(train, spec);
  return fitted.ok ? ok({ primary: fitted.value, fallback: fallback.value }) : ok({ primary: undefined, primaryFailure: fitted.error, fallback: fallback.value });
}

/**
 * Each-origin forecasts of a model with its fallback: the model where it has a forecast, naive where
 * it has not. `fallbackOrigins[t]` is 1 where naive answered.
 */
export function forecastEachOriginWithFallback(model: FittedWithFallback, series: RegularSeries): { readonly forecasts: EachOriginForecasts; readonly fallbackOrigins: Uint8Array } {
  const fallback = model.fallback.forecastEachOrigin(series);
  if (model.primary === undefined) {
    const all = new Uint8Array(series.values.length);
    for (let t = 0; t < all.length; t++) if (Number.isFinite(fallback.value[t]!)) all[t] = 1;
    return { forecasts: fallback, fallbackOrigins: all };
  }
  return mergeEachOrigin(model.primary.forecastEachOrigin(series), fallback);
}

/**
 * The actual each origin is scored against: `actual[t] = values[t + h]` for origins
 * `fromOrigin <= t`, NaN elsewhere (and past the end).
 */
export function actualsAtOrigins(values: SeriesValues, horizonSteps: number, fromOrigin: number): Float64Array {
  const actual = new Float64Array(values.length).fill(Number.NaN);
  for (let t = Math.max(0, fromOrigin); t + horizonSteps < values.length; t++) actual[t] = values[t + horizonSteps]!;
  return actual;
}

/** Options of {@link backtest}. */
export interface BacktestOptions {
  readonly spec: ForecastSpec;
  /** The last grid index the model may be fitted on (inclusive); origins after it are scored. */
  readonly trainEndIndex: number;
}

/** The outcome of a rolling-origin backtest. */
export interface BacktestResult {
  /** The model asked for. */
  readonly model: string;
  /** Why it could not be fitted; then naive answered at every origin. */
  readonly fitFailure?: FitFailure;
  /** Forecasts for every origin of the series (fallback included); element t is about t + h. */
  readonly forecasts: EachOriginForecasts;
  /** Scored origins (after the training part, with a finite actual) where naive answered. */
  readonly fallbackScoredOrigins: number;
  /** Accuracy over the origins after `trainEndIndex`, MASE scaled on the training part. */
  readonly accuracy: AccuracyReport;
}

/**
 * Rolling-origin evaluation: fits `forecaster` on `values[0..trainEndIndex]`, forecasts every
 * origin t from `values[0..t]` only, and scores the origins after `trainEndIndex` against
 * `values[t + h]`. Pure and deterministic. Fails only when even naive cannot be fitted.
 */
export function backtest(forecaster: Forecaster, series: RegularSeries, options: BacktestOptions): Result<BacktestResult, FitFailure> {
  const { spec } = options;
  const trainEnd = Math.min(series.values.length - 1, options.trainEndIndex);
  if (trainEnd < 0) return err({ reason: 'no_data', message: 'the training part is empty (trainEndIndex < 0)' });
  const train = prefix(series, trainEnd + 1);
  const fitted = fitForBacktest(forecaster, train, spec);
  if (!fitted.ok) return fitted;
  const { forecasts, fallbackOrigins } = forecastEachOriginWithFallback(fitted.value, series);
  const actual = actualsAtOrigins(series.values, spec.horizonSteps, trainEnd + 1);
  let fallbackScoredOrigins = 0;
  for (let t = 0; t < actual.length; t++) if (fallbackOrigins[t] === 1 && Number.isFinite(actual[t]!)) fallbackScoredOrigins++;
  const failure = fitted.value.primaryFailure;
  return ok({
    model: forecaster.name,
    ...(failure !== undefined ? { fitFailure: failure } : {}),
    forecasts,
    fallbackScoredOrigins,
    accuracy: scoreForecasts(actual, forecasts, maseScale(train.values, spec.seasonSteps)),
  });
}

/** The share of the training part held out for validation by {@link selectByValidation}. */
export const defaultValidationFraction = 0.3;

/** One model's score on the validation split. */
export interface ValidationScore {
  readonly model: string;
  /** False when the model could not be fitted on the part before the split (it is not eligible). */
  readonly fitted: boolean;
  readonly fitFailure?: FitFailure;
  /** Accuracy on the validation origins (with the naive fallback, as the backtest would output). */
  readonly accuracy: AccuracyReport;
}

/** The model chosen on a validation split inside the training part. */
export interface ValidationSelection {
  /** The chosen model's name. */
  readonly best: string;
  /** The last index of the part the candidates were fitted on; validation origins come after it. */
  readonly splitIndex: number;
  /** Every candidate's score, in the order given. */
  readonly scores: readonly ValidationScore[];
}

/**
 * Picks the model with the lowest validation MAE (equivalently MASE: the scale is shared) among
 * those that could be fitted. The validation split lies inside `train`: candidates are fitted on
 * its first `1 − validationFraction` and scored on origins whose targets are still inside `train`,
 * so the test part is never seen. Ties and unscorable candidates go to the earlier model in
 * `forecasters`; when no candidate can be fitted on the split the first one is chosen.
 */
export function selectByValidation(
  forecasters: readonly Forecaster[],
  train: RegularSeries,
  spec: ForecastSpec,
  validationFraction: number = defaultValidationFraction,
): Result<ValidationSelection, FitFailure> {
  if (forecasters.length === 0) return err({ reason: 'invalid_spec', message: 'no candidate models to select from' });
  const n = train.values.length;
  const splitIndex = Math.max(0, Math.floor(n * (1 - validationFraction)) - 1);
  const scores: ValidationScore[] = [];
  let best: { model: string; mae: number } | undefined;
  for (const forecaster of forecasters) {
    const result = backtest(forecaster, train, { spec, trainEndIndex: splitIndex });
    if (!result.ok) return result;
    const { fitFailure, accuracy } = result.value;
    const fitted = fitFailure === undefined;
    scores.push({ model: forecaster.name, fitted, ...(fitFailure !== undefined ? { fitFailure } : {}), accuracy });
    const mae = Number.isFinite(accuracy.mae) ? accuracy.mae : Number.POSITIVE_INFINITY;
    if (fitted && (best === undefined || mae < best.mae)) best = { model: forecaster.name, mae };
  }
  return ok({ best: best?.model ?? forecasters[0]!.name, splitIndex, scores });
}
