import type { SeriesValues } from '../../core/index.js';
import { calendarPosition, cyclic } from './calendar.js';

/**
 * Direct h-step features of one series at one origin, for the learned regression models (the
 * Random Forest and the LAD regression). Every feature at origin t is computed from `values[0..t]`
 * only, and is expressed relative to the level at t (the last finite value), so that a model fitted
 * at one level carries over to another: the target is the change y(t+h) − level(t).
 *
 * The set is deliberately small and generic: short moving averages and a robust median (where is
 * the series heading, what is noise), the seasonal profile (what happened over the same h steps
 * one and up to seven seasons ago), the last changes (momentum), and the calendar of the target
 * time.
 */
export const lagFeatureNames = [
  'mean_3_minus_level',
  'mean_6_minus_level',
  'mean_12_minus_level',
  'mean_24_minus_level',
  'mean_72_minus_level',
  'median_5_minus_level',
  'season_target_minus_level',
  'season_change',
  'season_change_avg7',
  'week_target_minus_level',
  'change_1',
  'change_h',
  'target_hour_sin',
  'target_hour_cos',
  'target_dow_sin',
  'target_dow_cos',
] as const;

/** The name of one lag feature. */
export type LagFeatureName = (typeof lagFeatureNames)[number];

/** Number of lag features (the width of a feature row). */
export const lagFeatureCount = lagFeatureNames.length;

/** Trailing windows of the moving-average features, in steps (the order of the first features). */
const meanWindows = [3, 6, 12, 24, 72] as const;
/** Points in the robust-level window. */
const medianWindow = 5;
/** Past seasons averaged for `season_change_avg7`. */
const seasonsAveraged = 7;

/** What the features of a series are computed for: its grid and the forecast it feeds. */
export interface LagFeatureGrid {
  /** Time of index 0, unix milliseconds. */
  readonly startMs: number;
  readonly stepSeconds: number;
  readonly horizonSteps: number;
  readonly seasonSteps: number;
}

/** The level at t: the last finite value at or before t (NaN before the first one). */
export function levelAt(values: SeriesValues, t: number): number {
  for (let i = Math.min(t, values.length - 1); i >= 0; i--) {
    const value = values[i]!;
    if (Number.isFinite(value)) return value;
  }
  return Number.NaN;
}

/** The value at i, NaN outside the series. */
function at(values: SeriesValues, i: number): number {
  return i >= 0 && i < values.length ? values[i]! : Number.NaN;
}

/** x when finite, else 0: a missing feature means "no information", which is no change from the level. */
function orZero(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

/**
 * Writes the feature row of origin t into `out` (length {@link lagFeatureCount}) and returns the
 * level it is relative to (NaN when nothing finite has been seen yet; the row is then undefined).
 * Reads `values[0..t]` only. O(1) in the series length (about 130 reads), so a single forecast and a
 * pass over every origin compute exactly the same numbers.
 */
export function lagFeatureRow(values: SeriesValues, t: number, grid: LagFeatureGrid, out: Float64Array): number {
  const level = levelAt(values, t);
  if (!Number.isFinite(level)) return level;
  const { horizonSteps: h, seasonSteps: m } = grid;
  let j = 0;
  for (const window of meanWindows) {
    let sum = 0;
    let count = 0;
    for (let i = Math.max(0, t - window + 1); i <= t; i++) {
      const value = values[i]!;
      if (Number.isFinite(value)) {
        sum += value;
        count++;
      }
    }
    out[j++] = count > 0 ? sum / count - level : 0;
  }
  out[j++] = recentMedian(values, t) - level;
  // Whole seasons back, so that the seasonal target t + h − back is never after t.
  const back = Math.max(1, Math.ceil(h / m)) * m;
  out[j++] = orZero(at(values, t + h - back) - level);
  out[j++] = orZero(at(values, t + h - back) - at(values, t - back));
  let changeSum = 0;
  let changeCount = 0;
  for (let k = 1; k <= seasonsAveraged; k++) {
    const change = at(values, t + h - k * back) - at(values, t - k * back);
    if (Number.isFinite(change)) {
      changeSum += change;
      changeCount++;
    }
  }
  out[j++] = changeCount > 0 ? changeSum / changeCount : 0;
  out[j++] = orZero(at(values, t + h - 7 * back) - level);
  out[j++] = orZero(level - at(values, t - 1));
  out[j++] = orZero(level - at(values, t - h));
  const calendar = calendarPosition(grid.startMs + (t + h) * grid.stepSeconds * 1000);
  const [hourSin, hourCos] = cyclic(calendar.dayFraction);
  const [dowSin, dowCos] = cyclic(calendar.weekFraction);
  out[j++] = hourSin;
  out[j++] = hourCos;
  out[j++] = dowSin;
  out[j++] = dowCos;
  return level;
}

/** Median of the finite values among the last {@link medianWindow} points (the level when none). */
function recentMedian(values: SeriesValues, t: number): number {
  const window: number[] = [];
  for (let i = t; i >= 0 && i > t - medianWindow; i--) {
    const value = values[i]!;
    if (Number.isFinite(value)) window.push(value);
  }
  if (window.length === 0) return levelAt(values, t);
  window.sort((a, b) => a - b);
  const middle = window.length >> 1;
  return window.length % 2 === 1 ? window[middle]! : (window[middle - 1]! + window[middle]!) / 2;
}

/** Feature rows of every origin of a series, and the level of each (NaN before the first finite value). */
export interface LagFeatureMatrix {
  /** Row-major: row t is `rows.subarray(t * lagFeatureCount, (t + 1) * lagFeatureCount)`. */
  readonly rows: Float64Array;
  readonly levels: Float64Array;
}

/** {@link lagFeatureRow} for every origin of `values`. */
export function lagFeatureMatrix(values: SeriesValues, grid: LagFeatureGrid): LagFeatureMatrix {
  const n = values.length;
  const rows = new Float64Array(n * lagFeatureCount);
  const levels = new Float64Array(n);
  for (let t = 0; t < n; t++) levels[t] = lagFeatureRow(values, t, grid, rows.subarray(t * lagFeatureCount, (t + 1) * lagFeatureCount));
  return { rows, levels };
}

/**
 * The training origins of a direct h-step model: origins t ≤ `lastOrigin` whose level and target
 * `values[t + h]` are both finite (so the target never lies after `lastOrigin + h`).
 */
export function lagTrainingOrigins(values: SeriesValues, levels: Float64Array, horizonSteps: number, lastOrigin: number): Int32Array {
  const out: number[] = [];
  for (let t = 0; t <= lastOrigin && t + horizonSteps < values.length; t++) {
    if (Number.isFinite(levels[t]!) && Number.isFinite(values[t + horizonSteps]!)) out.push(t);
  }
  return Int32Array.from(out);
}
