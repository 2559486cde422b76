import { quantileSorted } from 'simple-statistics';
import type { EachOriginForecasts, FittedForecaster, ForecastSpec, PointForecast } from './forecaster.js';
import type { RegularSeries, SeriesValues } from '../core/index.js';

/**
 * The 10th and 90th percentiles of a model's own h-step-ahead errors (actual − forecast) on its
 * training data. Adding them to a point forecast gives the p10/p90 band; since they come from the
 * training part only, the band never looks ahead.
 */
export interface ResidualQuantiles {
  readonly q10: number;
  readonly q90: number;
  /** How many residuals they were computed from (0 gives a zero-width band). */
  readonly count: number;
}

/**
 * Linear-interpolation quantile (Hyndman–Fan type 7, the R and numpy default) of sorted data,
 * by simple-statistics; NaN for no data (simple-statistics throws).
 */
export function quantileOfSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return quantileSorted(Array.from(sorted), q);
}

/**
 * Quantiles of the residuals `values[t + h] − forecasts[t]` over origins `t >= fromOrigin` where
 * both are finite. `forecasts` is a model's each-origin output on the same training values.
 */
export function residualQuantiles(values: SeriesValues, forecasts: Float64Array, horizonSteps: number, fromOrigin = 0): ResidualQuantiles {
  const residuals = new Float64Array(Math.max(0, values.length - horizonSteps));
  let count = 0;
  for (let t = Math.max(0, fromOrigin); t + horizonSteps < values.length; t++) {
    const residual = values[t + horizonSteps]! - forecasts[t]!;
    if (Number.isFinite(residual)) residuals[count++] = residual;
  }
  if (count === 0) return { q10: 0, q90: 0, count: 0 };
  const sorted = residuals.subarray(0, count).sort();
  return { q10: quantileOfSorted(sorted, 0.1), q90: quantileOfSorted(sorted, 0.9), count };
}

/** How a model makes point forecasts: from a whole history, or for every origin in one pass. */
export interface PointModel {
  /** The point forecast `horizonSteps` after the last of `values` (NaN when impossible); `series` is where they come from (its start places seasons on the clock). */
  one(values: SeriesValues, series: RegularSeries): number;
  /** Element `t`: the point forecast for `t + horizonSteps` from `values[0..t]` (NaN when impossible). */
  each(values: SeriesValues, series: RegularSeries): Float64Array;
}

const missing: PointForecast = { value: Number.NaN, p10: Number.NaN, p90: Number.NaN };

/**
 * A fitted forecaster from a point model and its residual quantiles: p10 = value + q10 and
 * p90 = value + q90. Histories on a different grid step than the fit get NaN forecasts, because
 * every fitted quantity (season length, horizon, windows) is counted in steps.
 */
export function bandedForecaster(model: string, spec: ForecastSpec, bands: ResidualQuantiles, parameters: Readonly<Record<string, number>>, point: PointModel): FittedForecaster {
  return {
    model,
    spec,
    parameters: { ...parameters, residualQ10: bands.q10, residualQ90: bands.q90, residualCount: bands.count },
    forecast(history: RegularSeries): PointForecast {
      if (history.stepSeconds !== spec.stepSeconds) return missing;
      const value = point.one(history.values, history);
      if (!Number.isFinite(value)) return missing;
      return { value, p10: value + bands.q10, p90: value + bands.q90 };
    },
    forecastEachOrigin(series: RegularSeries): EachOriginForecasts {
      const n = series.values.length;
      const value = series.stepSeconds === spec.stepSeconds ? point.each(series.values, series) : new Float64Array(n).fill(Number.NaN);
      const p10 = new Float64Array(n);
      const p90 = new Float64Array(n);
      for (let t = 0; t < n; t++) {
        // NaN propagates, so origins without a forecast get NaN bands too.
        p10[t] = value[t]! + bands.q10;
        p90[t] = value[t]! + bands.q90;
      }
      return { value, p10, p90 };
    },
  };
}

/** Mean |values[t+h] − forecasts[t]| over origins where both are finite (∞ when there are none). */
export function meanAbsoluteStepError(values: SeriesValues, forecasts: Float64Array, horizonSteps: number, fromOrigin = 0): number {
  let sum = 0;
  let count = 0;
  for (let t = Math.max(0, fromOrigin); t + horizonSteps < values.length; t++) {
    const error = values[t + horizonSteps]! - forecasts[t]!;
    if (Number.isFinite(error)) {
      sum += Math.abs(error);
      count++;
    }
  }
  return count === 0 ? Number.POSITIVE_INFINITY : sum / count;
}
