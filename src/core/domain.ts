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

/**
 * The plausible range of a series given its recent history: its domain intersected with
 * [low − k·s, high + k·s], where low and high are the history's 0.5 % and 99.5 % quantiles (its
 * extremes below 200 points, so a few broken samples in a week do not widen it; taken on at most
 * about 2,048 evenly spaced points) and s their
 * distance (at least `floor`, so a flat history still admits ordinary movement). `spreads` (k)
 * says how far beyond what the history held is still believable: the source uses a wide margin (a
 * reading a thousand times the week's range is not a measurement), forecasts a narrow one. With no
 * finite history, the domain alone.
 */
export function plausibleBounds(bounds: ValueBounds, history: ArrayLike<number>, spreads: number, floor = 1): ValueBounds {
  // The service asks for every series' bounds every cycle (a week at 1 minute is 10,000 points),
  // and sorting each history was most of a cycle's CPU at 1,000 queues. So the quantiles are those
  // of evenly spaced points, at most about 2,048 of them (all of a shorter history), found without
  // sorting.
  const stride = Math.max(1, Math.floor(history.length / maxQuantilePoints));
  let count = 0;
  for (let i = 0; i < history.length; i += stride) if (Number.isFinite(history[i]!)) count++;
  if (count === 0) return bounds;
  const last = count - 1;
  const low = kthSmallest(history, stride, Math.floor(0.005 * last) + 1, 1);
  const high = -kthSmallest(history, stride, last - Math.ceil(0.995 * last) + 1, -1);
  const margin = spreads * Math.max(high - low, floor, 1e-3 * Math.abs(high));
  return { min: Math.max(bounds.min, low - margin), max: Math.min(bounds.max, high + margin) };
}

/** Points of a history {@link plausibleBounds} takes its quantiles from, evenly spaced (about; at most twice this). */
const maxQuantilePoints = 1024;

/**
 * The k-th smallest finite value of every `stride`-th value times `sign` (sign −1 gives minus the
 * k-th largest), in one pass that keeps the k smallest seen so far in a max-heap: n·log k at worst,
 * and about n comparisons when k is small against n (most values are not among the k smallest).
 */
function kthSmallest(values: ArrayLike<number>, stride: number, k: number, sign: 1 | -1): number {
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
  for (let n = 0; n < values.length; n += stride) {
    const raw = values[n]!;
    if (!Number.isFinite(raw)) continue;
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
  }
  return heap[0]!;
}

/** How far beyond its history's range a new sample may be before it is refused as a broken reading. */
export const sampleJumpSpreads = 1000;

/** How far beyond its history's range a forecast may be (plus what the horizon adds) before the fallback replaces it. */
export const forecastSpreads = 1;

/**
 * A check of new samples of `input` against its domain and against the history they join: a
 * broken exporter or query (−1e15, 9.5e12 for a queue that held 24–67) is refused here, before any
 * model fits on it. The plausible range is computed once, for every sample of a read.
 */
export function sampleChecker(input: InputRef, history: ArrayLike<number>): (value: number) => Checked {
  const bounds = domainOf(input);
  const plausible = plausibleBounds(bounds, history, sampleJumpSpreads);
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
