/**
 * Forecast accuracy measures, exactly as defined in reference/prediction-and-evaluation.md §2.1.
 * Every function takes aligned arrays (element i of the forecast is about element i of the actual)
 * and skips the positions where either side is NaN (a missing actual, or no forecast).
 */

import type { EachOriginForecasts } from './forecaster.js';

/** Numbers that can be read by index: arrays and typed arrays. */
export type Numbers = ArrayLike<number>;

/**
 * The denominator of MASE: the in-sample mean absolute error of the seasonal-naive forecast
 * y_t − y_{t−m} on the training part, (1/(n−m)) Σ_{t=m+1..n} |y_t − y_{t−m}|, over the pairs where
 * both points exist. When that is 0 or undefined (constant or too-short training data, or no
 * complete pair across gaps), the lag-1 naive MAE is used instead and `kind` says so; when that
 * fails too the scale is NaN and so is every MASE.
 */
export interface MaseScale {
  /** The mean absolute lag difference (NaN when undefined). */
  readonly scale: number;
  /** The lag it was computed at, in steps. */
  readonly lagSteps: number;
  /** Which scale was used. */
  readonly kind: 'seasonal' | 'lag1' | 'undefined';
  /** Why it is not the seasonal scale, if it is not. */
  readonly note?: string;
}

