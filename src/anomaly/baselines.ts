/**
 * Building blocks of the robust and seasonal detectors: what a series is expected to be (a
 * trailing median, the same time on earlier days or weeks), how far off a point is in robust
 * units, and how unusual that distance is compared with the series' own recent past. Each block
 * is a small stateful object updated once per point, in time order, and reads only the past.
 */
import { maxWindowPoints, PointHistory, TimeWindowMax, TimeWindowQuantiles, TypicalInterval } from './sliding-window.js';

/** 1.4826 · MAD estimates the standard deviation of normally distributed data. */
export const madToSigma = 1.4826;

/** The median of the values of the previous `spanMs` (excluding the current point). */
export class TrailingMedian {
  readonly #window: TimeWindowQuantiles;
  readonly #minPoints: number;

  constructor(spanMs: number, minPoints: number) {
    this.#window = new TimeWindowQuantiles(spanMs);
    this.#minPoints = minPoints;
  }

  /** The median before `timeMs` (NaN with fewer than `minPoints` points in the window). */
  expected(timeMs: number): number {
    this.#window.advance(timeMs);
    return this.#window.size >= this.#minPoints ? this.#window.quantile(0.5) : Number.NaN;
  }

  /** Adds the point observed at `timeMs` (after scoring it). */
  add(timeMs: number, value: number): void {
    this.#window.add(timeMs, value);
  }
}

/**
 * The median of the values at the same time `lagsMs` ago ("same time yesterday", "same time
 * last week"). A lag counts only when a point lies at most one typical interval before the
 * lagged time, so a gap is never bridged by a stale value.
 */
export class SeasonalMedian {
  readonly #lagsMs: readonly number[];
  readonly #history: PointHistory;
  readonly #interval = new TypicalInterval();
  readonly #found: number[] = [];

  constructor(lagsMs: readonly number[]) {
    this.#lagsMs = lagsMs;
    // A day of slack beyond the longest lag covers any look-up tolerance (one typical interval).
    this.#history = new PointHistory(lagsMs.length === 0 ? 0 : Math.max(...lagsMs) + 86_400_000);
  }

