/**
 * The small data structures every streaming detector is built from: a time window with
 * quantiles, a time window maximum, and a bounded history for "same time last week" look-ups.
 * All of them are updated in O(log w) or amortised O(1) per point (plus an O(w) typed-array
 * shift for the sorted window, which is a memmove and cheap at the window sizes used here).
 */

const weekMs = 7 * 86_400_000;

/**
 * The most points a time window keeps: a week at 5 minutes, the resolution the detectors' settings
 * were chosen at (NAB). A finer series keeps one point per span / 2,016 in its long windows (the
 * 3-day spread every 2 minutes, the 7-day standardisation every 5, the 3-week seasonal history every
 * 5), so that their memory stays bounded whatever the step: at 1 minute the adaptive detector held
 * 1.4 MB per series after a week and 3.8 MB after three, and 1,000 queues watch about 1,200 series.
 * Series at 5 minutes or coarser keep every point; short windows (the 6-hour median) are unaffected.
 */
export const maxWindowPoints = 2016;

/** The next size of a full buffer: a quarter more, so that a window that stops growing wastes little. */
function grownCapacity(capacity: number): number {
  return Math.max(capacity + 4, Math.ceil(capacity * 1.25));
}

/**
 * How many bits a window holds each value in. 64 for raw readings: a baseline rounded to 32 bits
 * would differ from a noiseless series by its rounding, which a zero spread turns into a deviation
 * (measured: an alert on NAB's art_daily_no_noise). 32 for residuals and scores, whose medians and
 * spreads need nowhere near seven digits: they are most of a detector's bytes.
 */
export type ValueBits = 32 | 64;

type Values = Float32Array | Float64Array;
const allocate = (bits: ValueBits, length: number): Values => (bits === 32 ? new Float32Array(length) : new Float64Array(length));

/** A sorted multiset of numbers with exact quantiles (of their 32-bit roundings, in 32 bits). */
export class SortedValues {
  #values: Values;
  #size = 0;
  readonly #bits: ValueBits;

  constructor(initialCapacity = 64, bits: ValueBits = 64) {
    this.#bits = bits;
    this.#values = allocate(bits, Math.max(4, initialCapacity));
  }

  /** How many values it holds. */
  get size(): number {
    return this.#size;
  }