/** Mean |y_t − y_{t−lag}| over pairs where both are finite (NaN when there are none). */
function meanAbsoluteLagDifference(train: Numbers, lagSteps: number): number {
  let sum = 0;
  let count = 0;
  for (let t = lagSteps; t < train.length; t++) {
    const difference = train[t]! - train[t - lagSteps]!;
    if (Number.isFinite(difference)) {
      sum += Math.abs(difference);
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}

/** The MASE scale of a training part with season length `seasonSteps` (see {@link MaseScale}). */
export function maseScale(train: Numbers, seasonSteps: number): MaseScale {
  const seasonal = meanAbsoluteLagDifference(train, seasonSteps);
  if (seasonal > 0) return { scale: seasonal, lagSteps: seasonSteps, kind: 'seasonal' };
  const why = Number.isNaN(seasonal) ? 'no pair of points one season apart in the training part' : 'the seasonal-naive in-sample error is 0';
  const lag1 = meanAbsoluteLagDifference(train, 1);
  if (lag1 > 0) return { scale: lag1, lagSteps: 1, kind: 'lag1', note: `${why}; MASE uses the lag-1 naive scale` };
  return { scale: Number.NaN, lagSteps: 1, kind: 'undefined', note: `${why}, and the lag-1 naive error is 0 or undefined; MASE is undefined` };
}

/** MAE = mean |y − ŷ|. */
export function meanAbsoluteError(actual: Numbers, forecast: Numbers): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < actual.length; i++) {
    const error = actual[i]! - forecast[i]!;
    if (Number.isFinite(error)) {
      sum += Math.abs(error);
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}

/** WAPE = Σ|y − ŷ| / Σ|y| (NaN when Σ|y| is 0 or nothing is scored). */
export function weightedAbsolutePercentageError(actual: Numbers, forecast: Numbers): number {
  let errors = 0;
  let total = 0;
  for (let i = 0; i < actual.length; i++) {
    const error = actual[i]! - forecast[i]!;
    if (Number.isFinite(error)) {
      errors += Math.abs(error);
      total += Math.abs(actual[i]!);
    }
  }
  return total > 0 ? errors / total : Number.NaN;
}

/**
 * Prediction accuracy in percent (`scaling_prediction_accuracy_percent`):
 * 100 × max(0, 1 − Σ|y − ŷ| / Σ max(|y|, s)), where s is the series' MASE scale (its in-sample
 * seasonal-naive MAE: how much it moves from one season to the next).
 *
 * On a busy series |y| ≫ s and this is 100 × (1 − WAPE). On a mostly empty queue WAPE divides by
 * almost nothing and reads −11,000 % for a forecast off by one job; here each point weighs at
 * least the series' ordinary movement, so a forecast whose errors stay within that movement
 * scores well and one that does worse reads 0, never below. 100 when nothing moved and nothing
 * was missed; NaN when nothing was scored.
 */
export function accuracyPercentOf(absoluteErrors: number, flooredVolume: number, count: number): number {
  if (count === 0) return Number.NaN;
  if (flooredVolume <= 0) return absoluteErrors > 0 ? 0 : 100;
  return 100 * Math.max(0, 1 - absoluteErrors / flooredVolume);
}

/** {@link accuracyPercentOf} for aligned actuals and forecasts, with the MASE `scale`. */
export function predictionAccuracyPercent(actual: Numbers, forecast: Numbers, scale: number): number {
  const floor = Number.isFinite(scale) && scale > 0 ? scale : 0;
  let errors = 0;
  let volume = 0;
  let count = 0;
  for (let i = 0; i < actual.length; i++) {
    const error = actual[i]! - forecast[i]!;
    if (!Number.isFinite(error)) continue;
    errors += Math.abs(error);
    volume += Math.max(Math.abs(actual[i]!), floor);
    count++;
  }
  return accuracyPercentOf(errors, volume, count);
}

/** MASE = mean |y − ŷ| ÷ `scale` (a {@link maseScale}). */
export function meanAbsoluteScaledError(actual: Numbers, forecast: Numbers, scale: MaseScale): number {
  return meanAbsoluteError(actual, forecast) / scale.scale;
}

/** Mean pinball loss of the q-quantile forecast: L_q = max(q (y − ŷ_q), (q − 1)(y − ŷ_q)). */
export function pinballLoss(actual: Numbers, quantileForecast: Numbers, q: number): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < actual.length; i++) {
    const difference = actual[i]! - quantileForecast[i]!;
    if (Number.isFinite(difference)) {
      sum += Math.max(q * difference, (q - 1) * difference);
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}

/** Interval coverage: the share of y inside [lower, upper] (bounds included). */
export function intervalCoverage(actual: Numbers, lower: Numbers, upper: Numbers): number {
  let inside = 0;
  let count = 0;
  for (let i = 0; i < actual.length; i++) {
    const y = actual[i]!;
    const low = lower[i]!;
    const high = upper[i]!;
    if (!Number.isFinite(y) || !Number.isFinite(low) || !Number.isFinite(high)) continue;
    count++;
    if (y >= low && y <= high) inside++;
  }
  return count === 0 ? Number.NaN : inside / count;
}

/** Every measure of one set of forecasts. */
export interface AccuracyReport {
  /** Pairs scored: actual and point forecast both finite. */
  readonly count: number;
  readonly mae: number;
  /** Σ|y − ŷ| / Σ|y|, a ratio (0.12 = 12 %). */
  readonly wape: number;
  /** {@link predictionAccuracyPercent}: 100 × max(0, 1 − Σ|y − ŷ| / Σ max(|y|, MASE scale)). */
  readonly accuracyPercent: number;
  readonly mase: number;
  readonly maseScale: MaseScale;
  /** Mean pinball loss of p10 and p90, in the units of the series. */
  readonly pinball10: number;
  readonly pinball90: number;
  /** Share of actuals inside [p10, p90]; 0.8 is perfectly calibrated. */
  readonly coverage80: number;
}

/** All measures of `forecast` against `actual` (aligned), with MASE on `scale`. */
export function scoreForecasts(actual: Numbers, forecast: EachOriginForecasts, scale: MaseScale): AccuracyReport {
  let count = 0;
  for (let i = 0; i < actual.length; i++) if (Number.isFinite(actual[i]! - forecast.value[i]!)) count++;
  return {
    count,
    mae: meanAbsoluteError(actual, forecast.value),
    wape: weightedAbsolutePercentageError(actual, forecast.value),
    accuracyPercent: predictionAccuracyPercent(actual, forecast.value, scale.scale),
    mase: meanAbsoluteScaledError(actual, forecast.value, scale),
    maseScale: scale,
    pinball10: pinballLoss(actual, forecast.p10, 0.1),
    pinball90: pinballLoss(actual, forecast.p90, 0.9),
    coverage80: intervalCoverage(actual, forecast.p10, forecast.p90),
  };
}

/**
 * Geometric mean of the finite, positive values (how per-series ratios such as MASE are
 * aggregated across series, as in GIFT-Eval); NaN when there are none.
 */
export function geometricMean(values: readonly number[]): number {
  let logSum = 0;
  let count = 0;
  for (const value of values) {
    if (Number.isFinite(value) && value > 0) {
      logSum += Math.log(value);
      count++;
    }
  }
  return count === 0 ? Number.NaN : Math.exp(logSum / count);
}
