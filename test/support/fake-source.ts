/**
 * A MetricSource for tests, in the spirit of prometheus-adapter's FakePrometheusClient: a map from
 * input key to samples (or to an Error, which becomes that input's `query_failed` problem), and a
 * switch that makes every call reject, as when Prometheus is down.
 */
import { ForesightError, inputKey, toRegularSeries, type InputRef, type Sample } from '../../src/core/index.js';
import type { HistoryReading, HistoryReadings, LatestReadings, MetricSource, Reading, SourceProblem, TimeRange } from '../../src/source/index.js';

/** One recorded call, for assertions on what the engine asked for. */
export type FakeSourceCall =
  | { readonly method: 'readLatest'; readonly inputs: readonly InputRef[]; readonly atMs: number }
  | { readonly method: 'readHistory'; readonly inputs: readonly InputRef[]; readonly range: TimeRange };

/**
 * Serves what `data` holds: `readLatest` gives the newest sample at or before `atMs`;
 * `readHistory` puts the samples within the range on its grid. Inputs absent from `data` are absent
 * from answers (the source "has no query for them"); no sample is the problem `empty`, a NaN latest
 * value (or a range with no finite value) `not_finite`, an Error `query_failed` with its message.
 */
export class FakeSource implements MetricSource {
  /** Samples (any order) or an Error, by `inputKey`. Tests may change it between calls. */
  readonly data: Map<string, readonly Sample[] | Error>;
  /** Every call, in order. */
  readonly calls: FakeSourceCall[] = [];
  #outage: Error | undefined;

  constructor(data: Iterable<readonly [string, readonly Sample[] | Error]> = []) {
    this.data = new Map(data);
  }

  /** Sets the samples (or the error) of one input; returns `this` for chaining. */
  set(input: InputRef, value: readonly Sample[] | Error): this {
    this.data.set(inputKey(input), value);
    return this;
  }

  /** Makes every call reject with `error` until {@link recover} (default: a source query error). */
  failAll(error: Error = new ForesightError('FORESIGHT_ERR_SOURCE_QUERY', 'fake source: Prometheus is unreachable')): void {
    this.#outage = error;
  }

  /** Ends an outage started by {@link failAll}. */
  recover(): void {
    this.#outage = undefined;
  }

  /** True while {@link failAll} is in force. */
  get failing(): boolean {
    return this.#outage !== undefined;
  }

  async readLatest(inputs: readonly InputRef[], atMs: number, signal?: AbortSignal): Promise<LatestReadings> {
    this.calls.push({ method: 'readLatest', inputs, atMs });
    this.#check(signal);
    const readings: Reading[] = [];
    const problems: SourceProblem[] = [];
    for (const input of inputs) {
      const entry = this.data.get(inputKey(input));
      if (entry === undefined) continue;
      if (entry instanceof Error) {
        problems.push({ input, reason: 'query_failed', message: entry.message });
        continue;
      }
      let newest: Sample | undefined;
      for (const sample of entry) if (sample.timestampMs <= atMs && (newest === undefined || sample.timestampMs >= newest.timestampMs)) newest = sample;
      if (newest === undefined) problems.push({ input, reason: 'empty', message: `fake source: no sample of ${inputKey(input)} at or before ${atMs}` });
      else if (!Number.isFinite(newest.value)) problems.push({ input, reason: 'not_finite', message: `fake source: ${inputKey(input)} is ${newest.value}` });
      else readings.push({ input, timestampMs: newest.timestampMs, value: newest.value });
    }
    return { readings, problems };
  }

  async readHistory(inputs: readonly InputRef[], range: TimeRange, signal?: AbortSignal): Promise<HistoryReadings> {
    this.calls.push({ method: 'readHistory', inputs, range });
    this.#check(signal);
    const history: HistoryReading[] = [];
    const problems: SourceProblem[] = [];
    for (const input of inputs) {
      const entry = this.data.get(inputKey(input));
      if (entry === undefined) continue;
      if (entry instanceof Error) {
        problems.push({ input, reason: 'query_failed', message: entry.message });
        continue;
      }
      const inRange = [...entry].filter((s) => s.timestampMs >= range.startMs && s.timestampMs <= range.endMs).sort((a, b) => a.timestampMs - b.timestampMs);
      if (inRange.length === 0) problems.push({ input, reason: 'empty', message: `fake source: no sample of ${inputKey(input)} in the range` });
      else if (!inRange.some((s) => Number.isFinite(s.value))) problems.push({ input, reason: 'not_finite', message: `fake source: ${inputKey(input)} has no finite value in the range` });
      else history.push({ input, series: toRegularSeries(inRange, range.stepSeconds, range.startMs, range.endMs) });
    }
    return { history, problems };
  }

  #check(signal: AbortSignal | undefined): void {
    signal?.throwIfAborted();
    if (this.#outage !== undefined) throw this.#outage;
  }
}
