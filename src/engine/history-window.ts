import type { Config } from '../config/index.js';
import { type InputRef, inputKey, messageOf, type RegularSeries, type RobustRange, robustRange, slidCopy, slideInPlace, stableHash32 } from '../core/index.js';
import type { HistoryReadings, MetricSource, TimeRange } from '../source/index.js';
import type { Float32Series, SeriesChanges } from './series-transfer.js';
import type { HistoryState } from './snapshot.js';
import { listedQueues, type QueueSpec, queueInput, usesWorkloads } from './workload-queues.js';

/** The inputs the engine forecasts, besides every queue's depth. */
const forecastedInputs: readonly InputRef[] = [
  { kind: 'system', metric: 'cpu_percent' },
  { kind: 'system', metric: 'memory_percent' },
  { kind: 'performance', metric: 'response_time_p95_seconds' },
];

/**
 * The inputs whose history is kept and forecast for a configuration: every queue's depth and arrival
 * rate, and the cluster-wide CPU, memory and p95 (with workloads, also each workload's own).
 * `queues` defaults to the listed ones; the reconciler passes the discovered ones too.
 */
export function forecastTargets(config: Config, queues: readonly QueueSpec[] = listedQueues(config)): InputRef[] {
  return [
    ...queues.map((q) => queueInput(q, 'depth')),
    // Arrival rates: the load the resource optimizer sizes replicas for, and predicted_enqueue_rate_* in rules.
    ...queues.map((q) => queueInput(q, 'enqueue_rate_per_second')),
    ...forecastedInputs,
    ...(usesWorkloads(config) ? config.workloads.flatMap((w) => forecastedWorkloadMetrics.map((metric): InputRef => ({ kind: 'workload', namespace: w.namespace, workload: w.name, metric }))) : []),
  ];
}

/** The workload inputs forecast beside its queues (the decisions' predicted_cpu and predicted_response_time). */
const forecastedWorkloadMetrics = ['cpu_percent', 'response_time_p95_seconds'] as const;

/** One history read a cycle makes: some inputs over one range. */
export interface HistoryRead {
  readonly inputs: readonly InputRef[];
  readonly range: TimeRange;
  /**
   * `recent`: the past since the previous cycle; `first`: an input never read, its recent past (what
   * a forecast needs, {@link firstReadSeconds}); `older`: a slice of the rest of its window, the
   * oldest part not held yet next to what is held.
   */
  readonly kind: 'recent' | 'first' | 'older';
}

/**
 * Points of older history read per cycle, over all the series still filling their window. Measured
 * at 300 queues (busy machine, docs/workloads.md "Scale"): about 2 s of service CPU per million points
 * of a range read (decoding, gzip), so a slice costs about 1 s, and no cycle after the first is slowed
 * much. At 1,000 queues (2,200 series) a slice is 3.8 hours, and the rest of a 7-day window is read in
 * 32 cycles (16 minutes at the default 30 s cycle); a few series get their whole window at once.
 */
export const olderPointsPerCycle = 500_000;

/**
 * How far back an input's first read goes: two seasons (Holt-Winters initialises its level, trend and
 * seasonal components from two complete seasons; the seasonal baselines need one) plus the largest
 * horizon (so that at least one origin after those two seasons has its actual, for the backtest), at
 * most the whole window. With the defaults (1-day season, 15-minute horizon, 7-day window): 2 days
 * 15 minutes, under a third of the window.
 */
export function firstReadSeconds(config: Config): number {
  return Math.min(config.forecast.history, 2 * config.forecast.season + Math.max(...config.forecast.horizons));
}

/** How much of the window is not held yet. */
export interface HistoryBacklog {
  /** Series whose window is not all read (older slices pending, or a first read still to retry). */
  readonly series: number;
  /** Grid points of those windows not read yet. */
  readonly points: number;
}

/**
 * The history of every forecast series, on the configured grid, trimmed to the configured window.
 * Each cycle reads only what it lacks: for an input never read, the recent past a forecast needs;
 * for the others, the recent past since the previous cycle, and a slice of the older part of their
 * window until all of it is held. So the first forecasts wait for a third of the window, not all of
 * it, and the rest comes in slices of bounded cost over the next cycles. Values are held as 32-bit
 * floats (core's `SeriesValues`): at 1,000 queues the buffers are 89 MB instead of 177 MB.
 */
