/** One observation: a value at a point in time. */
export interface Sample {
  readonly timestampMs: number;
  readonly value: number;
}

/**
 * The values of a series. The engine's history window and the model process keep their buffers in
 * 32 bits (at 1,000 queues, 2,200 week-long series at 1 minute are 89 MB instead of 177 MB in each
 * process; 7 significant digits is more than a forecast of depth, a rate or a percentage needs, and
 * integers up to 2^24 stay exact); a series built for a fit or read from a file is 64 bits.
 */
export type SeriesValues = Float64Array | Float32Array;

/**
 * A series on a regular time grid: `values[i]` is the value at `startMs + i * stepSeconds * 1000`.
 * Missing points are `NaN`, so gaps keep their place on the grid and seasonal lags stay aligned.
 */
export interface RegularSeries {
  readonly startMs: number;
  readonly stepSeconds: number;
  readonly values: SeriesValues;
}

/** Timestamp of the grid point at `index`. */
export function gridTimeMs(series: RegularSeries, index: number): number {
  return series.startMs + index * series.stepSeconds * 1000;
}

/**
 * Puts irregular samples on a regular grid. Each sample goes to the nearest grid point at or before
 * it (the latest sample wins), which is what Prometheus' `query_range` does with its lookback.
 * Grid points with no sample stay `NaN`; they are never filled here, because filling is a modelling
 * choice that belongs to each forecaster.
 */
export function toRegularSeries(samples: readonly Sample[], stepSeconds: number, startMs: number, endMs: number): RegularSeries {
  const stepMs = stepSeconds * 1000;
  const length = endMs < startMs ? 0 : Math.floor((endMs - startMs) / stepMs) + 1;
  const values = new Float64Array(length).fill(Number.NaN);
  for (const sample of samples) {
    if (!Number.isFinite(sample.value)) continue;
    const index = Math.floor((sample.timestampMs - startMs) / stepMs);
    if (index >= 0 && index < length) values[index] = sample.value;
  }
  return { startMs, stepSeconds, values };
}

/** The first `length` points of a series (a causal prefix). */
export function prefix(series: RegularSeries, length: number): RegularSeries {
  return { ...series, values: series.values.subarray(0, Math.max(0, Math.min(length, series.values.length))) };
}

/** The last finite value and its time, or undefined when the series has none. */
export function lastFinite(series: RegularSeries): Sample | undefined {
  for (let i = series.values.length - 1; i >= 0; i--) {
    const value = series.values[i]!;
    if (Number.isFinite(value)) return { timestampMs: gridTimeMs(series, i), value };
  }
  return undefined;
}

/**
 * Moves a buffer's values `shift` places towards its start (towards its end for a negative shift),
 * with NaN where nothing moved in: a window on a grid slid forward by `shift` steps, in place.
 */
export function slideInPlace(values: SeriesValues, shift: number): void {
  const length = values.length;
  if (shift > 0) {
    values.copyWithin(0, Math.min(shift, length));
    values.fill(Number.NaN, Math.max(0, length - shift));
  } else if (shift < 0) {
    values.copyWithin(-shift, 0, Math.max(0, length + shift));
    values.fill(Number.NaN, 0, Math.min(-shift, length));
  }
}

/**
 * {@link slideInPlace} into a new buffer of `length` 32-bit values (the history buffers' width): the
 * part of `values` both windows cover, moved by `shift` steps, NaN elsewhere. For a window whose
 * length changed, where the buffer cannot be reused.
 */
export function slidCopy(values: SeriesValues, shift: number, length: number): Float32Array {
  const out = new Float32Array(length).fill(Number.NaN);
  const from = Math.max(0, -shift);
  const to = Math.min(length, values.length - shift);
  if (to > from) out.set(values.subarray(from + shift, to + shift), from);
  return out;
}

/** A series with its own copy of the values: for work that outlives a cycle, whose buffers change in place. */
export function copySeries(series: RegularSeries): RegularSeries {
  return { ...series, values: series.values.slice() };
}
