import { type RegularSeries, toRegularSeries } from '../core/index.js';

/**
 * A load trace: arrivals per grid step, as a piecewise-constant arrival rate. Missing rows (gaps)
 * are NaN in `series` (what a forecaster sees) and carry no arrivals.
 */
export interface LoadTrace {
  /** Arrivals in each step `[startMs + i·step, startMs + (i+1)·step)`; NaN where the trace has no row. */
  readonly series: RegularSeries;
  /** `cumulative[i]`: arrivals before the start of step i (length = steps + 1). */
  readonly cumulative: Float64Array;
  readonly endMs: number;
}

/**
 * A trace from `timestamp,value` rows: each value is the number of arrivals in the interval that
 * starts at its timestamp and lasts one step (the median interval between rows unless given),
 * as in request-per-minute logs. Negative values count as zero.
 */
export function loadTraceFromRows(timestampsSeconds: Float64Array, values: Float64Array, stepSeconds: number): LoadTrace {
  const n = Math.min(timestampsSeconds.length, values.length);
  if (n === 0 || !(stepSeconds > 0)) throw new RangeError('a load trace needs at least one row and a positive step');
  const samples = Array.from({ length: n }, (_, i) => ({ timestampMs: timestampsSeconds[i]! * 1000, value: Math.max(0, values[i]!) }));
  const startMs = samples[0]!.timestampMs;
  const series = toRegularSeries(samples, stepSeconds, startMs, samples[n - 1]!.timestampMs);
  return withCumulative(series);
}

/** A trace from a series already on a grid (arrivals per step). */
export function withCumulative(series: RegularSeries): LoadTrace {
  const steps = series.values.length;
  const cumulative = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) {
    const v = series.values[i]!;
    cumulative[i + 1] = cumulative[i]! + (Number.isFinite(v) ? Math.max(0, v) : 0);
  }
  return { series, cumulative, endMs: series.startMs + steps * series.stepSeconds * 1000 };
}

/** Arrivals before `atMs` (0 before the trace, all of them after it); linear inside a step. */
export function arrivalsBefore(trace: LoadTrace, atMs: number): number {
  const stepMs = trace.series.stepSeconds * 1000;
  const position = (atMs - trace.series.startMs) / stepMs;
  const steps = trace.series.values.length;
  if (position <= 0) return 0;
  if (position >= steps) return trace.cumulative[steps]!;
  const index = Math.floor(position);
  return trace.cumulative[index]! + (trace.cumulative[index + 1]! - trace.cumulative[index]!) * (position - index);
}

/** Arrivals in `[fromMs, toMs)`. */
export function arrivalsBetween(trace: LoadTrace, fromMs: number, toMs: number): number {
  return arrivalsBefore(trace, toMs) - arrivalsBefore(trace, fromMs);
}
