import type { FeatureName, RegularSeries, SeriesValues } from '../../core/index.js';
import { calendarPosition, cyclic } from './calendar.js';

export { type FeatureName, featureNames, isFeatureName } from '../../core/index.js';

/**
 * The design's default LSTM input: 8 features per step. The level and its change, the time of day
 * and week (cyclic), and the value a day ago and its weekly average, which give a 60-step window
 * the daily and weekly context it cannot see itself (reference §2.6).
 */
export const defaultFeatureNames: readonly FeatureName[] = Object.freeze(['value', 'growth', 'hour_sin', 'hour_cos', 'dow_sin', 'dow_cos', 'value_24h_ago', 'value_7d_avg']);

/** Covariate series a feature may read besides the forecast series. */
export type CovariateName =
  | 'cpu_percent'
  | 'memory_percent'
  | 'disk_io_bytes_per_second'
  | 'network_io_bytes_per_second'
  | 'load1'
  | 'load5'
  | 'load15'
  | 'wait_avg_seconds'
  | 'dequeue_rate_per_second'
  | 'enqueue_rate_per_second'
  | 'failed_messages';

/**
 * What features are computed from: the forecast series, and covariates on the same grid (same
 * start and step; a covariate of another length is read where it overlaps).
 */
export interface FeatureInputs {
  readonly target: RegularSeries;
  readonly covariates?: Readonly<Partial<Record<CovariateName, RegularSeries>>>;
}

const secondsPerHour = 3600;
const secondsPerDay = 86_400;

/** Values carried forward over gaps (NaN before the first finite value). */
export function carryForward(values: SeriesValues): Float64Array {
  const out = new Float64Array(values.length);
  let last = Number.NaN;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (Number.isFinite(value)) last = value;
    out[i] = last;
  }
  return out;
}

/** A covariate aligned to the target grid and carried forward; NaN columns when absent. */
function covariate(inputs: FeatureInputs, name: CovariateName, length: number): Float64Array {
  const series = inputs.covariates?.[name];
  const out = new Float64Array(length).fill(Number.NaN);
  if (series === undefined || series.stepSeconds !== inputs.target.stepSeconds) return out;
  const offset = Math.round((series.startMs - inputs.target.startMs) / (series.stepSeconds * 1000));
  for (let i = 0; i < series.values.length; i++) {
    const target = i + offset;
    if (target >= 0 && target < length) out[target] = series.values[i]!;
  }
  return carryForward(out);
}

/** Trailing mean over `window` steps ending at each index, of the finite values (NaN when none). */
export function trailingMean(values: SeriesValues, window: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const entering = values[i]!;
    if (Number.isFinite(entering)) {
      sum += entering;
      count++;
    }
    const leaving = i - window;
    if (leaving >= 0 && Number.isFinite(values[leaving]!)) {
      sum -= values[leaving]!;
      count--;
    }
    out[i] = count > 0 ? sum / count : Number.NaN;
  }
  return out;
}

/** `values` shifted `lag` steps later: element i is values[i − lag] (NaN before the start). */
export function lagged(values: SeriesValues, lag: number): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  for (let i = Math.max(0, lag); i < values.length; i++) out[i] = values[i - lag]!;
  return out;
}

/**
 * 1 where the mean of the same time slot over the previous 7 days is above the mean of the last
 * 7 days (the slot is a busy time of day), 0 where it is not, NaN before a day of history.
 */
function peakTime(level: Float64Array, seasonSteps: number): Float64Array {
  const n = level.length;
  const weekMean = trailingMean(level, 7 * seasonSteps);
  const out = new Float64Array(n).fill(Number.NaN);
  for (let i = seasonSteps; i < n; i++) {
    let sum = 0;
    let count = 0;
    for (let k = 1; k <= 7; k++) {
      const value = i - k * seasonSteps >= 0 ? level[i - k * seasonSteps]! : Number.NaN;
      if (Number.isFinite(value)) {
        sum += value;
        count++;
      }
    }
    if (count > 0 && Number.isFinite(weekMean[i]!)) out[i] = sum / count > weekMean[i]! ? 1 : 0;
  }
  return out;
}

