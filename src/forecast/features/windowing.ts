import type { SeriesValues } from '../../core/index.js';

/**
 * Sliding windows for sequence models: the `lookbackSteps` feature rows ending at an origin t, and
 * the target y(t + h) − level(t) scaled by the model's target scale. Pure and independent of
 * TensorFlow.js, so it is tested on its own.
 */

/**
 * Origins usable for training or scoring: t ≥ lookbackSteps − 1 (a full window), t ≤ lastOrigin,
 * a finite level at t, and (when `requireTarget`) a finite target values[t + h] inside the series.
 */
export function windowOrigins(values: SeriesValues, levels: Float64Array, lookbackSteps: number, horizonSteps: number, lastOrigin: number, requireTarget = true): Int32Array {
  const out: number[] = [];
  const last = Math.min(lastOrigin, values.length - 1);
  for (let t = Math.max(0, lookbackSteps - 1); t <= last; t++) {
    if (!Number.isFinite(levels[t]!)) continue;
    if (requireTarget && !(t + horizonSteps < values.length && Number.isFinite(values[t + horizonSteps]!))) continue;
    out.push(t);
  }
  return Int32Array.from(out);
}

/**
 * The windows of `origins` as one row-major block [origin][step][feature]: window k holds the
 * normalised feature rows t − lookbackSteps + 1 .. t of origin t = origins[k]. Every origin must
 * have a full window (t ≥ lookbackSteps − 1).
 */
export function buildWindows(columns: readonly Float32Array[], origins: Int32Array, lookbackSteps: number): Float32Array {
  const featureCount = columns.length;
  const out = new Float32Array(origins.length * lookbackSteps * featureCount);
  let o = 0;
  for (const t of origins) {
    const first = t - lookbackSteps + 1;
    if (first < 0) throw new RangeError(`origin ${t} has no full ${lookbackSteps}-step window`);
    for (let step = 0; step < lookbackSteps; step++) {
      for (let f = 0; f < featureCount; f++) out[o++] = columns[f]![first + step]!;
    }
  }
  return out;
}

/** Scaled targets (values[t + h] − levels[t]) / targetScale of each origin (NaN where missing). */
export function windowTargets(values: SeriesValues, levels: Float64Array, origins: Int32Array, horizonSteps: number, targetScale: number): Float32Array {
  const out = new Float32Array(origins.length);
  for (let k = 0; k < origins.length; k++) {
    const t = origins[k]!;
    out[k] = (values[t + horizonSteps]! - levels[t]!) / targetScale;
  }
  return out;
}

/**
 * The scale of the target changes: the standard deviation of y(t + h) − level(t) over `origins`
 * (1 when it is 0 or undefined), so that the network's output is of order 1 whatever the units.
 */
export function targetScaleOf(values: SeriesValues, levels: Float64Array, origins: Int32Array, horizonSteps: number): number {
  let sum = 0;
  let sumSquares = 0;
  let count = 0;
  for (const t of origins) {
    const change = values[t + horizonSteps]! - levels[t]!;
    if (!Number.isFinite(change)) continue;
    sum += change;
    sumSquares += change * change;
    count++;
  }
  if (count < 2) return 1;
  const mean = sum / count;
  const std = Math.sqrt(Math.max(0, sumSquares / count - mean * mean));
  return std > 0 ? std : 1;
}
