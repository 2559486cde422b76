import type { InputRef } from './inputs.js';

/**
 * What values a series can take, and which of them are plausible: the one definition shared by
 * the source side (samples refused before they reach the history models fit on), the forecast
 * sanity check (forecasts replaced by the fallback) and every surface that serves a value.
 */

/** The closed interval a series' values live in. */
export interface ValueBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * Largest magnitude any surface serves (9 × 10^12): it keeps `value × 1000` an exact integer in a
 * double (below 2^53) and far inside the int64 milli value an HPA computes. A value above it is a
 * broken query or a broken model, never a queue depth.
 */
export const maxServableMagnitude = 9e12;

/** The kinds of domain a series can have (`foresight backtest --domain` names them too). */
export const valueDomains = {
  /** Counts, rates, durations, sizes: queue depth, enqueue rate, wait, bytes per second. */
  nonnegative: { min: 0, max: maxServableMagnitude },
  /** Utilisations and error rates. */
  percent: { min: 0, max: 100 },
  /** Anything finite (a series of unknown meaning). */
  finite: { min: -maxServableMagnitude, max: maxServableMagnitude },
} as const satisfies Readonly<Record<string, ValueBounds>>;

/** The name of a kind of domain. */
export type ValueDomain = keyof typeof valueDomains;

/** The domain of an input: counts, rates, durations and sizes are ≥ 0; percentages are in [0, 100]. */
export function domainOf(input: InputRef): ValueBounds {
  const percent = input.kind !== 'queue' && input.kind !== 'replicas' && input.metric.endsWith('_percent');
  return percent ? valueDomains.percent : valueDomains.nonnegative;
}

/** A point forecast's value and quantiles clamped into `bounds`, keeping p10 ≤ value ≤ p90. */
export function clampQuantiles(bounds: ValueBounds, value: number, p10: number, p90: number): { value: number; p10: number; p90: number } {
  const clamp = (v: number) => Math.min(bounds.max, Math.max(bounds.min, v));
  const point = clamp(value);
  // A missing quantile collapses onto the point rather than dropping the forecast.
  return { value: point, p10: Number.isFinite(p10) ? Math.min(point, clamp(p10)) : point, p90: Number.isFinite(p90) ? Math.max(point, clamp(p90)) : point };
}

/**
 * Rounding slack at the edges of a domain: `rate()` can return −1e-12 and a utilisation 100.3 %.
 * Values within it are clamped onto the edge; values beyond it are outside the domain.
 */
function edgeSlack(bounds: ValueBounds): number {
  return bounds.max < maxServableMagnitude ? 0.01 * (bounds.max - bounds.min) : 1e-9;
}

/** Why a value was refused. */
export const implausibleReasons = ['not_finite', 'out_of_domain', 'implausible_jump'] as const;
export type ImplausibleReason = (typeof implausibleReasons)[number];

/** A value accepted (possibly clamped onto its domain's edge), or why it was refused. */
export type Checked = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly reason: ImplausibleReason };

/** `value` if it is finite and in the domain (clamped within the rounding slack); else why not. */
export function checkDomain(bounds: ValueBounds, value: number): Checked {
  if (!Number.isFinite(value)) return { ok: false, reason: 'not_finite' };
  const slack = edgeSlack(bounds);
  if (value < bounds.min - slack || value > bounds.max + slack) return { ok: false, reason: 'out_of_domain' };
  return { ok: true, value: Math.min(bounds.max, Math.max(bounds.min, value)) };
}

/** The 0.5 % and 99.5 % quantiles of a history (see {@link robustRange}), and about how many finite points it held. */
export interface RobustRange {
  readonly low: number;
  readonly high: number;
  readonly finitePoints: number;
}

/**
 * The robust range of a history: its 0.5 % and 99.5 % quantiles (its extremes below 200 points), so
 * that a few broken samples in a week do not widen it. The history may come in two parts (what is
 * held and a fresh read), taken as one series without copying them. The service needs every series'
 * range every cycle (a week at 1 minute is 10,000 points), and sorting each history was most of a
 * cycle's CPU at 1,000 queues: so the quantiles are those of evenly spaced points, at most about
 * 2,048 of them (all of a shorter history), found without sorting. Undefined with no finite point.
 */
export function robustRange(history: ArrayLike<number>, more?: ArrayLike<number>): RobustRange | undefined {
  const parts = more === undefined || more.length === 0 ? [history] : [history, more];
  const length = history.length + (more?.length ?? 0);
  const stride = Math.max(1, Math.floor(length / maxQuantilePoints));
  let count = 0;
  eachStrided(parts, stride, () => {
    count++;
  });
  if (count === 0) return undefined;
  const last = count - 1;
  const low = kthSmallest(parts, stride, Math.floor(0.005 * last) + 1, 1);
  const high = -kthSmallest(parts, stride, last - Math.ceil(0.995 * last) + 1, -1);
  return { low, high, finitePoints: count * stride };
}

