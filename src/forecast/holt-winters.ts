import { err, ok } from '../core/index.js';
import type { RegularSeries, Result } from '../core/index.js';
import type { FitFailure, FittedForecaster, ForecastSpec, Forecaster } from './forecaster.js';
import { bandedForecaster, residualQuantiles } from './residual-bands.js';
import { firstFiniteIndex, fitPrecondition } from './spec.js';

/**
 * Smoothing parameters of additive Holt-Winters with a damped trend, in the error-correction form
 * of Hyndman et al. (ETS(A,Ad,A)): with e the one-step error,
 * level += φ·trend + α·e, trend = φ·trend + β·e, season[slot] += γ·e.
 */
export interface HoltWintersParams {
  /** Level smoothing, 0 < α < 1. */
  readonly alpha: number;
  /** Trend smoothing, 0 ≤ β ≤ α. */
  readonly beta: number;
  /** Season smoothing, 0 ≤ γ ≤ 1 − α. */
  readonly gamma: number;
  /** Trend damping, 0 < φ ≤ 1 (1 = an undamped linear trend). */
  readonly phi: number;
}

/** The loss minimised when fitting the parameters on h-step-ahead training errors. */
export type HoltWintersLoss = 'squared' | 'absolute';

/** The initial state, computed once from the first two seasons after the first finite value. */
interface InitialState {
  /** Index of the first finite value: slot 0 of the season. */
  readonly start: number;
  /** The level one step before `start`. */
  readonly level: number;
  /** The trend per step. */
  readonly trend: number;
  /** Seasonal offsets by slot (zero mean). */
  readonly season: Float64Array;
}

/**
 * The first `length` values from `start`, with missing points filled by linear interpolation
 * between their finite neighbours (and the nearest finite value at the edges), so that a gap in
 * the initial seasons does not become a zero seasonal offset. NaN everywhere when none is finite.
 */
function interpolatedWindow(values: Float64Array, start: number, length: number): Float64Array {
  const window = values.slice(start, start + length);
  let previous = -1;
  for (let i = 0; i <= length; i++) {
    if (i < length && !Number.isFinite(window[i]!)) continue;
    // Fill the run of missing points between `previous` and `i`.
    for (let j = previous + 1; j < i; j++) {
      if (previous < 0) window[j] = window[i]!;
      else if (i === length) window[j] = window[previous]!;
      else window[j] = window[previous]! + ((window[i]! - window[previous]!) * (j - previous)) / (i - previous);
    }
    previous = i;
  }
  return window;
}

/**
 * The initial state from the first two seasons after the first finite value: level and trend from
 * the two season means, seasonal offsets from the detrended values averaged per slot (missing
 * points interpolated first). Undefined when those two seasons are not complete yet, so the state
 * never depends on points after an origin.
 */
function initialState(values: Float64Array, seasonSteps: number): InitialState | undefined {
  const m = seasonSteps;
  const start = firstFiniteIndex(values);
  if (start < 0 || values.length < start + 2 * m) return undefined;
  const window = interpolatedWindow(values, start, 2 * m); // values[start] is finite, so all of it is
  let mean1 = 0;
  let mean2 = 0;
  for (let j = 0; j < m; j++) {
    mean1 += window[j]!;
    mean2 += window[m + j]!;
  }
  mean1 /= m;
  mean2 /= m;
  const trend = (mean2 - mean1) / m;
  const center = (m - 1) / 2;
  const season = new Float64Array(m);
  let seasonSum = 0;
  for (let j = 0; j < m; j++) {
    const trendAt = trend * (j - center);
    season[j] = (window[j]! - (mean1 + trendAt) + (window[m + j]! - (mean2 + trendAt))) / 2;
    seasonSum += season[j]!;
  }
  for (let j = 0; j < m; j++) season[j]! -= seasonSum / m;
  return { start, level: mean1 - trend * (center + 1), trend, season };
}

/** φ + φ² + … + φ^h: how much of the current trend the h-step forecast adds. */
function dampedSum(phi: number, horizonSteps: number): number {
  let sum = 0;
  let power = 1;
  for (let i = 0; i < horizonSteps; i++) {
    power *= phi;
    sum += power;
  }
  return sum;
}

