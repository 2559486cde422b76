import type { Config } from '../config/index.js';
import { type InputRef, inputKey, type RegularSeries } from '../core/index.js';
import type { TimeRange } from '../source/index.js';

/** The inputs the engine forecasts, besides every queue's depth. */
const forecastedInputs: readonly InputRef[] = [
  { kind: 'system', metric: 'cpu_percent' },
  { kind: 'system', metric: 'memory_percent' },
  { kind: 'performance', metric: 'response_time_p95_seconds' },
];

/** The inputs whose history is kept and forecast for a configuration. */
export function forecastTargets(config: Config): InputRef[] {
  return [
    ...config.queues.map((q): InputRef => ({ kind: 'queue', queue: q.name, metric: 'depth' })),
    // Arrival rates: the load the resource optimizer sizes replicas for, and predicted_enqueue_rate_* in rules.
    ...config.queues.map((q): InputRef => ({ kind: 'queue', queue: q.name, metric: 'enqueue_rate_per_second' })),
    ...forecastedInputs,
  ];
}

/** One history read a cycle makes: some inputs over one range. */
export interface HistoryRead {
  readonly inputs: readonly InputRef[];
  readonly range: TimeRange;
  /** Whether the range is the whole window (the inputs' first read). */
  readonly whole: boolean;
}

/**
 * The history of every forecast series, on the configured grid, trimmed to the configured window.
 * Each cycle reads only what it lacks: the whole window for inputs never read, the recent past for
 * the others.
 */
export class HistoryWindow {
  /** History per forecast series. */
  readonly #series = new Map<string, RegularSeries>();
  /** Inputs whose whole window has been read once (with or without data). */
  readonly #windowRead = new Set<string>();
  /** End of the grid read by the previous cycle. */
  #lastGridEndMs = 0;

  /**
   * The reads a cycle ending at `gridEndMs` makes. Inputs read before need only their recent past;
   * new ones (first cycle, a queue added by a reload) get the whole window. Two reads at most,
   * whatever the number of inputs.
   */
  reads(targets: readonly InputRef[], config: Config, gridEndMs: number): HistoryRead[] {
    const stepMs = config.forecast.step * 1000;
    const known = targets.filter((input) => this.#windowRead.has(inputKey(input)));
    const fresh = targets.filter((input) => !this.#windowRead.has(inputKey(input)));
    const windowStartMs = gridEndMs - config.forecast.history * 1000;
    const recentStartMs = Math.max(windowStartMs, this.#lastGridEndMs - 5 * stepMs);
    const range = (startMs: number): TimeRange => ({ startMs, endMs: gridEndMs, stepSeconds: config.forecast.step });
    return [...(known.length > 0 ? [{ inputs: known, range: range(recentStartMs), whole: false }] : []), ...(fresh.length > 0 ? [{ inputs: fresh, range: range(windowStartMs), whole: true }] : [])];
  }

  /**
   * Notes that `reads` were answered: their whole-window inputs need only their recent past from
   * now on, except those in `failedKeys` (their query failed), which get the whole window again.
   */
  readsDone(reads: readonly HistoryRead[], gridEndMs: number, failedKeys: ReadonlySet<string> = new Set()): void {
    for (const read of reads) {
      if (!read.whole) continue;
      for (const input of read.inputs) if (!failedKeys.has(inputKey(input))) this.#windowRead.add(inputKey(input));
    }
    this.#lastGridEndMs = gridEndMs;
  }

  /** The buffered history of `key`, if any was read. */
  get(key: string): RegularSeries | undefined {
    return this.#series.get(key);
  }

  /** Forgets every buffer (the grid changed): the next cycle reads the whole window again. */
  clear(): void {
    this.#series.clear();
    this.#windowRead.clear();
  }

  /** Merges newly read points into the buffer for `key`, re-gridded to the window ending at `gridEndMs`. */
  merge(key: string, fresh: RegularSeries, config: Config, gridEndMs: number): void {
    const stepMs = config.forecast.step * 1000;
    const length = Math.round((config.forecast.history * 1000) / stepMs) + 1;
    const startMs = gridEndMs - (length - 1) * stepMs;
    const values = new Float64Array(length).fill(Number.NaN);
    const old = this.#series.get(key);
    for (const part of old === undefined ? [fresh] : [old, fresh]) {
      const offset = Math.round((part.startMs - startMs) / stepMs);
      for (let i = 0; i < part.values.length; i++) {
        const value = part.values[i]!;
        const target = i + offset;
        if (target >= 0 && target < length && !Number.isNaN(value)) values[target] = value;
      }
    }
    this.#series.set(key, { startMs, stepSeconds: config.forecast.step, values });
  }
}

/** The finite points of a series, with their timestamps. */
export function finiteSamples(series: RegularSeries): { timestampMs: number; value: number }[] {
  const out: { timestampMs: number; value: number }[] = [];
  for (let i = 0; i < series.values.length; i++) {
    const value = series.values[i]!;
    if (Number.isFinite(value)) out.push({ timestampMs: series.startMs + i * series.stepSeconds * 1000, value });
  }
  return out;
}