/**
 * The plausible range of a series given the robust range of its history: its domain intersected
 * with [low − k·s, high + k·s], s being the range's width (at least `floor`, so a flat history still
 * admits ordinary movement). `spreads` (k) says how far beyond what the history held is still
 * believable: the source uses a wide margin (a reading a thousand times the week's range is not a
 * measurement), forecasts a narrow one. With no finite history, the domain alone.
 */
export function boundsOfRange(bounds: ValueBounds, range: RobustRange | undefined, spreads: number, floor = 1): ValueBounds {
  if (range === undefined) return bounds;
  const { low, high } = range;
  const margin = spreads * Math.max(high - low, floor, 1e-3 * Math.abs(high));
  return { min: Math.max(bounds.min, low - margin), max: Math.min(bounds.max, high + margin) };
}

/** {@link boundsOfRange} of a history's {@link robustRange}. */
export function plausibleBounds(bounds: ValueBounds, history: ArrayLike<number>, spreads: number, floor = 1): ValueBounds {
  return boundsOfRange(bounds, robustRange(history), spreads, floor);
}

/** Points of a history {@link robustRange} takes its quantiles from, evenly spaced (about; at most twice this). */
const maxQuantilePoints = 1024;

/** Calls `each` with every `stride`-th finite value of the parts taken end to end. */
function eachStrided(parts: readonly ArrayLike<number>[], stride: number, each: (value: number) => void): void {
  let offset = 0;
  for (const part of parts) {
    // The first index of this part that is a multiple of the stride in the joined series.
    for (let i = (stride - (offset % stride)) % stride; i < part.length; i += stride) {
      const value = part[i]!;
      if (Number.isFinite(value)) each(value);
    }
    offset += part.length;
  }
}

/**
 * The k-th smallest of the strided finite values times `sign` (sign −1 gives minus the k-th
 * largest), in one pass that keeps the k smallest seen so far in a max-heap: n·log k at worst, and
 * about n comparisons when k is small against n (most values are not among the k smallest).
 */
function kthSmallest(parts: readonly ArrayLike<number>[], stride: number, k: number, sign: 1 | -1): number {
  const heap = new Float64Array(k);
  let size = 0;
  const siftDown = (from: number) => {
    let i = from;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let largest = i;
      if (left < size && heap[left]! > heap[largest]!) largest = left;
      if (right < size && heap[right]! > heap[largest]!) largest = right;
      if (largest === i) return;
      [heap[i], heap[largest]] = [heap[largest]!, heap[i]!];
      i = largest;
    }
  };
  eachStrided(parts, stride, (raw) => {
    const v = sign * raw;
    if (size < k) {
      // Sift up.
      let i = size++;
      heap[i] = v;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent]! >= heap[i]!) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    } else if (v < heap[0]!) {
      heap[0] = v;
      siftDown(0);
    }
  });
  return heap[0]!;
}

/** How far beyond its history's range a new sample may be before it is refused as a broken reading. */
export const sampleJumpSpreads = 1000;

/** How far beyond its history's range a forecast may be (plus what the horizon adds) before the fallback replaces it. */
export const forecastSpreads = 1;

/**
 * A check of new samples of `input` against its domain and against the history they join: a
 * broken exporter or query (−1e15, 9.5e12 for a queue that held 24–67) is refused here, before any
 * model fits on it. The plausible range is computed once, for every sample of a read; the caller
 * may pass the history's robust range instead of the history (the engine keeps them per series).
 */
export function sampleChecker(input: InputRef, history: ArrayLike<number> | RobustRange | undefined): (value: number) => Checked {
  const bounds = domainOf(input);
  const range = history === undefined || 'low' in history ? history : robustRange(history);
  const plausible = boundsOfRange(bounds, range, sampleJumpSpreads);
  return (value) => {
    const inDomain = checkDomain(bounds, value);
    if (!inDomain.ok) return inDomain;
    if (inDomain.value < plausible.min || inDomain.value > plausible.max) return { ok: false, reason: 'implausible_jump' };
    return inDomain;
  };
}

/**
 * The value a surface may serve for `input` (external metrics, KEDA, /metrics): finite, in the
 * domain (clamped onto its edge) and within {@link maxServableMagnitude}; undefined otherwise,
 * which every surface treats as "no value", never as zero.
 */
export function servableValue(input: InputRef | undefined, value: number): number | undefined {
  if (!Number.isFinite(value) || Math.abs(value) > maxServableMagnitude) return undefined;
  if (input === undefined) return value;
  const bounds = domainOf(input);
  return Math.min(bounds.max, Math.max(bounds.min, value));
}
