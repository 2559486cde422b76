import { err, ok } from '../core/index.js';
import type { RegularSeries, Result, SeriesValues } from '../core/index.js';
import type { FitFailure, FittedForecaster, ForecastSpec, Forecaster } from './forecaster.js';
import { bandedForecaster, meanAbsoluteStepError, residualQuantiles } from './residual-bands.js';
import { seasonsBack } from './seasonal-naive.js';
import { fitPrecondition } from './spec.js';

/** The largest number of past seasons averaged: a week of daily seasons. */
export const maxSeasonalMeanSeasons = 7;

/**
 * Mean of the finite values at the target's slot over the `seasons` most recent usable seasons
 * (missing points are skipped; NaN when all are missing). `target` is the index forecast.
 */
function slotMean(values: SeriesValues, target: number, horizonSteps: number, seasonSteps: number, seasons: number): number {
  const first = seasonsBack(horizonSteps, seasonSteps);
  let sum = 0;
  let count = 0;
  // The same summation order in both entry points keeps forecast() and forecastEachOrigin() bit-identical.
  for (let k = first; k < first + seasons; k++) {
    const i = target - k * seasonSteps;
    if (i < 0) break;
    const value = values[i]!;
    if (Number.isFinite(value)) {
      sum += value;
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}

/** Seasonal mean from a whole history. */
export function seasonalMeanPointForecast(values: SeriesValues, horizonSteps: number, seasonSteps: number, seasons: number): number {
  return slotMean(values, values.length - 1 + horizonSteps, horizonSteps, seasonSteps, seasons);
}

/** Seasonal mean for every origin: O(n · seasons), with seasons ≤ {@link maxSeasonalMeanSeasons}. */
export function seasonalMeanEachOrigin(values: SeriesValues, horizonSteps: number, seasonSteps: number, seasons: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let t = 0; t < values.length; t++) out[t] = slotMean(values, t + horizonSteps, horizonSteps, seasonSteps, seasons);
  return out;
}

/** Options of {@link createSeasonalMeanForecaster}. */
export interface SeasonalMeanOptions {
  /** A fixed number of seasons to average; by default it is fitted (1 to 7) on the training data. */
  readonly seasons?: number;
}

/**
 * Seasonal mean forecaster: the average of the same time of day over the last K days, which is
 * seasonal naive with the day-to-day noise averaged out. K is chosen by the lowest h-step mean
 * absolute error on the training data (the error MASE measures). Needs two seasons of history.
 */
export function createSeasonalMeanForecaster(options: SeasonalMeanOptions = {}): Forecaster {
  const name = 'seasonal_mean';
  return {
    name,
    fit(train: RegularSeries, spec: ForecastSpec): Result<FittedForecaster, FitFailure> {
      const { horizonSteps: h, seasonSteps: m } = spec;
      const problem = fitPrecondition(name, train.values, spec, 2 * m, 'two seasons of history');
      if (problem !== undefined) return err(problem);
      const fixed = options.seasons;
      const candidates = fixed !== undefined ? [Math.max(1, Math.round(fixed))] : range(1, maxSeasonalMeanSeasons);
      let best: { seasons: number; error: number; forecasts: Float64Array } = { seasons: candidates[0]!, error: Number.POSITIVE_INFINITY, forecasts: new Float64Array(0) };
      for (const seasons of candidates) {
        const forecasts = seasonalMeanEachOrigin(train.values, h, m, seasons);
        const error = meanAbsoluteStepError(train.values, forecasts, h);
        // Strictly better only: ties keep the smaller K, the simpler model.
        if (error < best.error || best.forecasts.length === 0) best = { seasons, error, forecasts };
      }
      const seasons = best.seasons;
      const bands = residualQuantiles(train.values, best.forecasts, h);
      return ok(
        bandedForecaster(
          name,
          spec,
          bands,
          { seasons },
          {
            one: (values) => seasonalMeanPointForecast(values, h, m, seasons),
            each: (values) => seasonalMeanEachOrigin(values, h, m, seasons),
          },
        ),
      );
    },
  };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