/**
 * Runs the filter over `values` from the initial state. When `out` is given, `out[t]` receives the
 * h-step forecast made after observing `values[t]` (NaN during the two initial seasons). Returns
 * the forecast made after the last value. Missing values carry the state forward with its own
 * forecast (level += φ·trend, trend *= φ, season unchanged), so gaps neither reset nor distort it.
 * `season` is scratch space of length m, overwritten.
 */
function runFilter(
  values: Float64Array,
  init: InitialState,
  horizonSteps: number,
  params: HoltWintersParams,
  season: Float64Array,
  out: Float64Array | undefined,
): number {
  const m = season.length;
  const { alpha, beta, gamma, phi } = params;
  const trendGain = dampedSum(phi, horizonSteps);
  const firstOrigin = init.start + 2 * m - 1;
  const horizonSlotShift = horizonSteps % m;
  season.set(init.season);
  let level = init.level;
  let trend = init.trend;
  let slot = 0;
  let forecast = Number.NaN;
  if (out !== undefined) out.fill(Number.NaN, 0, Math.min(out.length, firstOrigin));
  for (let t = init.start; t < values.length; t++) {
    const y = values[t]!;
    const damped = phi * trend;
    if (Number.isFinite(y)) {
      const error = y - (level + damped + season[slot]!);
      level += damped + alpha * error;
      trend = damped + beta * error;
      season[slot]! += gamma * error;
    } else {
      level += damped;
      trend = damped;
    }
    if (t >= firstOrigin) {
      let targetSlot = slot + horizonSlotShift;
      if (targetSlot >= m) targetSlot -= m;
      forecast = level + trendGain * trend + season[targetSlot]!;
      if (out !== undefined) out[t] = forecast;
    }
    slot++;
    if (slot === m) slot = 0;
  }
  return forecast;
}

/** The Holt-Winters h-step forecast from a whole history (NaN before two full seasons). */
export function holtWintersPointForecast(values: Float64Array, horizonSteps: number, seasonSteps: number, params: HoltWintersParams): number {
  const init = initialState(values, seasonSteps);
  if (init === undefined) return Number.NaN;
  return runFilter(values, init, horizonSteps, params, new Float64Array(seasonSteps), undefined);
}

/** Holt-Winters forecasts for every origin in one O(n) pass of the filter. */
export function holtWintersEachOrigin(values: Float64Array, horizonSteps: number, seasonSteps: number, params: HoltWintersParams): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  const init = initialState(values, seasonSteps);
  if (init !== undefined) runFilter(values, init, horizonSteps, params, new Float64Array(seasonSteps), out);
  return out;
}

/**
 * Parameters in the unit box: α, β as a share of α, γ as a share of 1 − α, and φ. The box keeps
 * every candidate inside the usual admissible region (β ≤ α, γ ≤ 1 − α), so the search needs no
 * constraint handling.
 */
type UnitParams = readonly [alpha: number, betaShare: number, gammaShare: number, phi: number];

const lowerBounds: UnitParams = [0.01, 0, 0, 0.8];
const upperBounds: UnitParams = [0.99, 0.5, 0.99, 1];

function fromUnit(u: UnitParams): HoltWintersParams {
  return { alpha: u[0], beta: u[0] * u[1], gamma: (1 - u[0]) * u[2], phi: u[3] };
}

/**
 * The coarse grid: from slow to fast level updates, no to moderate trend updates, static to fast
 * seasons, strong or light damping. 144 passes of O(n).
 */
const grid = {
  alpha: [0.05, 0.2, 0.4, 0.6, 0.8, 0.95],
  betaShare: [0, 0.05, 0.2],
  gammaShare: [0, 0.05, 0.2, 0.5],
  phi: [0.9, 0.98],
} as const;

/** First steps of the local refinement, per coordinate; halved three times. */
const refineSteps: UnitParams = [0.1, 0.05, 0.1, 0.04];

/** Used when the training data has no scorable origin (cannot happen past the minimum length). */
const defaultUnit: UnitParams = [0.2, 0.05, 0.2, 0.98];