export class HistoryWindow {
  /** History per forecast series. */
  readonly #series = new Map<string, Float32Series>();
  /** Per input read at least once (with or without data): the oldest grid time read. */
  readonly #heldFromMs = new Map<string, number>();
  /** End of the grid read by the previous cycle. */
  #lastGridEndMs = 0;
  /** Per series, its robust range as last computed ({@link rangeOf}). */
  readonly #ranges = new Map<string, KeptRange>();
  /** Per series, what its last merges wrote ({@link changesOf}). */
  readonly #changes = new Map<string, SeriesChanges>();
  /** Numbers the buffers, so that a buffer made again (a series dropped and back, a new grid) is never taken for the old one. */
  #buffers = 0;

  /**
   * The reads a cycle ending at `gridEndMs` makes: one for the recent past of the inputs read before,
   * one for the first read of new ones (first cycle, a queue added by a reload or discovered), and
   * one older slice per group of inputs that hold their window from the same time; at most
   * {@link olderPointsPerCycle} points of older slices in all.
   */
  reads(targets: readonly InputRef[], config: Config, gridEndMs: number): HistoryRead[] {
    const stepMs = config.forecast.step * 1000;
    const windowStartMs = windowStartOf(config, gridEndMs);
    const range = (startMs: number, endMs = gridEndMs): TimeRange => ({ startMs, endMs, stepSeconds: config.forecast.step });
    const known: InputRef[] = [];
    const fresh: InputRef[] = [];
    const olderByHeldFrom = new Map<number, InputRef[]>();
    for (const input of targets) {
      const heldFromMs = this.#heldFromMs.get(inputKey(input));
      if (heldFromMs === undefined) {
        fresh.push(input);
        continue;
      }
      known.push(input);
      if (heldFromMs <= windowStartMs) continue;
      const group = olderByHeldFrom.get(heldFromMs);
      if (group === undefined) olderByHeldFrom.set(heldFromMs, [input]);
      else group.push(input);
    }
    const reads: HistoryRead[] = [];
    if (known.length > 0) reads.push({ inputs: known, range: range(Math.max(windowStartMs, this.#lastGridEndMs - 5 * stepMs)), kind: 'recent' });
    if (fresh.length > 0) reads.push({ inputs: fresh, range: range(Math.max(windowStartMs, gridEndMs - firstReadSeconds(config) * 1000)), kind: 'first' });
    const backfilling = [...olderByHeldFrom.values()].reduce((sum, inputs) => sum + inputs.length, 0);
    const sliceSteps = Math.max(1, Math.floor(olderPointsPerCycle / Math.max(1, backfilling)));
    // A slice ends on the oldest point held, not the one before: one point of overlap, so that a source
    // whose samples fall between grid points still fills the cell next to it (merge keeps a value over a gap).
    for (const [heldFromMs, inputs] of olderByHeldFrom) {
      reads.push({ inputs, range: range(Math.max(windowStartMs, heldFromMs - sliceSteps * stepMs), heldFromMs), kind: 'older' });
    }
    return reads;
  }

  /**
   * Notes that `reads` were answered. Each input of a first or older read holds its window from that
   * read's start on, except those whose query failed (`query_failed`): they are asked the same again
   * next cycle, so a failure loses nothing.
   */
  readsDone(outcomes: readonly ReadOutcome[], gridEndMs: number): void {
    for (const { read, readings } of outcomes) {
      if (read.kind === 'recent') continue;
      const failed = failedKeys(readings);
      for (const input of read.inputs) {
        const key = inputKey(input);
        const heldFromMs = this.#heldFromMs.get(key);
        if (!failed.has(key) && (heldFromMs === undefined || read.range.startMs < heldFromMs)) this.#heldFromMs.set(key, read.range.startMs);
      }
    }
    this.#lastGridEndMs = gridEndMs;
  }

  /** What is left to read of the windows of `targets` after `outcomes`, and which older slices failed. */
  state(outcomes: readonly ReadOutcome[], targets: readonly InputRef[], config: Config, gridEndMs: number): HistoryState {
    const backlog = this.backlog(targets, config, gridEndMs);
    const failed = outcomes.filter(({ read }) => read.kind === 'older').flatMap(({ readings }) => readings.problems.filter((p) => p.reason === 'query_failed'));
    const error = failed[0]?.message;
    return { pendingSeries: backlog.series, pendingPoints: backlog.points, failedSeries: failed.length, ...(error === undefined ? {} : { error }) };
  }

  /** What is left to read of the windows of `targets` at the grid end `gridEndMs`. */
  backlog(targets: readonly InputRef[], config: Config, gridEndMs: number): HistoryBacklog {
    const stepMs = config.forecast.step * 1000;
    const windowStartMs = windowStartOf(config, gridEndMs);
    let series = 0;
    let points = 0;
    for (const input of targets) {
      const heldFromMs = this.#heldFromMs.get(inputKey(input)) ?? gridEndMs + stepMs;
      if (heldFromMs <= windowStartMs) continue;
      series += 1;
      points += Math.round((heldFromMs - windowStartMs) / stepMs);
    }
    return { series, points };
  }

  /** The buffered history of `key`, if any was read. */
  get(key: string): RegularSeries | undefined {
    return this.#series.get(key);
  }

  /**
   * The robust range (core's `robustRange`) of what is held for `key`, joined by `fresh` (a read about
   * to be merged), which the sample guard, the latest reading's check and the forecast sanity check
   * all judge against. It is kept between cycles and computed again once the points merged since
   * reach about 1 % of those it was computed on (0.5–1.5 %, by the key, so that series computed in
   * the same cycle do not all recompute in the same cycle again): at 1 minute and a week, every
   * 50–150 minutes. A quantile of n points moves by at most as many ranks as points came and went,
   * and computing it three times per series per cycle was a fifth of a cycle's CPU at 1,000 queues.
   * A short history (a new series) is computed again at every new point.
   */
  rangeOf(key: string, fresh?: ArrayLike<number>): RobustRange | undefined {
    const kept = this.#ranges.get(key);
    if (kept !== undefined && kept.pointsSince < kept.refreshAfterPoints) return kept.range;
    const held = this.#series.get(key)?.values;
    const first = held ?? fresh;
    if (first === undefined) return undefined;
    const range = robustRange(first, held === undefined ? undefined : fresh);
    const share = 0.005 + 0.01 * (stableHash32(key) / 2 ** 32);
    this.#ranges.set(key, { range, pointsSince: 0, refreshAfterPoints: Math.max(1, share * (range?.finitePoints ?? 0)) });
    return range;
  }

  /** Forgets the buffers of series not in `keys` (a discovered queue that expired), so memory follows the queues. */
  retain(keys: ReadonlySet<string>): string[] {
    const dropped = [...this.#series.keys()].filter((key) => !keys.has(key));
    for (const key of dropped) this.#series.delete(key);
    for (const key of [...this.#heldFromMs.keys()]) if (!keys.has(key)) this.#heldFromMs.delete(key);
    for (const key of [...this.#ranges.keys()]) if (!keys.has(key)) this.#ranges.delete(key);
    for (const key of [...this.#changes.keys()]) if (!keys.has(key)) this.#changes.delete(key);
    return dropped;
  }

  /** Forgets every buffer (the grid changed): the next cycle reads every input afresh. */
  clear(): void {
    this.#series.clear();
    this.#heldFromMs.clear();
    this.#ranges.clear();
    this.#changes.clear();
  }

  /**
   * Merges newly read points (one or more parts: the recent past and an older slice) into the buffer
   * for `key`, re-gridded to the window ending at `gridEndMs`. The buffer is moved in place (the window
   * slid by a step or two): at 1,000 queues, a new array per series per cycle was 177 MB to allocate,
   * fill and collect every cycle. So a series from {@link get} is a live view, valid until the next
   * merge: whoever keeps one past the cycle copies it. A value is stored rounded to 32 bits; one
   * beyond a 32-bit float's range (±3.4e38) would be stored infinite, so it is a gap instead, like
   * every non-finite value (the sample guard has refused it already: no domain goes past
   * `maxServableMagnitude`, 9e12).
   */
  merge(key: string, parts: readonly RegularSeries[], config: Config, gridEndMs: number): void {
    const stepMs = config.forecast.step * 1000;
    const length = windowLength(config);
    const startMs = gridEndMs - (length - 1) * stepMs;
    const old = this.#series.get(key);
    const changes = this.#changes.get(key);
    const revision = (changes?.revision ?? 0) + 1;
    let values: Float32Array;
    let loggedSince: number;
    let buffer = changes?.buffer ?? 0;
    if (old !== undefined && changes !== undefined && old.values.length === length && old.stepSeconds === config.forecast.step) {
      values = old.values;
      slideInPlace(values, Math.round((startMs - old.startMs) / stepMs));
      loggedSince = Math.max(changes.loggedSince, revision - changeLogRevisions);
    } else {
      values = old === undefined ? new Float32Array(length).fill(Number.NaN) : slidCopy(old.values, Math.round((startMs - old.startMs) / stepMs), length);
      // A new buffer: nothing before this revision can be described as changes.
      buffer = ++this.#buffers;
      loggedSince = revision - 1;
    }
    // Only the new parts need their gaps skipped, so that a gap in them keeps the value held.
    const written: SeriesChanges['written'][number][] = (changes?.written ?? []).filter((w) => w.revision > loggedSince);
    let merged = 0;
    for (const part of parts) {
      const offset = Math.round((part.startMs - startMs) / stepMs);
      let first = -1;
      let last = -1;
      for (let i = Math.max(0, -offset); i < part.values.length && i + offset < length; i++) {
        const value = Math.fround(part.values[i]!);
        if (!Number.isFinite(value)) continue;
        values[i + offset] = value;
        merged++;
        if (first < 0) first = i + offset;
        last = i + offset;
      }
      if (first >= 0) written.push({ revision, fromMs: startMs + first * stepMs, toMs: startMs + last * stepMs });
    }
    this.#series.set(key, { startMs, stepSeconds: config.forecast.step, values });
    this.#changes.set(key, { buffer, revision, loggedSince, written });
    const range = this.#ranges.get(key);
    if (range !== undefined) range.pointsSince += merged;
  }

  /** What the last merges of `key` wrote, so that a model process is sent only that (series-transfer.ts). */
  changesOf(key: string): SeriesChanges | undefined {
    return this.#changes.get(key);
  }
}

/** Merges a series' change log remembers: a sender that missed more sends the series whole. */
const changeLogRevisions = 8;

/** A series' robust range as last computed, and the points merged into the series since. */
interface KeptRange {
  readonly range: RobustRange | undefined;
  pointsSince: number;
  readonly refreshAfterPoints: number;
}

/** A read and its answer. */
export interface ReadOutcome {
  readonly read: HistoryRead;
  readonly readings: HistoryReadings;
}

/**
 * Sends one of a cycle's reads. An older slice that fails, even for Prometheus unreachable for it
 * alone, is its inputs' `query_failed` (asked again next cycle): the cycle's recent reads decide
 * whether the cycle fails.
 */
export function sendRead(source: MetricSource, read: HistoryRead): Promise<HistoryReadings> {
  const readings = source.readHistory(read.inputs, read.range);
  if (read.kind !== 'older') return readings;
  return readings.catch((error: unknown): HistoryReadings => ({ history: [], problems: read.inputs.map((input) => ({ input, reason: 'query_failed', message: messageOf(error) })) }));
}

function failedKeys(readings: HistoryReadings): Set<string> {
  return new Set(readings.problems.filter((p) => p.reason === 'query_failed').map((p) => inputKey(p.input)));
}

/** Grid points of the window, both ends included. */
function windowLength(config: Config): number {
  return Math.round(config.forecast.history / config.forecast.step) + 1;
}

/** The first grid time of the window ending at `gridEndMs`. */
function windowStartOf(config: Config, gridEndMs: number): number {
  return gridEndMs - (windowLength(config) - 1) * config.forecast.step * 1000;
}

/** The finite points of a series at or after `fromMs`, with their timestamps. */
export function finiteSamples(series: RegularSeries, fromMs = Number.NEGATIVE_INFINITY): { timestampMs: number; value: number }[] {
  const out: { timestampMs: number; value: number }[] = [];
  const first = Math.max(0, Math.ceil((fromMs - series.startMs) / (series.stepSeconds * 1000)));
  for (let i = first; i < series.values.length; i++) {
    const value = series.values[i]!;
    if (Number.isFinite(value)) out.push({ timestampMs: series.startMs + i * series.stepSeconds * 1000, value });
  }
  return out;
}
