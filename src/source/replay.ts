import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ForesightError, inputKey, messageOf, parseTimestampValueCsv, type Clock, type InputRef, type Sample } from '../core/index.js';
import type { HistoryReading, HistoryReadings, LatestReadings, MetricSource, Reading, SourceProblem, TimeRange } from './metric-source.js';

/** How a {@link ReplaySource} plays its traces. */
export interface ReplaySourceOptions {
  /** Recorded samples per input, keyed by `inputKey` ("queue/batch_processing/depth"). */
  readonly traces: ReadonlyMap<string, readonly Sample[]>;
  /** "Now"; the trace plays against it. */
  readonly clock: Clock;
  /** Trace seconds played per clock second: 1 is real time, 60 plays an hour a minute. Default 1. */
  readonly speed?: number;
  /**
   * How far back a value is still current when a trace has a gap, as Prometheus' lookback delta
   * (5 minutes). Default 300.
   */
  readonly lookbackSeconds?: number;
}

/** One trace, sorted, in flat arrays for binary search. */
interface Trace {
  readonly timesMs: Float64Array;
  readonly values: Float64Array;
  /** Length of one loop: the span of the trace plus one sampling interval. */
  readonly periodMs: number;
}

const defaultLookbackSeconds = 300;

/**
 * The {@link MetricSource} that plays recorded traces as if they were happening now: the bundled
 * demo workload when no Prometheus is configured, and a deterministic source for tests.
 *
 * Each trace repeats forever with a period of its own length (its span plus one sampling
 * interval), and is shifted by whole periods onto the clock, so at speed 1 a trace keeps its time
 * of day, and its day of week when it spans whole weeks (the demo spans two). At another speed,
 * trace time runs `speed` times as fast as the clock from the moment the source is built.
 *
 * Reads are causal: nothing later than the clock's now is ever returned (history points after now
 * are NaN, and `readLatest` at a future time reads now). The value at a time is the newest sample
 * at or before it within `lookbackSeconds`, as in Prometheus; a gap longer than that reads as NaN.
 * Inputs without a trace are absent from answers; an empty trace is the problem `empty`, a NaN in
 * the trace `not_finite`. No method ever rejects, except when aborted.
 */
export class ReplaySource implements MetricSource {
  readonly #traces: ReadonlyMap<string, Trace>;
  readonly #clock: Clock;
  readonly #speed: number;
  readonly #lookbackMs: number;
  /** The clock time at which trace time and clock time agree (up to whole periods). */
  readonly #anchorMs: number;

  constructor(options: ReplaySourceOptions) {
    const speed = options.speed ?? 1;
    const lookbackSeconds = options.lookbackSeconds ?? defaultLookbackSeconds;
    if (!(speed > 0) || !Number.isFinite(speed)) throw new ForesightError('FORESIGHT_ERR_CONFIG_INVALID', `replay speed must be greater than 0, got ${speed}`);
    if (!(lookbackSeconds >= 0)) throw new ForesightError('FORESIGHT_ERR_CONFIG_INVALID', `replay lookbackSeconds must not be negative, got ${lookbackSeconds}`);
    const traces = new Map<string, Trace>();
    for (const [key, samples] of options.traces) traces.set(key, buildTrace(samples));
    this.#traces = traces;
    this.#clock = options.clock;
    this.#speed = speed;
    this.#lookbackMs = lookbackSeconds * 1000;
    this.#anchorMs = options.clock.nowMs();
  }

