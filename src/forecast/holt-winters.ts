import { err, ok } from '../core/index.js';
import type { RegularSeries, Result, SeriesValues } from '../core/index.js';
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
  /** Index of the first finite value. */
  readonly start: number;
  /** The level one step before `start`. */
  readonly level: number;
  /** The trend per step. */
  readonly trend: number;
  /** Seasonal offsets by slot of the clock (zero mean): slot k is the k-th step of the season. */
  readonly season: Float64Array;
  /** The slot of index 0 of the series (see {@link seasonPhase}). */
  readonly phase: number;
}

/**
 * The slot of the season (0..m−1) that index 0 of a series falls on, counted from the Unix epoch:
 * the season is tied to the clock (the time of day for a daily season), not to where a history
 * buffer happens to start. A service refits and forecasts on a buffer that slides with the clock;
 * with slots counted from the buffer's start, "now" was always the same slot of the model's season.
 */
export function seasonPhase(startMs: number, stepSeconds: number, seasonSteps: number): number {
  if (!(stepSeconds > 0) || !Number.isFinite(startMs)) return 0;
  const index = Math.round(startMs / (stepSeconds * 1000));
  return ((index % seasonSteps) + seasonSteps) % seasonSteps;
}

/**
 * The first `length` values from `start`, with missing points filled by linear interpolation
 * between their finite neighbours (and the nearest finite value at the edges), so that a gap in
 * the initial seasons does not become a zero seasonal offset. NaN everywhere when none is finite.
 */
function interpolatedWindow(values: SeriesValues, start: number, length: number): Float64Array {
  const window = Float64Array.from(values.subarray(start, start + length));
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
 * The initial state from the first two seasons after the first finite value (missing points
 * interpolated first). It is robust, because two days are little to learn a season from and one
 * burst in them must not become part of every later day:
 *
 * - level and trend come from the medians of the two seasons;
 * - the seasonal offsets are the deviations from a centred moving median over one season, per
 *   slot of the clock the part both seasons agree on (the smaller of the two when they have the
 *   same sign, else 0), centred to zero mean.
 *
 * A moving median follows a trend and a change of level without a jump at the seam of the window;
 * a daily peak is in both seasons and is kept, a burst in one of them is not.
 * (Detrending both seasons with one straight line, as before, turned a busy first day
 * followed by a quiet one into a saw-tooth whose jump of (m − 1) × trend fell on the slot where
 * the window starts: for a service whose buffer starts exactly whole days before now, the slot
 * of every forecast it published, where the trend term then multiplied it; see
 * docs/forecasting.md "The ghost forecast".) Undefined when those two seasons are not complete
 * yet, so the state never depends on points after an origin.
 */
function initialState(values: SeriesValues, seasonSteps: number, phase: number): InitialState | undefined {
  const m = seasonSteps;
  const start = firstFiniteIndex(values);
  if (start < 0 || values.length < start + 2 * m) return undefined;
  const window = interpolatedWindow(values, start, 2 * m); // values[start] is finite, so all of it is
  const median1 = medianOf(window.slice(0, m));
  const median2 = medianOf(window.slice(m, 2 * m));
  const trend = (median2 - median1) / m;
  const center = (m - 1) / 2;
  const season = new Float64Array(m);
  if (m > 1) {
    // Deviations from the local median at every point of both seasons (the moving median is
    // defined on [⌊m/2⌋, ⌊m/2⌋ + m); the edges take its first and last value). A slot keeps what
    // both seasons agree on: the smaller deviation when they have the same sign, else 0.
    const local = centredMovingMedian(window, m);
    const from = Math.floor(m / 2);
    const deviation = (t: number) => window[t]! - local[Math.max(0, Math.min(m - 1, t - from))]!;
    for (let t = 0; t < m; t++) season[(phase + start + t) % m] = agreed(deviation(t), deviation(t + m));
    let seasonSum = 0;
    for (let j = 0; j < m; j++) seasonSum += season[j]!;
    for (let j = 0; j < m; j++) season[j]! -= seasonSum / m;
  }
  return { start, level: median1 - trend * (center + 1), trend, season, phase };
}

/** What two deviations agree on: the smaller in magnitude when they have the same sign, else 0. */
function agreed(a: number, b: number): number {
  if (a > 0 && b > 0) return Math.min(a, b);
  if (a < 0 && b < 0) return Math.max(a, b);
  return 0;
}

/** The median of `values` (which it sorts in place). */
function medianOf(values: Float64Array): number {
  values.sort();
  const n = values.length;
  if (n === 0) return Number.NaN;
  const middle = n >> 1;
  return n % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
}

/**
 * The moving median of m points of `window` (length 2m) at t = ⌊m/2⌋ .. ⌊m/2⌋ + m − 1: element k
 * is the median of window[t − ⌊m/2⌋ .. t − ⌊m/2⌋ + m − 1] for t = ⌊m/2⌋ + k (centred on t for
 * odd m, half a step early for even m). A sorted copy of the window slides along: O(m) per step.
 */
function centredMovingMedian(window: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m);
  const sorted = window.slice(0, m).sort();
  const middle = m >> 1;
  for (let k = 0; k < m; k++) {
    out[k] = m % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
    if (k + 1 === m) break;
    // Slide: window[k] leaves, window[k + m] enters.
    const leaving = lowerBound(sorted, window[k]!);
    const entering = window[k + m]!;
    const at = lowerBound(sorted, entering);
    if (at <= leaving) {
      sorted.copyWithin(at + 1, at, leaving);
      sorted[at] = entering;
    } else {
      sorted.copyWithin(leaving, leaving + 1, at);
      sorted[at - 1] = entering;
    }
  }
  return out;
}

