/**
 * Z-score normalisation of feature columns, fitted on training rows and stored with the model
 * (meta.json), so that a model loaded later scales its inputs exactly as it was trained.
 */

/** Per-feature mean and standard deviation, in the order of `names`. */
export interface FeatureNormalization {
  readonly names: readonly string[];
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * Mean and standard deviation of each column over the rows in `rows` (finite values only). A
 * constant or empty column gets std 1 so that it normalises to 0 instead of dividing by zero.
 */
export function fitNormalization(names: readonly string[], columns: readonly Float64Array[], rows: Int32Array): FeatureNormalization {
  const mean: number[] = [];
  const std: number[] = [];
  for (const column of columns) {
    let sum = 0;
    let sumSquares = 0;
    let count = 0;
    for (const i of rows) {
      const value = column[i]!;
      if (!Number.isFinite(value)) continue;
      sum += value;
      sumSquares += value * value;
      count++;
    }
    const m = count > 0 ? sum / count : 0;
    const variance = count > 1 ? Math.max(0, sumSquares / count - m * m) : 0;
    const s = Math.sqrt(variance);
    mean.push(m);
    std.push(s > 1e-12 * Math.max(1, Math.abs(m)) ? s : 1);
  }
  return { names: [...names], mean, std };
}

/**
 * The columns scaled to zero mean and unit variance, as 32-bit floats (what TensorFlow.js
 * consumes). NaN (a missing input) becomes 0, the training mean.
 */
export function applyNormalization(columns: readonly Float64Array[], normalization: FeatureNormalization): Float32Array[] {
  return columns.map((column, f) => {
    const m = normalization.mean[f] ?? 0;
    const s = normalization.std[f] ?? 1;
    const out = new Float32Array(column.length);
    for (let i = 0; i < column.length; i++) {
      const value = column[i]!;
      out[i] = Number.isFinite(value) ? (value - m) / s : 0;
    }
    return out;
  });
}
