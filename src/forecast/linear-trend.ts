import { err, ok } from '../core/index.js';
import type { RegularSeries, Result, SeriesValues } from '../core/index.js';
import type { FitFailure, FittedForecaster, ForecastSpec, Forecaster } from './forecaster.js';
import { bandedForecaster, meanAbsoluteStepError, residualQuantiles } from './residual-bands.js';
import { fitPrecondition } from './spec.js';

/**
 * Trailing windows tried by the fit, in grid steps. Doubling steps cover "the last few points"
 * to "the last few hours" at any resolution at a cost of seven O(n) passes.
 */
export const linearTrendWindowCandidates: readonly number[] = [3, 6, 12, 24, 48, 96, 192];

/**
 * The least-squares line through the points summed in (count, Σx, Σx², Σy, Σxy), evaluated at x.
 * One point gives a flat line; none gives NaN.
 */
function lineAt(count: number, sx: number, sxx: number, sy: number, sxy: number, x: number): number {
  if (count === 0) return Number.NaN;
  const denominator = count * sxx - sx * sx;
  if (count === 1 || !(denominator > 0)) return sy / count;
  const slope = (count * sxy - sx * sy) / denominator;
  const intercept = (sy - slope * sx) / count;
  return intercept + slope * x;
}

/**
 * The least-squares line through the finite values among the last `windowSteps` points,
 * extrapolated `horizonSteps` past the last one.
 */
export function linearTrendPointForecast(values: SeriesValues, horizonSteps: number, windowSteps: number): number {
  const t = values.length - 1;
  let count = 0;
  let sx = 0;
  let sxx = 0;
  let sy = 0;
  let sxy = 0;
  for (let i = Math.max(0, t - windowSteps + 1); i <= t; i++) {
    const y = values[i]!;
    if (!Number.isFinite(y)) continue;
    const x = i - t;
    count++;
    sx += x;
    sxx += x * x;
    sy += y;
    sxy += x * y;
  }
  return lineAt(count, sx, sxx, sy, sxy, horizonSteps);
}

/**
 * {@link linearTrendPointForecast} for every origin in O(n): the window sums slide by one point per
 * origin. x is counted from a base index that is reset (with the sums recomputed from scratch)
 * every `windowSteps` origins, so |x| stays below the window and rounding cannot accumulate.
 */
export function linearTrendEachOrigin(values: SeriesValues, horizonSteps: number, windowSteps: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  let base = 0;
  let count = 0;
  let sx = 0;
  let sxx = 0;
  let sy = 0;
  let sxy = 0;
  for (let t = 0; t < n; t++) {
    if (t === 0 || t - base >= windowSteps) {
      base = t;
      count = 0;
      sx = 0;
      sxx = 0;
      sy = 0;
      sxy = 0;
      for (let i = Math.max(0, t - windowSteps + 1); i <= t; i++) {
        const y = values[i]!;
        if (!Number.isFinite(y)) continue;
        const x = i - base;
        count++;
        sx += x;
        sxx += x * x;
        sy += y;
        sxy += x * y;
      }
    } else {
      const y = values[t]!;
      if (Number.isFinite(y)) {
        const x = t - base;
        count++;
        sx += x;
        sxx += x * x;
        sy += y;
        sxy += x * y;
      }
      const leaving = t - windowSteps;
      if (leaving >= 0) {
        const old = values[leaving]!;
        if (Number.isFinite(old)) {
          const x = leaving - base;
          count--;
          sx -= x;
          sxx -= x * x;
          sy -= old;
          sxy -= x * old;
        }
      }
    }
    out[t] = lineAt(count, sx, sxx, sy, sxy, t + horizonSteps - base);
  }
  return out;
}

/** Options of {@link createLinearTrendForecaster}. */
export interface LinearTrendOptions {
  /** A fixed trailing window in steps; by default the best of {@link linearTrendWindowCandidates}. */
  readonly windowSteps?: number;
}

/**
 * Linear-trend forecaster: a least-squares line over a trailing window, extrapolated to the
 * horizon (what PHPA's "Linear" model does). The window is fitted by the lowest h-step mean
 * absolute error on the training data.
 */
export function createLinearTrendForecaster(options: LinearTrendOptions = {}): Forecaster {
  const name = 'linear_trend';
  const smallest = linearTrendWindowCandidates[0]!;
  return {
    name,
    fit(train: RegularSeries, spec: ForecastSpec): Result<FittedForecaster, FitFailure> {
      const h = spec.horizonSteps;
      const problem = fitPrecondition(name, train.values, spec, smallest + h, `a ${smallest}-point window plus the horizon`);
      if (problem !== undefined) return err(problem);
      const fixed = options.windowSteps;
      const candidates = fixed !== undefined ? [Math.max(2, Math.round(fixed))] : linearTrendWindowCandidates.filter((w) => w === smallest || 2 * w <= train.values.length);
      let best: { windowSteps: number; error: number; forecasts: Float64Array } = { windowSteps: candidates[0]!, error: Number.POSITIVE_INFINITY, forecasts: new Float64Array(0) };
      for (const windowSteps of candidates) {
        const forecasts = linearTrendEachOrigin(train.values, h, windowSteps);
        // Score from the largest window on, so every candidate is judged on the same origins.
        const error = meanAbsoluteStepError(train.values, forecasts, h, candidates[candidates.length - 1]! - 1);
        if (error < best.error || best.forecasts.length === 0) best = { windowSteps, error, forecasts };
      }
      const windowSteps = best.windowSteps;
      const bands = residualQuantiles(train.values, best.forecasts, h, windowSteps - 1);
      return ok(
        bandedForecaster(
          name,
          spec,
          bands,
          { windowSteps },
          {
            one: (values) => linearTrendPointForecast(values, h, windowSteps),
            each: (values) => linearTrendEachOrigin(values, h, windowSteps),
          },
        ),
      );
    },
  };
}
