import type { InputRef, RegularSeries } from '../core/index.js';

/** Why one input produced no usable value. Each reason has its own counter; none is fatal. */
export type SourceProblemReason =
  | 'empty' // The query returned no series (KEDA's "empty upstream response").
  | 'multiple_series' // A per-queue query returned more than one series; we never guess which one.
  | 'not_finite' // NaN or ±Inf.
  | 'query_failed'; // Prometheus answered with an error, or could not be reached.

/** A problem with one input in one read. */
export interface SourceProblem {
  readonly input: InputRef;
  readonly reason: SourceProblemReason;
  readonly message: string;
}

/** The latest value of one input. */
export interface Reading {
  readonly input: InputRef;
  readonly timestampMs: number;
  readonly value: number;
}

/** What one `readLatest` call produced: the values it could read, and what went wrong for the rest. */
export interface LatestReadings {
  readonly readings: readonly Reading[];
  readonly problems: readonly SourceProblem[];
}

/** History of one input on the requested grid (NaN where there is no data). */
export interface HistoryReading {
  readonly input: InputRef;
  readonly series: RegularSeries;
}

/** What one `readHistory` call produced. */
export interface HistoryReadings {
  readonly history: readonly HistoryReading[];
  readonly problems: readonly SourceProblem[];
}

/** A time range on a regular grid; both ends are included and `startMs` is a grid point. */
export interface TimeRange {
  readonly startMs: number;
  readonly endMs: number;
  readonly stepSeconds: number;
}

/**
 * The port every input source implements (Prometheus, replayed traces, test fakes).
 *
 * Contract:
 * - Per-input trouble (an empty result, NaN, several series where one was expected, one failed
 *   query) is reported in `problems` and never thrown: the other inputs are still returned.
 * - A method rejects only when the source as a whole is unusable (Prometheus unreachable for
 *   every query, aborted by `signal`); the engine then keeps its last snapshot and marks it stale.
 * - Inputs the source has no query for are simply absent from the answer, not problems.
 * - Implementations hold no per-call state, so calls may overlap.
 */
export interface MetricSource {
  /** Reads the value of each input at `atMs` (the newest sample at or before it). */
  readLatest(inputs: readonly InputRef[], atMs: number, signal?: AbortSignal): Promise<LatestReadings>;
  /** Reads each input over `range`. */
  readHistory(inputs: readonly InputRef[], range: TimeRange, signal?: AbortSignal): Promise<HistoryReadings>;
}
