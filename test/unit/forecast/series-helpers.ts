import type { RegularSeries, SeriesValues } from '../../../src/core/index.js';

/** A 5-minute grid: 288 steps per daily season. */
export const stepSeconds = 300;
export const seasonSteps = 288;

/** A regular series at {@link stepSeconds} from the values produced by `f(i)`. */
export function seriesOf(length: number, f: (i: number) => number, step = stepSeconds): RegularSeries {
  const values = new Float64Array(length);
  for (let i = 0; i < length; i++) values[i] = f(i);
  return { startMs: 1_700_000_000_000, stepSeconds: step, values };
}

/** A deterministic pseudo-random source (a 32-bit LCG): tests never use Math.random. */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Standard normal draws from {@link lcg} by Box-Muller. */
export function normals(seed: number): () => number {
  const uniform = lcg(seed);
  return () => {
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** 100 + 50·sin over a daily period. */
export function dailySine(i: number, period = seasonSteps): number {
  return 100 + 50 * Math.sin((2 * Math.PI * i) / period);
}

/** Mean |actual[t + h] − forecast[t]| over origins from `from` with both finite, and how many. */
export function horizonMae(values: SeriesValues, forecast: Float64Array, horizonSteps: number, from: number): { mae: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let t = from; t + horizonSteps < values.length; t++) {
    const error = values[t + horizonSteps]! - forecast[t]!;
    if (Number.isFinite(error)) {
      sum += Math.abs(error);
      count++;
    }
  }
  return { mae: count === 0 ? Number.NaN : sum / count, count };
}