  /** The median of the lagged values that exist (NaN when none does, or with no lags). */
  expected(timeMs: number): number {
    if (this.#lagsMs.length === 0) return Number.NaN;
    // The history keeps a point per few minutes at most: a finer series is looked up that coarsely.
    const tolerance = Math.max(this.#interval.medianMs, this.#history.minSpacingMs);
    if (!(tolerance > 0)) return Number.NaN;
    this.#found.length = 0;
    for (const lag of this.#lagsMs) {
      const value = this.#history.valueAt(timeMs - lag, tolerance);
      if (!Number.isNaN(value)) this.#found.push(value);
    }
    const count = this.#found.length;
    if (count === 0) return Number.NaN;
    this.#found.sort((a, b) => a - b);
    const mid = count >> 1;
    return count % 2 === 1 ? this.#found[mid]! : (this.#found[mid - 1]! + this.#found[mid]!) / 2;
  }

  /** Adds the point observed at `timeMs` (after scoring it). */
  add(timeMs: number, value: number): void {
    this.#history.add(timeMs, value);
    this.#interval.add(timeMs);
  }
}

/**
 * The robust spread of a residual series: max(1.4826 · median |r| over the previous `spanMs`,
 * 0.5 · mean |r| over the whole past). The median alone is zero for series that are mostly flat
 * (counts that are often 0); the long mean keeps one unusual burst from looking infinite.
 */
export class ResidualScale {
  readonly #window: TimeWindowQuantiles;
  readonly #minPoints: number;
  #sumAbs = 0;
  #count = 0;

  constructor(spanMs: number, minPoints: number) {
    // Residual magnitudes: 32 bits is plenty for their median (ValueBits).
    this.#window = new TimeWindowQuantiles(spanMs, maxWindowPoints, 32);
    this.#minPoints = minPoints;
  }

  /** The spread at `timeMs` (NaN with fewer than `minPoints` residuals in the window). */
  scale(timeMs: number, level: number): number {
    this.#window.advance(timeMs);
    if (this.#window.size < this.#minPoints) return Number.NaN;
    // A tiny relative floor: a series flat at 7,000,000 moving by 1e-9 is not an event.
    return Math.max(madToSigma * this.#window.quantile(0.5), (0.5 * this.#sumAbs) / this.#count, 1e-9 * Math.abs(level), 1e-12);
  }

  /** Adds the residual of the point observed at `timeMs` (after scoring it). */
  add(timeMs: number, residual: number): void {
    const magnitude = Math.abs(residual);
    this.#window.add(timeMs, magnitude);
    this.#sumAbs += magnitude;
    this.#count++;
  }
}

/**
 * Standardises a statistic by its own recent behaviour: (x − median) / (1.4826 · median |x − m|)
 * over the previous `spanMs`. Used for smoothed residuals, whose spread depends on how correlated
 * the residuals are and is therefore measured rather than assumed.
 */
export class SelfStandardizer {
  readonly #values: TimeWindowQuantiles;
  readonly #deviations: TimeWindowQuantiles;
  readonly #minPoints: number;

  constructor(spanMs: number, minPoints: number) {
    // Smoothed standardised residuals and their deviations: 32 bits (ValueBits).
    this.#values = new TimeWindowQuantiles(spanMs, maxWindowPoints, 32);
    this.#deviations = new TimeWindowQuantiles(spanMs, maxWindowPoints, 32);
    this.#minPoints = minPoints;
  }

  /** The standardised value of `x` at `timeMs` (NaN during warm-up); then adds `x`. */
  next(timeMs: number, x: number): number {
    this.#values.advance(timeMs);
    this.#deviations.advance(timeMs);
    let out = Number.NaN;
    if (this.#values.size >= this.#minPoints) {
      const median = this.#values.quantile(0.5);
      out = (x - median) / Math.max(madToSigma * this.#deviations.quantile(0.5), 1e-12);
      this.#deviations.add(timeMs, Math.abs(x - median));
    } else if (this.#values.size > 0) {
      this.#deviations.add(timeMs, Math.abs(x - this.#values.quantile(0.5)));
    }
    this.#values.add(timeMs, x);
    return out;
  }
}

/**
 * How a deviation compares with the largest one of the previous `spanMs`: d / (d + reference),
 * where reference = max(largest previous deviation, floor). 0.5 means "as large as anything
 * recently seen" (and at least the floor), 0.6 means 1.5 × that. The floor is the smallest
 * deviation that may ever count, so a quiet series does not alert on its first small wobble.
 */
export class RecordRatio {
  readonly #max: TimeWindowMax;
  readonly #floor: number;

  constructor(spanMs: number, floor: number) {
    this.#max = new TimeWindowMax(spanMs);
    this.#floor = floor;
  }

  /** The ratio of |d| at `timeMs` (NaN when d is NaN); then remembers |d|. */
  next(timeMs: number, d: number): number {
    const record = this.#max.max(timeMs);
    if (Number.isNaN(d)) return Number.NaN;
    const magnitude = Math.abs(d);
    const reference = Math.max(Number.isNaN(record) ? this.#floor : record, this.#floor);
    this.#max.add(timeMs, magnitude);
    return magnitude === Number.POSITIVE_INFINITY ? 1 : magnitude / (magnitude + reference);
  }
}

/**
 * Whether a value leaves the range of the previous `spanMs` by more than `tolerance` × the width
 * of that range: 0 inside, else ±(0.5 + (excess − tolerance)) capped at ±1, negative below the
 * range. This catches new highs and lows that residual statistics miss when a series drifts
 * there slowly.
 */
export class RangeBreak {
  readonly #max: TimeWindowMax;
  readonly #negatedMin: TimeWindowMax;
  readonly #tolerance: number;
  readonly #minHistoryMs: number;
  #firstMs = Number.NaN;

  /** `minHistoryMs`: how much history the range must cover before it is used (a range of two hours says little). */
  constructor(spanMs: number, tolerance: number, minHistoryMs = 0) {
    this.#max = new TimeWindowMax(spanMs);
    this.#negatedMin = new TimeWindowMax(spanMs);
    this.#tolerance = tolerance;
    this.#minHistoryMs = minHistoryMs;
  }

  /** The signed range-break score of `value` at `timeMs`; then remembers the value. */
  next(timeMs: number, value: number): number {
    const high = this.#max.max(timeMs);
    const low = -this.#negatedMin.max(timeMs);
    this.#max.add(timeMs, value);
    this.#negatedMin.add(timeMs, -value);
    if (Number.isNaN(this.#firstMs)) this.#firstMs = timeMs;
    if (timeMs - this.#firstMs < this.#minHistoryMs || !(high > low)) return 0;
    const above = value > high;
    const excess = (above ? value - high : low - value) / (high - low);
    if (!(excess > this.#tolerance)) return 0;
    const score = Math.min(1, 0.5 + (excess - this.#tolerance));
    return above ? score : -score;
  }
}

/** What {@link AlertRest} decided about one score. */
export interface RestDecision {
  /** True when the score repeats an alert of the rest period without beating it. */
  readonly heldBack: boolean;
  /** Time of the alert it repeats (when held back). */
  readonly alertMs: number;
}

/**
 * Alert de-duplication: after a score reaches `level`, the next `restMs` only let through scores
 * that beat the highest one so far by more than `margin`; the rest are held back. One incident
 * then raises one alert (and one more each time it clearly gets worse), the way Alertmanager
 * groups repeats, instead of an alert on every point while it lasts.
 */
export class AlertRest {
  readonly #restMs: number;
  readonly #level: number;
  readonly #margin: number;
  #alertMs = Number.NEGATIVE_INFINITY;
  #alertScore = 0;

  constructor(restMs: number, level: number, margin: number) {
    this.#restMs = restMs;
    this.#level = level;
    this.#margin = margin;
  }

  /** Whether the score at `timeMs` is held back, updating the rest period. */
  decide(timeMs: number, score: number): RestDecision {
    if (timeMs - this.#alertMs < this.#restMs) {
      if (score > this.#alertScore + this.#margin) {
        this.#alertScore = score;
        this.#alertMs = timeMs;
        return { heldBack: false, alertMs: timeMs };
      }
      return { heldBack: true, alertMs: this.#alertMs };
    }
    if (score >= this.#level) {
      this.#alertMs = timeMs;
      this.#alertScore = score;
    }
    return { heldBack: false, alertMs: this.#alertMs };
  }
}

/**
 * How long a series has been stuck at one value (consecutive points equal within 1e-9 of the
 * level), compared with the longest run that ended in the previous `spanMs`: n / (n + reference)
 * with reference = max(that record, `floorPoints`), 0 while the value moves. A metric that stops
 * moving (traffic gone to zero, an exporter repeating its last value) is an incident that
 * residuals can miss when the stuck value is an ordinary one, such as zero at night.
 *
 * A run is reported once: beyond 1.1 × the reference (score 0.524) it counts as known and scores
 * 0.5, "as long as the record", so an outage of a day does not alert again each time it grows by
 * a few percent (the alert rest would let each "clearly worse" step through). A series that has not moved in the window (a constant, or one stuck
 * since before the window) has no record and scores 0.
 */
export class StuckRun {
  readonly #max: TimeWindowMax;
  readonly #floorPoints: number;
  #run = 0;
  #last = Number.NaN;

  constructor(spanMs: number, floorPoints: number) {
    this.#max = new TimeWindowMax(spanMs);
    this.#floorPoints = floorPoints;
  }

  /** The stuck-run score at `timeMs` for `value`; then remembers the value. */
  next(timeMs: number, value: number): number {
    const record = this.#max.max(timeMs);
    const first = Number.isNaN(this.#last);
    const same = Math.abs(value - this.#last) <= 1e-9 * Math.abs(value);
    this.#last = value;
    if (!same) {
      // Only finished runs (of any length, 0 included) become the record, so a run in progress
      // is compared with earlier ones; the first point ends no run.
      if (!first) this.#max.add(timeMs, this.#run);
      this.#run = 0;
      return 0;
    }
    this.#run++;
    if (Number.isNaN(record)) return 0;
    const reference = Math.max(record, this.#floorPoints);
    return this.#run > 1.1 * reference ? 0.5 : this.#run / (this.#run + reference);
  }
}