  /** Reads each input at `atMs`, or at now when `atMs` is in the future. */
  async readLatest(inputs: readonly InputRef[], atMs: number, signal?: AbortSignal): Promise<LatestReadings> {
    signal?.throwIfAborted();
    const readAtMs = Math.min(atMs, this.#clock.nowMs());
    const readings: Reading[] = [];
    const problems: SourceProblem[] = [];
    for (const input of inputs) {
      const key = inputKey(input);
      const trace = this.#traces.get(key);
      if (trace === undefined) continue;
      const found = this.#sampleAt(trace, readAtMs);
      if (found === undefined) {
        problems.push({ input, reason: 'empty', message: `replay trace ${key} has no sample within ${this.#lookbackMs / 1000}s of the read time` });
      } else if (!Number.isFinite(found.value)) {
        problems.push({ input, reason: 'not_finite', message: `replay trace ${key} holds ${String(found.value)} at the read time` });
      } else {
        readings.push({ input, timestampMs: found.timestampMs, value: found.value });
      }
    }
    return { readings, problems };
  }

  /** Reads each input on the grid of `range`; grid points after now are NaN. */
  async readHistory(inputs: readonly InputRef[], range: TimeRange, signal?: AbortSignal): Promise<HistoryReadings> {
    signal?.throwIfAborted();
    if (!(range.stepSeconds > 0) || range.endMs < range.startMs) {
      throw new ForesightError('FORESIGHT_ERR_INPUT_INVALID', `invalid time range: startMs ${range.startMs}, endMs ${range.endMs}, stepSeconds ${range.stepSeconds}`);
    }
    const nowMs = this.#clock.nowMs();
    const stepMs = range.stepSeconds * 1000;
    const length = Math.floor((range.endMs - range.startMs) / stepMs) + 1;
    const history: HistoryReading[] = [];
    const problems: SourceProblem[] = [];
    for (const input of inputs) {
      const key = inputKey(input);
      const trace = this.#traces.get(key);
      if (trace === undefined) continue;
      const values = new Float64Array(length).fill(Number.NaN);
      let finite = false;
      for (let i = 0; i < length; i++) {
        const timeMs = range.startMs + i * stepMs;
        if (timeMs > nowMs) break;
        const value = this.#sampleAt(trace, timeMs)?.value ?? Number.NaN;
        if (Number.isFinite(value)) {
          values[i] = value;
          finite = true;
        }
      }
      if (finite) history.push({ input, series: { startMs: range.startMs, stepSeconds: range.stepSeconds, values } });
      else problems.push({ input, reason: 'empty', message: `replay trace ${key} has no finite value in the range up to now` });
    }
    return { history, problems };
  }

  /** The sample current at clock time `atMs`, with its clock time, or undefined outside the lookback. */
  #sampleAt(trace: Trace, atMs: number): Sample | undefined {
    const { timesMs, values, periodMs } = trace;
    if (timesMs.length === 0) return undefined;
    const firstMs = timesMs[0]!;
    const virtualMs = this.#anchorMs + (atMs - this.#anchorMs) * this.#speed;
    // Position in the trace: the virtual time folded into [first, first + period).
    const traceMs = periodMs === 0 ? firstMs : firstMs + positiveModulo(virtualMs - firstMs, periodMs);
    const index = lastIndexAtOrBefore(timesMs, traceMs);
    if (index < 0) return undefined;
    const ageMs = traceMs - timesMs[index]!;
    if (periodMs !== 0 && ageMs > this.#lookbackMs) return undefined;
    // The sample's own time on the clock, so that a reading says how old it is.
    return { timestampMs: atMs - ageMs / this.#speed, value: values[index]! };
  }
}

function buildTrace(samples: readonly Sample[]): Trace {
  const sorted = [...samples].filter((s) => Number.isFinite(s.timestampMs)).sort((a, b) => a.timestampMs - b.timestampMs);
  const timesMs = new Float64Array(sorted.length);
  const values = new Float64Array(sorted.length);
  sorted.forEach((s, i) => {
    timesMs[i] = s.timestampMs;
    values[i] = s.value;
  });
  // A one-sample trace is a constant (period 0). Otherwise the loop lasts the span plus the median
  // sampling interval, so the last sample is followed by the first one interval later.
  const periodMs = sorted.length < 2 ? 0 : timesMs[timesMs.length - 1]! - timesMs[0]! + medianInterval(timesMs);
  return { timesMs, values, periodMs };
}

function medianInterval(timesMs: Float64Array): number {
  const gaps: number[] = [];
  for (let i = 1; i < timesMs.length; i++) {
    const gap = timesMs[i]! - timesMs[i - 1]!;
    if (gap > 0) gaps.push(gap);
  }
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)] ?? 1;
}