/** Options of {@link createHoltWintersForecaster}. */
export interface HoltWintersOptions {
  /** Fixed parameters instead of fitted ones. */
  readonly params?: HoltWintersParams;
  /** The h-step training loss minimised by the fit (default squared, the classical choice). */
  readonly loss?: HoltWintersLoss;
}

/**
 * Additive Holt-Winters with a damped trend and a daily season. α, β, γ and φ are fitted on the
 * training data by minimising the h-step-ahead loss: a coarse grid, then a coordinate pattern
 * search around the best grid point. Needs two seasons of history (for the initial state) plus
 * the horizon.
 */
export function createHoltWintersForecaster(options: HoltWintersOptions = {}): Forecaster {
  const name = 'holt_winters';
  const loss = options.loss ?? 'squared';
  return {
    name,
    fit(train: RegularSeries, spec: ForecastSpec): Result<FittedForecaster, FitFailure> {
      const { horizonSteps: h, seasonSteps: m } = spec;
      const values = train.values;
      const start = Math.max(0, firstFiniteIndex(values));
      const problem = fitPrecondition(name, values.subarray(start), spec, 2 * m + h + 1, 'two seasons of history plus the horizon');
      if (problem !== undefined) return err(problem);
      const init = initialState(values, m)!;
      const season = new Float64Array(m);
      const out = new Float64Array(values.length);
      const objective = (u: UnitParams): number => {
        runFilter(values, init, h, fromUnit(u), season, out);
        return lossOf(values, out, h, init.start + 2 * m - 1, loss);
      };
      const params = options.params ?? fromUnit(searchParams(objective));
      const forecasts = holtWintersEachOrigin(values, h, m, params);
      const bands = residualQuantiles(values, forecasts, h);
      return ok(
        bandedForecaster(name, spec, bands, { ...params }, {
          one: (history) => holtWintersPointForecast(history, h, m, params),
          each: (history) => holtWintersEachOrigin(history, h, m, params),
        }),
      );
    },
  };
}

/** Mean loss of `forecasts[t]` against `values[t + h]` over origins from `fromOrigin` (∞ if none). */
function lossOf(values: Float64Array, forecasts: Float64Array, horizonSteps: number, fromOrigin: number, loss: HoltWintersLoss): number {
  let sum = 0;
  let count = 0;
  for (let t = fromOrigin; t + horizonSteps < values.length; t++) {
    const error = values[t + horizonSteps]! - forecasts[t]!;
    if (Number.isFinite(error)) {
      sum += loss === 'squared' ? error * error : Math.abs(error);
      count++;
    }
  }
  // A diverging candidate (non-finite forecasts everywhere) must never win.
  return count === 0 || !Number.isFinite(sum) ? Number.POSITIVE_INFINITY : sum / count;
}

/** Grid search, then coordinate pattern search from the best grid point. Deterministic. */
function searchParams(objective: (u: UnitParams) => number): UnitParams {
  let best: UnitParams = defaultUnit;
  let bestLoss = Number.POSITIVE_INFINITY;
  for (const alpha of grid.alpha) {
    for (const betaShare of grid.betaShare) {
      for (const gammaShare of grid.gammaShare) {
        for (const phi of grid.phi) {
          const candidate: UnitParams = [alpha, betaShare, gammaShare, phi];
          const value = objective(candidate);
          if (value < bestLoss) {
            best = candidate;
            bestLoss = value;
          }
        }
      }
    }
  }
  if (!Number.isFinite(bestLoss)) return defaultUnit;
  const steps = [...refineSteps];
  for (let round = 0; round < 4; round++) {
    let improved = true;
    // Sweep the coordinates until no single move helps, then halve the steps.
    for (let sweep = 0; improved && sweep < 4; sweep++) {
      improved = false;
      for (let c = 0; c < 4; c++) {
        for (const direction of [1, -1]) {
          const moved = [...best] as [number, number, number, number];
          moved[c] = Math.min(upperBounds[c]!, Math.max(lowerBounds[c]!, moved[c]! + direction * steps[c]!));
          if (moved[c] === best[c]) continue;
          const value = objective(moved);
          if (value < bestLoss) {
            best = moved;
            bestLoss = value;
            improved = true;
            break;
          }
        }
      }
    }
    for (let c = 0; c < 4; c++) steps[c]! /= 2;
  }
  return best;
}
