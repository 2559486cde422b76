import { err, ok } from '../core/index.js';
import type { RegularSeries, Result, SeriesValues } from '../core/index.js';
import type { FitFailure, FittedForecaster, ForecastSpec, Forecaster } from './forecaster.js';
import { bandedForecaster, residualQuantiles } from './residual-bands.js';
import { fitPrecondition } from './spec.js';

/**
 * How many whole seasons back the newest usable lag is: the value one season before the target
 * when the horizon is within a season, more seasons back for longer horizons (the lag must not be
 * after the origin).
 */
export function seasonsBack(horizonSteps: number, seasonSteps: number): number {
  return Math.max(1, Math.ceil(horizonSteps / seasonSteps));
}

/**
 * Seasonal naive from a whole history: the value at the target's slot one season earlier, or, if
 * that point is missing, the same slot in the season before, and so on (NaN when every earlier
 * season is missing at that slot).
 */
export function seasonalNaivePointForecast(values: SeriesValues, horizonSteps: number, seasonSteps: number): number {
  const target = values.length - 1 + horizonSteps;
  for (let i = target - seasonsBack(horizonSteps, seasonSteps) * seasonSteps; i >= 0; i -= seasonSteps) {
    const value = values[i]!;
    if (Number.isFinite(value)) return value;
  }
  return Number.NaN;
}

/**
 * Seasonal naive for every origin in one pass. `filled[i]` is the newest finite value at or
 * before `i` on i's seasonal lattice (i, i − m, i − 2m, …), so each forecast is one lookup.
 */
export function seasonalNaiveEachOrigin(values: SeriesValues, horizonSteps: number, seasonSteps: number): Float64Array {
  const n = values.length;
  const filled = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const value = values[i]!;
    filled[i] = Number.isFinite(value) ? value : i >= seasonSteps ? filled[i - seasonSteps]! : Number.NaN;
  }
  const lag = seasonsBack(horizonSteps, seasonSteps) * seasonSteps;
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const source = t + horizonSteps - lag;
    out[t] = source >= 0 ? filled[source]! : Number.NaN;
  }
  return out;
}

/**
 * Seasonal naive forecaster: tomorrow at this time looks like today at this time. It needs one
 * season of training history (before that there is nothing to copy).
 */
export function createSeasonalNaiveForecaster(): Forecaster {
  const name = 'seasonal_naive';
  return {
    name,
    fit(train: RegularSeries, spec: ForecastSpec): Result<FittedForecaster, FitFailure> {
      const { horizonSteps: h, seasonSteps: m } = spec;
      const problem = fitPrecondition(name, train.values, spec, m, 'one season of history');
      if (problem !== undefined) return err(problem);
      const bands = residualQuantiles(train.values, seasonalNaiveEachOrigin(train.values, h, m), h);
      return ok(
        bandedForecaster(
          name,
          spec,
          bands,
          {},
          {
            one: (values) => seasonalNaivePointForecast(values, h, m),
            each: (values) => seasonalNaiveEachOrigin(values, h, m),
          },
        ),
      );
    },
  };
}