/** The index of the last element `<= value` in an ascending array, or -1. Duplicates: the last wins. */
function lastIndexAtOrBefore(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

function positiveModulo(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

/** A row of a trace file that was skipped. */
export interface ReplayProblem {
  readonly file: string;
  /** 1-based line number; 0 when the whole file is at fault (unreadable, not gzip). */
  readonly line: number;
  readonly message: string;
}

/** What {@link parseReplayCsv} read from one file. */
export interface ParsedReplayCsv {
  /** The good rows, in time order. */
  readonly samples: readonly Sample[];
  /** The first {@link maxProblemsPerFile} bad rows. */
  readonly problems: readonly ReplayProblem[];
  /** Every bad row, including those not listed in `problems`. */
  readonly badRows: number;
}

/** What {@link loadReplayDir} read from a folder. */
export interface LoadedReplay {
  /** Samples per `inputKey`; inputs without a file are absent. */
  readonly traces: ReadonlyMap<string, readonly Sample[]>;
  /** Bad rows (at most {@link maxProblemsPerFile} per file) and unreadable files. */
  readonly problems: readonly ReplayProblem[];
  /** All bad rows, listed or not. */
  readonly badRows: number;
  /** Keys of the requested inputs that have no file. */
  readonly missing: readonly string[];
}

/** A broken file can have thousands of bad rows; only this many per file are listed (all are counted). */
export const maxProblemsPerFile = 20;

/**
 * Parses a `timestamp,value` CSV trace with the reader the CLI uses ({@link parseTimestampValueCsv}:
 * unix seconds, an optional header, blank lines and `#` comments ignored, CRLF tolerated; `NaN`
 * is a recorded gap and kept, as are `+Inf` and `-Inf`). Bad rows are skipped and reported with
 * their line number; parsing never throws.
 */
export function parseReplayCsv(text: string, file: string): ParsedReplayCsv {
  const { rows, badLines } = parseTimestampValueCsv(text, file);
  const samples = Array.from(rows.values, (value, i): Sample => ({ timestampMs: Math.round(rows.timestampsSeconds[i]! * 1000), value }));
  const problems = badLines.slice(0, maxProblemsPerFile).map((bad): ReplayProblem => ({ file, line: bad.line, message: bad.reason }));
  return { samples, problems, badRows: badLines.length };
}

/** The file name of an input's trace: its key with "/" replaced by "__", e.g. `system__cpu_percent.csv`. */
export function replayFileName(input: InputRef): string {
  return `${inputKey(input).replaceAll('/', '__')}.csv`;
}

/**
 * Reads the traces of `inputs` from `dir`: for each input, `<replayFileName>` or the same name with
 * `.gz` appended (the bundled demo is gzipped to stay small). Missing files leave the input out;
 * bad rows and unreadable files are reported in `problems` and never throw. Throws
 * `FORESIGHT_ERR_CONFIG_INVALID` when `dir` is not a folder. Synchronous: it runs once at startup.
 */
export function loadReplayDir(dir: string, inputs: readonly InputRef[]): LoadedReplay {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ForesightError('FORESIGHT_ERR_CONFIG_INVALID', `replay folder ${dir} does not exist or is not a folder`);
  }
  const present = new Set(readdirSync(dir));
  const traces = new Map<string, readonly Sample[]>();
  const problems: ReplayProblem[] = [];
  const missing: string[] = [];
  let badRows = 0;
  for (const input of inputs) {
    const key = inputKey(input);
    if (traces.has(key)) continue;
    const plain = replayFileName(input);
    const name = present.has(plain) ? plain : present.has(`${plain}.gz`) ? `${plain}.gz` : undefined;
    if (name === undefined) {
      missing.push(key);
      continue;
    }
    const file = join(dir, name);
    let text: string;
    try {
      const bytes = readFileSync(file);
      text = (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    } catch (error) {
      problems.push({ file, line: 0, message: `cannot read: ${messageOf(error)}` });
      continue;
    }
    const parsed = parseReplayCsv(text, file);
    traces.set(key, parsed.samples);
    problems.push(...parsed.problems);
    badRows += parsed.badRows;
  }
  return { traces, problems, badRows, missing };
}

/**
 * The folder of the bundled demo workload (`demo/` at the package root). The package root is found
 * by walking up from this module to the first `package.json`, so it resolves the same from
 * `src/source/` (run with tsx) and from `dist/source/` (compiled).
 */
export function defaultReplayDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'demo');
    const parent = dirname(dir);
    if (parent === dir) throw new ForesightError('FORESIGHT_ERR_CONFIG_INVALID', `cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
