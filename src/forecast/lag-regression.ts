import { ok } from '../core/index.js';
import type { RegularSeries, Result } from '../core/index.js';
import { directForecaster, directResidualBands, directTrainingSetFor } from './direct-model.js';
import { lagFeatureCount, lagFeatureNames } from './features/index.js';
import type { FitFailure, FittedForecaster, ForecastSpec, Forecaster } from './forecaster.js';

/** Options of {@link createLagRegressionForecaster}. */
export interface LagRegressionOptions {
  /** Most training rows (origins are thinned by an even stride above it). Default 20,000. */
  readonly maxRows?: number;
  /** Ridge penalty on the standardised coefficients, relative to the total weight. Default 1e-4. */
  readonly ridge?: number;
  /** Reweighting rounds of the least-absolute-deviations fit. Default 15. */
  readonly iterations?: number;
}

/** Solves the symmetric system A·x = b (size p) by Gaussian elimination with partial pivoting; 0 for singular directions. */
function solve(a: Float64Array, b: Float64Array, p: number): Float64Array {
  const m = new Float64Array(p * (p + 1));
  for (let r = 0; r < p; r++) {
    for (let c = 0; c < p; c++) m[r * (p + 1) + c] = a[r * p + c]!;
    m[r * (p + 1) + p] = b[r]!;
  }
  const w = p + 1;
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(m[r * w + c]!) > Math.abs(m[pivot * w + c]!)) pivot = r;
    if (pivot !== c) {
      for (let k = 0; k < w; k++) {
        const tmp = m[c * w + k]!;
        m[c * w + k] = m[pivot * w + k]!;
        m[pivot * w + k] = tmp;
      }
    }
    const d = m[c * w + c]!;
    if (Math.abs(d) < 1e-12) continue;
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const factor = m[r * w + c]! / d;
      if (factor === 0) continue;
      for (let k = c; k < w; k++) m[r * w + k]! -= factor * m[c * w + k]!;
    }
  }
  const x = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    const d = m[i * w + i]!;
    x[i] = Math.abs(d) < 1e-12 ? 0 : m[i * w + p]! / d;
  }
  return x;
}

/** Linear coefficients on the raw features: prediction = intercept + Σ coefficients[j]·row[j]. */
export interface LinearModel {
  readonly intercept: number;
  readonly coefficients: Float64Array;
}

/**
 * Least-absolute-deviations (median) regression of `targets` on `rows` (row-major, `p` columns) by
 * iteratively reweighted least squares, with a small ridge penalty on standardised coefficients
 * for stability. The median loss is what MASE rewards, and it ignores the spikes that drag a
 * least-squares fit. Deterministic.
 */
export function fitLeastAbsoluteDeviations(rows: Float64Array, targets: Float64Array, p: number, ridge: number, iterations: number): LinearModel {
  const n = targets.length;
  const q = p + 1;
  const mean = new Float64Array(p);
  const scale = new Float64Array(p).fill(1);
  for (let j = 0; j < p; j++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = rows[i * p + j]!;
      s += v;
      s2 += v * v;
    }
    mean[j] = n > 0 ? s / n : 0;
    const sd = n > 0 ? Math.sqrt(Math.max(0, s2 / n - mean[j]! * mean[j]!)) : 0;
    scale[j] = sd > 1e-12 ? sd : 1;
  }
  const weights = new Float64Array(n).fill(1);
  const x = new Float64Array(q);
  let beta: Float64Array = new Float64Array(q);
  const residuals = new Float64Array(n);
  for (let round = 0; round <= iterations; round++) {
    const a = new Float64Array(q * q);
    const b = new Float64Array(q);
    let totalWeight = 0;
    for (let i = 0; i < n; i++) {
      x[0] = 1;
      for (let j = 0; j < p; j++) x[j + 1] = (rows[i * p + j]! - mean[j]!) / scale[j]!;
      const w = weights[i]!;
      totalWeight += w;
      for (let r = 0; r < q; r++) {
        const wr = w * x[r]!;
        b[r]! += wr * targets[i]!;
        for (let c = r; c < q; c++) a[r * q + c]! += wr * x[c]!;
      }
    }
    for (let r = 0; r < q; r++) for (let c = 0; c < r; c++) a[r * q + c] = a[c * q + r]!;
    for (let r = 1; r < q; r++) a[r * q + r]! += ridge * totalWeight;
    beta = solve(a, b, q);
    if (round === iterations) break;
    for (let i = 0; i < n; i++) {
      let f = beta[0]!;
      for (let j = 0; j < p; j++) f += beta[j + 1]! * ((rows[i * p + j]! - mean[j]!) / scale[j]!);
      residuals[i] = Math.abs(targets[i]! - f);
    }
    // Weights 1/|r| turn squared loss into absolute loss; the floor keeps exact fits finite.
    const sorted = Float64Array.from(residuals).sort();
    const floor = Math.max(1e-12, (sorted[sorted.length >> 1] ?? 0) * 1e-3);
    for (let i = 0; i < n; i++) weights[i] = 1 / Math.max(floor, residuals[i]!);
  }
  const coefficients = new Float64Array(p);
  let intercept = beta[0]!;
  for (let j = 0; j < p; j++) {
    coefficients[j] = beta[j + 1]! / scale[j]!;
    intercept -= coefficients[j]! * mean[j]!;
  }
  return { intercept, coefficients };
}

/** The prediction of a linear model for one row. */
export function predictLinear(model: LinearModel, row: Float64Array): number {
  let f = model.intercept;
  for (let j = 0; j < model.coefficients.length; j++) f += model.coefficients[j]! * row[j]!;
  return f;
}

/** Fewest training rows for a regression on {@link lagFeatureCount} features to mean anything. */
const minRows = 10 * (lagFeatureCount + 1);

/**
 * Lag regression: a direct h-step median (LAD) regression of the change y(t + h) − level(t) on the
 * lag and calendar features of `features/lag-features.ts`. In effect a fitted combination of naive,
 * moving averages, the seasonal profile and momentum, with weights learned per series.
 */
export function createLagRegressionForecaster(options: LagRegressionOptions = {}): Forecaster {
  const name = 'lag_regression';
  const maxRows = options.maxRows ?? 20_000;
  const ridge = options.ridge ?? 1e-4;
  const iterations = options.iterations ?? 15;
  return {
    name,
    fit(train: RegularSeries, spec: ForecastSpec): Result<FittedForecaster, FitFailure> {
      const training = directTrainingSetFor(name, train, spec, maxRows, minRows);
      if (!training.ok) return training;
      const set = training.value;
      const model = fitLeastAbsoluteDeviations(set.rows, set.targets, lagFeatureCount, ridge, iterations);
      const predict = (row: Float64Array): number => predictLinear(model, row);
      const bands = directResidualBands(train, spec, predict);
      const parameters: Record<string, number> = { intercept: model.intercept, trainingRows: set.targets.length };
      lagFeatureNames.forEach((feature, j) => {
        parameters[feature] = model.coefficients[j]!;
      });
      return ok(directForecaster(name, spec, predict, bands, parameters));
    },
  };
}