/**
 * The named feature columns over the target's grid. Column values at index i depend on inputs at
 * indices ≤ i only. Missing inputs give NaN (normalisation maps NaN to 0, the training mean).
 */
export function buildFeatureColumns(inputs: FeatureInputs, names: readonly FeatureName[]): Float64Array[] {
  const { target } = inputs;
  const n = target.values.length;
  const stepSeconds = target.stepSeconds;
  const hourSteps = Math.max(1, Math.round(secondsPerHour / stepSeconds));
  const daySteps = Math.max(1, Math.round(secondsPerDay / stepSeconds));
  const level = carryForward(target.values);
  const memo = new Map<string, Float64Array>();
  const once = (key: string, make: () => Float64Array): Float64Array => {
    let column = memo.get(key);
    if (column === undefined) {
      column = make();
      memo.set(key, column);
    }
    return column;
  };
  const calendar = () =>
    once('calendar', () => {
      // Nine calendar values per step, interleaved: hour, weekday, day of month and month as sin/cos pairs, then business hours.
      const out = new Float64Array(n * 9);
      for (let i = 0; i < n; i++) {
        const position = calendarPosition(target.startMs + i * stepSeconds * 1000);
        const pairs = [cyclic(position.dayFraction), cyclic(position.weekFraction), cyclic(position.monthFraction), cyclic(position.yearFraction)];
        for (let p = 0; p < 4; p++) {
          out[i * 9 + 2 * p] = pairs[p]![0];
          out[i * 9 + 2 * p + 1] = pairs[p]![1];
        }
        out[i * 9 + 8] = position.businessHours;
      }
      return out;
    });
  const calendarColumn = (offset: number) => {
    const all = calendar();
    return Float64Array.from({ length: n }, (_, i) => all[i * 9 + offset]!);
  };
  const processingRate = () => once('processing_rate', () => covariate(inputs, 'dequeue_rate_per_second', n));
  const column = (name: FeatureName): Float64Array => {
    switch (name) {
      case 'value':
        return level;
      case 'growth':
        return Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : level[i]! - level[i - 1]!));
      case 'cpu_percent':
      case 'memory_percent':
      case 'load1':
      case 'load5':
      case 'load15':
      case 'wait_avg_seconds':
      case 'failed_messages':
        return covariate(inputs, name, n);
      case 'disk_io':
        return covariate(inputs, 'disk_io_bytes_per_second', n);
      case 'network_io':
        return covariate(inputs, 'network_io_bytes_per_second', n);
      case 'processing_rate':
        return processingRate();
      case 'enqueue_rate':
        return covariate(inputs, 'enqueue_rate_per_second', n);
      case 'hour_sin':
        return calendarColumn(0);
      case 'hour_cos':
        return calendarColumn(1);
      case 'dow_sin':
        return calendarColumn(2);
      case 'dow_cos':
        return calendarColumn(3);
      case 'dom_sin':
        return calendarColumn(4);
      case 'dom_cos':
        return calendarColumn(5);
      case 'month_sin':
        return calendarColumn(6);
      case 'month_cos':
        return calendarColumn(7);
      case 'business_hours':
        return calendarColumn(8);
      case 'peak_time':
        return peakTime(level, daySteps);
      case 'value_1h_ago':
        return lagged(level, hourSteps);
      case 'value_24h_ago':
        return lagged(level, daySteps);
      case 'value_7d_avg':
        return trailingMean(level, 7 * daySteps);
      case 'processing_rate_1h_avg':
        return trailingMean(processingRate(), hourSteps);
      case 'processing_rate_24h_ago':
        return lagged(processingRate(), daySteps);
    }
  };
  return names.map(column);
}
