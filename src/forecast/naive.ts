import { err, ok } from '../core/index.js';
import type { RegularSeries, Result, SeriesValues } from '../core/index.js';
import type { FitFailure, FittedForecaster, ForecastSpec, Forecaster } from './forecaster.js';
import { bandedForecaster, residualQuantiles } from './residual-bands.js';
import { fitPrecondition } from './spec.js';

/** The value `horizonSteps` ahead is the last finite value seen (NaN before the first one). */
export function naivePointForecast(values: SeriesValues): number {
  for (let i = values.length - 1; i >= 0; i--) {
    const value = values[i]!;
    if (Number.isFinite(value)) return value;
  }
  return Number.NaN;
}

/** {@link naivePointForecast} for every origin in one pass: the last finite value carried forward. */
export function naiveEachOrigin(values: SeriesValues): Float64Array {
  const out = new Float64Array(values.length);
  let last = Number.NaN;
  for (let t = 0; t < values.length; t++) {
    const value = values[t]!;
    if (Number.isFinite(value)) last = value;
    out[t] = last;
  }
  return out;
}

/**
 * Last-value naive ("random walk") forecaster. It is the baseline that is hardest to beat at short
 * horizons on fine-grained data, and the fallback of every other model: it needs one finite value.
 */
export function createNaiveForecaster(): Forecaster {
  const name = 'naive';
  return {
    name,
    fit(train: RegularSeries, spec: ForecastSpec): Result<FittedForecaster, FitFailure> {
      const problem = fitPrecondition(name, train.values, spec, 1, 'one finite value');
      if (problem !== undefined) return err(problem);
      const bands = residualQuantiles(train.values, naiveEachOrigin(train.values), spec.horizonSteps);
      return ok(bandedForecaster(name, spec, bands, {}, { one: naivePointForecast, each: naiveEachOrigin }));
    },
  };
}