  /** Adds one value. */
  add(number: number): void {
    // Rounded first, so that the search and the stored value agree (rounding keeps the order).
    const value = this.#bits === 32 ? Math.fround(number) : number;
    if (this.#size === this.#values.length) {
      const grown = allocate(this.#bits, grownCapacity(this.#values.length));
      grown.set(this.#values);
      this.#values = grown;
    }
    const at = this.#lowerBound(value);
    this.#values.copyWithin(at + 1, at, this.#size);
    this.#values[at] = value;
    this.#size++;
  }

  /** Removes one occurrence of `value` (a no-op when it is not there). */
  remove(number: number): void {
    const value = this.#bits === 32 ? Math.fround(number) : number;
    const at = this.#lowerBound(value);
    if (at < this.#size && this.#values[at] === value) {
      this.#values.copyWithin(at, at + 1, this.#size);
      this.#size--;
    }
  }

  /** Bytes its buffer takes. */
  get heldBytes(): number {
    return this.#values.byteLength;
  }

  /** Linear-interpolation quantile (type 7, as numpy); NaN when empty. */
  quantile(q: number): number {
    if (this.#size === 0) return Number.NaN;
    const position = (this.#size - 1) * q;
    const below = Math.floor(position);
    const above = Math.min(this.#size - 1, below + 1);
    return this.#values[below]! + (position - below) * (this.#values[above]! - this.#values[below]!);
  }

  #lowerBound(value: number): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#values[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A first-in first-out queue of (time, value) pairs over two growable typed arrays. */
class TimedQueue {
  #times = new Float64Array(64);
  #values: Values;
  #head = 0;
  #tail = 0;
  readonly #bits: ValueBits;

  constructor(bits: ValueBits = 64) {
    this.#bits = bits;
    this.#values = allocate(bits, 64);
  }

  get length(): number {
    return this.#tail - this.#head;
  }

  /** Bytes its two buffers take. */
  get heldBytes(): number {
    return this.#times.byteLength + this.#values.byteLength;
  }

  push(timeMs: number, value: number): void {
    if (this.#tail === this.#times.length) this.#compactOrGrow();
    this.#times[this.#tail] = timeMs;
    this.#values[this.#tail] = value;
    this.#tail++;
  }

  /** Time of the oldest entry (NaN when empty). */
  oldestTime(): number {
    return this.#head < this.#tail ? this.#times[this.#head]! : Number.NaN;
  }

  /** Removes and returns the oldest value. */
  shift(): number {
    const value = this.#values[this.#head]!;
    this.#head++;
    return value;
  }

  /**
   * The value of the latest entry at or before `targetMs` (times must not decrease), if that entry
   * is at most `toleranceMs` older than the target; NaN otherwise. A binary search.
   */
  valueAtOrBefore(targetMs: number, toleranceMs: number): number {
    let lo = this.#head;
    let hi = this.#tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#times[mid]! <= targetMs) lo = mid + 1;
      else hi = mid;
    }
    const index = lo - 1;
    if (index < this.#head) return Number.NaN;
    return targetMs - this.#times[index]! <= toleranceMs ? this.#values[index]! : Number.NaN;
  }

  #compactOrGrow(): void {
    const length = this.length;
    // Move the entries to the front when at least an eighth of the buffer is free before the head
    // (a memmove, amortised over that many pushes); otherwise grow by a quarter. A window at its
    // bound then holds at most about 1.4 times its entries; doubling held up to 2.7 times (a
    // three-week history of 6,337 points in 16,384 places).
    if (this.#head * 8 >= this.#times.length) {
      this.#times.copyWithin(0, this.#head, this.#tail);
      this.#values.copyWithin(0, this.#head, this.#tail);
    } else {
      const capacity = grownCapacity(this.#times.length);
      const times = new Float64Array(capacity);
      const values = allocate(this.#bits, capacity);
      times.set(this.#times.subarray(this.#head, this.#tail));
      values.set(this.#values.subarray(this.#head, this.#tail));
      this.#times = times;
      this.#values = values;
    }
    this.#head = 0;
    this.#tail = length;
  }
}

/**
 * The values of the last `spanMs` milliseconds, with quantiles. A value added at time t is dropped
 * by `advance(nowMs)` once t <= nowMs − spanMs, so after `advance(t)` the window holds exactly the
 * values from (t − span, t) that were added before: "the previous span, excluding now".
 */
export class TimeWindowQuantiles {
  readonly spanMs: number;
  readonly #queue: TimedQueue;
  readonly #sorted: SortedValues;
  readonly #minSpacingMs: number;
  #lastKeptMs = Number.NEGATIVE_INFINITY;

  /**
   * `maxPoints` bounds what the window holds: a value is kept only when it comes at least
   * spanMs / maxPoints after the last one kept (see {@link maxWindowPoints}). `bits`: see {@link ValueBits}.
   */
  constructor(spanMs: number, maxPoints = maxWindowPoints, bits: ValueBits = 64) {
    this.spanMs = spanMs;
    this.#minSpacingMs = spanMs / maxPoints;
    this.#queue = new TimedQueue(bits);
    this.#sorted = new SortedValues(64, bits);
  }

  /** How many values the window holds. */
  get size(): number {
    return this.#sorted.size;
  }

  /** Drops the values that are too old at `nowMs`. */
  advance(nowMs: number): void {
    while (this.#queue.length > 0 && this.#queue.oldestTime() <= nowMs - this.spanMs) this.#sorted.remove(this.#queue.shift());
  }

  /** Adds a value observed at `timeMs` (times must not decrease), unless it comes too soon after the last one kept. */
  add(timeMs: number, value: number): void {
    if (timeMs - this.#lastKeptMs < this.#minSpacingMs) return;
    this.#lastKeptMs = timeMs;
    this.#queue.push(timeMs, value);
    this.#sorted.add(value);
  }

  /** A quantile of the values in the window (NaN when empty). */
  quantile(q: number): number {
    return this.#sorted.quantile(q);
  }

  /** Bytes its buffers take. */
  get heldBytes(): number {
    return this.#queue.heldBytes + this.#sorted.heldBytes;
  }
}

/**
 * The maximum of the values of the last `spanMs` milliseconds (a monotonic deque: amortised O(1)).
 * The same "previous span, excluding now" convention as {@link TimeWindowQuantiles}.
 */
export class TimeWindowMax {
  readonly spanMs: number;
  #times: number[] = [];
  #values: number[] = [];
  #head = 0;

  constructor(spanMs: number) {
    this.spanMs = spanMs;
  }

  /** The maximum at `nowMs` of the values added before (NaN when there is none). */
  max(nowMs: number): number {
    while (this.#head < this.#times.length && this.#times[this.#head]! <= nowMs - this.spanMs) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#values = this.#values.slice(this.#head);
      this.#head = 0;
    }
    return this.#head < this.#values.length ? this.#values[this.#head]! : Number.NaN;
  }

  /** Adds a value observed at `timeMs` (times must not decrease; NaN is ignored). */
  add(timeMs: number, value: number): void {
    if (Number.isNaN(value)) return;
    // Older values that are not larger can never be the maximum again.
    while (this.#values.length > this.#head && this.#values[this.#values.length - 1]! <= value) {
      this.#values.pop();
      this.#times.pop();
    }
    this.#times.push(timeMs);
    this.#values.push(value);
  }
}

/**
 * The points of the last `spanMs` milliseconds in time order, for look-ups such as "the value at
 * this time last week". Look-ups are binary searches.
 */
export class PointHistory {
  readonly spanMs: number;
  /** The least time between two points kept: look-ups need at least this tolerance to find one. */
  readonly minSpacingMs: number;
  readonly #queue = new TimedQueue();
  #lastKeptMs = Number.NEGATIVE_INFINITY;

  /** `maxPoints` bounds what it holds, as in {@link TimeWindowQuantiles}; by default a point per 5 minutes at most beyond a week's span. */
  constructor(spanMs: number, maxPoints = maxWindowPoints * Math.max(1, spanMs / weekMs)) {
    this.spanMs = spanMs;
    this.minSpacingMs = maxPoints > 0 ? spanMs / maxPoints : 0;
  }

  /** Appends a point (times must increase) unless it comes too soon after the last one kept, and forgets points older than the span. */
  add(timeMs: number, value: number): void {
    if (timeMs - this.#lastKeptMs < this.minSpacingMs) return;
    this.#lastKeptMs = timeMs;
    while (this.#queue.length > 0 && this.#queue.oldestTime() < timeMs - this.spanMs) this.#queue.shift();
    this.#queue.push(timeMs, value);
  }

  /**
   * The value of the last point at or before `targetMs`, if that point is at most `toleranceMs`
   * older than the target; NaN otherwise (no data near that time).
   */
  valueAt(targetMs: number, toleranceMs: number): number {
    return this.#queue.valueAtOrBefore(targetMs, toleranceMs);
  }

  /** How many points it holds, and the bytes its buffers take. */
  get size(): number {
    return this.#queue.length;
  }
  get heldBytes(): number {
    return this.#queue.heldBytes;
  }
}

/**
 * The typical interval between points: the median of the last `count` positive intervals. Used
 * as the tolerance of seasonal look-ups, so that a gap is not bridged by a stale value.
 */
export class TypicalInterval {
  readonly #recent: number[] = [];
  readonly #sorted = new SortedValues(32);
  readonly #count: number;
  #lastMs = Number.NaN;

  constructor(count = 31) {
    this.#count = count;
  }

  /** Records the time of a new point. */
  add(timeMs: number): void {
    const interval = timeMs - this.#lastMs;
    this.#lastMs = timeMs;
    if (!(interval > 0)) return;
    this.#recent.push(interval);
    this.#sorted.add(interval);
    if (this.#recent.length > this.#count) this.#sorted.remove(this.#recent.shift()!);
  }

  /** The median interval so far (NaN before the second point). */
  get medianMs(): number {
    return this.#sorted.quantile(0.5);
  }
}