/** The first index of a sorted array whose element is ≥ `value`. */
function lowerBound(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
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

/** The filter's state before a value: the level and trend, the seasonal offsets, and the value's slot. */
interface FilterState {
  level: number;
  trend: number;
  readonly season: Float64Array;
  slot: number;
}

/**
 * Runs the filter over `values` from the initial state. When `out` is given, `out[t]` receives the
 * h-step forecast made after observing `values[t]` (NaN during the two initial seasons). Returns
 * the forecast made after the last value, and the state after it. Missing values carry the state
 * forward with its own forecast (level += φ·trend, trend *= φ, season unchanged), so gaps neither
 * reset nor distort it. `season` is scratch space of length m, overwritten.
 */
function runFilter(
  values: SeriesValues,
  init: InitialState,
  horizonSteps: number,
  params: HoltWintersParams,
  season: Float64Array,
  out: Float64Array | undefined,
): { readonly forecast: number; readonly state: FilterState } {
  const m = season.length;
  const firstOrigin = init.start + 2 * m - 1;
  season.set(init.season);
  const state: FilterState = { level: init.level, trend: init.trend, season, slot: (init.phase + init.start) % m };
  if (out !== undefined) out.fill(Number.NaN, 0, Math.min(out.length, firstOrigin));
  return { forecast: advance(values, init.start, firstOrigin, state, horizonSteps, params, out), state };
}

/**
 * The filter's loop: observes `values[from..]` from `state` (the state before `values[from]`, updated
 * in place) and returns the forecast made after the last value (NaN when no origin is at or after
 * `firstOrigin`).
 */
function advance(values: SeriesValues, from: number, firstOrigin: number, state: FilterState, horizonSteps: number, params: HoltWintersParams, out: Float64Array | undefined): number {
  const { season } = state;
  const m = season.length;
  const { alpha, beta, gamma, phi } = params;
  const trendGain = dampedSum(phi, horizonSteps);
  const horizonSlotShift = horizonSteps % m;
  let { level, trend, slot } = state;
  let forecast = Number.NaN;
  for (let t = from; t < values.length; t++) {
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
  state.level = level;
  state.trend = trend;
  state.slot = slot;
  return forecast;
}

/**
 * Where the filter stood at the end of the training data: its timestamp, the last values (to check
 * that a later history is the same series), the state after them and the forecast made there.
 */
interface Anchor {
  readonly timestampMs: number;
  readonly tail: Float64Array;
  readonly state: Readonly<FilterState>;
  readonly forecast: number;
}

/** Training points compared with a later history before the filter carries on from the anchor. */
const anchorTailLength = 3;

/**
 * The forecast from a history that contains the anchor: the filter carried on from the state it
 * had at the end of the training data over the points since, instead of run again from the
 * history's start. A service forecasts every cycle from a window that slides by one step, so a
 * fresh pass would also recompute the initial state (a moving median over two seasons, most of the
 * cost); this costs the new points only. It is the forecast the filter run over the training data
 * and the new points makes, as the backtest's single pass does. Undefined when the history does
 * not hold the anchor, or holds other values there (another series, or data rewritten since).
 */
function forecastFromAnchor(anchor: Anchor, history: RegularSeries, horizonSteps: number, params: HoltWintersParams): number | undefined {
  const stepMs = history.stepSeconds * 1000;
  const offsetMs = anchor.timestampMs - history.startMs;
  if (offsetMs % stepMs !== 0) return undefined;
  const index = offsetMs / stepMs;
  const values = history.values;
  if (index < anchorTailLength - 1 || index >= values.length) return undefined;
  for (let i = 0; i < anchorTailLength; i++) if (!Object.is(values[index - anchorTailLength + 1 + i], anchor.tail[i])) return undefined;
  if (index === values.length - 1) return anchor.forecast;
  const state: FilterState = { ...anchor.state, season: Float64Array.from(anchor.state.season) };
  return advance(values, index + 1, index + 1, state, horizonSteps, params, undefined);
}

/**
 * The Holt-Winters h-step forecast from a whole history (NaN before two full seasons). `phase` is
 * the season slot of index 0 ({@link seasonPhase}; 0 counts slots from the first point).
 */
export function holtWintersPointForecast(values: SeriesValues, horizonSteps: number, seasonSteps: number, params: HoltWintersParams, phase = 0): number {
  const init = initialState(values, seasonSteps, phase);
  if (init === undefined) return Number.NaN;
  return runFilter(values, init, horizonSteps, params, new Float64Array(seasonSteps), undefined).forecast;
}

/** Holt-Winters forecasts for every origin in one O(n) pass of the filter. */
export function holtWintersEachOrigin(values: SeriesValues, horizonSteps: number, seasonSteps: number, params: HoltWintersParams, phase = 0): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  const init = initialState(values, seasonSteps, phase);
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
      const phaseOf = (series: RegularSeries) => seasonPhase(series.startMs, spec.stepSeconds, m);
      const init = initialState(values, m, phaseOf(train))!;
      const season = new Float64Array(m);
      const out = new Float64Array(values.length);
      const objective = (u: UnitParams): number => {
        runFilter(values, init, h, fromUnit(u), season, out);
        return lossOf(values, out, h, init.start + 2 * m - 1, loss);
      };
      const params = options.params ?? fromUnit(searchParams(objective));
      const forecasts = new Float64Array(values.length);
      const end = runFilter(values, init, h, params, new Float64Array(m), forecasts);
      const bands = residualQuantiles(values, forecasts, h);
      const last = values.length - 1;
      const anchor: Anchor = {
        timestampMs: train.startMs + last * spec.stepSeconds * 1000,
        tail: Float64Array.from(values.subarray(last - anchorTailLength + 1)),
        state: end.state,
        forecast: end.forecast,
      };
      return ok(
        bandedForecaster(
          name,
          spec,
          bands,
          { ...params },
          {
            one: (history, series) => forecastFromAnchor(anchor, series, h, params) ?? holtWintersPointForecast(history, h, m, params, phaseOf(series)),
            each: (history, series) => holtWintersEachOrigin(history, h, m, params, phaseOf(series)),
          },
        ),
      );
    },
  };
}

/** Mean loss of `forecasts[t]` against `values[t + h]` over origins from `fromOrigin` (∞ if none). */
function lossOf(values: SeriesValues, forecasts: Float64Array, horizonSteps: number, fromOrigin: number, loss: HoltWintersLoss): number {
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
