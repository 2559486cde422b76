import type { InputRef, RegularSeries, WorkloadRef } from '../core/index.js';

/** Why one input produced no usable value. Each reason has its own counter; none is fatal. */
export type SourceProblemReason =
  | 'empty' // The query returned no series (KEDA's "empty upstream response"); for a replay, no sample.
  | 'multiple_series' // A query returned more than one series for one input; we never guess which one.
  | 'not_finite' // The latest value is NaN or ±Inf; for history, no finite point in the whole range.
  | 'query_failed'; // Prometheus answered with an error, or this query could not be sent.

/** A problem with one input in one read. */
export interface SourceProblem {
  readonly input: InputRef;
  readonly reason: SourceProblemReason;
  /** For people: what went wrong, ending with the query (or trace) concerned. Never a metric label. */
  readonly message: string;
}

/** The latest value of one input. */
export interface Reading {
  readonly input: InputRef;
  /** When the value holds: the evaluation time for Prometheus, the sample's own time for a replay. */
  readonly timestampMs: number;
  /** Always finite (NaN and ±Inf are `not_finite` problems instead). */
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
 * - A method rejects only when the source as a whole is unusable: with a `ForesightError` coded
 *   `FORESIGHT_ERR_SOURCE_QUERY` (or `FORESIGHT_ERR_SOURCE_TIMEOUT` when every query timed out)
 *   when Prometheus could not be reached for any query, or with `signal.reason` when aborted. The
 *   engine then keeps its last snapshot and marks it stale.
 * - Inputs the source has no query for are simply absent from the answer, not problems.
 * - Implementations hold no per-call state, so calls may overlap.
 */
export interface MetricSource {
  /** Reads the value of each input at `atMs` (the newest sample at or before it). */
  readLatest(inputs: readonly InputRef[], atMs: number, signal?: AbortSignal): Promise<LatestReadings>;
  /**
   * Reads each input over `range`, on exactly the grid of `range` (NaN where there is no data).
   * An input whose range holds no finite value at all is a problem rather than an all-NaN series.
   */
  readHistory(inputs: readonly InputRef[], range: TimeRange, signal?: AbortSignal): Promise<HistoryReadings>;
  /**
   * Runs a workload's discovery query at `atMs`: the distinct values of its queue label, sorted.
   * Undefined when the source has no discovery query for the workload (or no discovery at all).
   * Never rejects: a failed query is `{ ok: false }`, and the engine keeps the queues it knew.
   */
  discoverQueues?(workload: WorkloadRef, atMs: number, signal?: AbortSignal): Promise<QueueDiscovery | undefined>;
}

/** What a discovery query found. */
export type QueueDiscovery = { readonly ok: true; readonly queues: readonly string[]; readonly query: string } | { readonly ok: false; readonly message: string; readonly query: string };
