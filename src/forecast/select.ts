import type { RegularSeries } from '../core/index.js';
import { backtest } from './backtest.js';
import { withFallback } from './fallback.js';
import type { FitFailure, FittedForecaster, ForecastSpec, Forecaster } from './forecaster.js';
import { createNaiveForecaster } from './naive.js';
import { createAllForecasters, createForecaster } from './registry.js';

/** A fitted model ready to serve, and why it is not the one asked for (if it is not). */
export interface ServingModel {
  /** The model asked for with naive behind it, or naive alone when the model could not be fitted. */
  readonly fitted: FittedForecaster;
  /** Set when naive replaced the model asked for: the fit failure or the unknown name. */
  readonly fallbackReason?: string;
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
  if (forecaster === undefined) return { fitted: naive.value, fallbackReason: `unknown model "${String(model)}"; using naive` };
  const fitted = forecaster.fit(train, spec);
  if (!fitted.ok) return { fitted: naive.value, fallbackReason: `${fitted.error.message}; using naive` };
  return { fitted: withFallback(fitted.value, naive.value) };
}

/** One model's backtest score on a series, as shown next to the published forecasts. */
export interface ModelEvaluation {
  readonly model: string;
  /** MASE on the last part of the series (scaled on the first part). */
  readonly mase: number;
  /** WAPE, a ratio (0.1 = 10 %). */
  readonly wape: number;
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
    const { accuracy, fitFailure } = result.value;
    out.push({
      model: forecaster.name,
      mase: accuracy.mase,
      wape: accuracy.wape,
      coverage: accuracy.coverage80,
      points: accuracy.count,
      ...(fitFailure !== undefined ? { fitFailure } : {}),
    });
  }
  return out;
}
