import { type ImplausibleReason, type RobustRange, robustRange, sampleChecker } from './domain.js';
import type { InputRef } from './inputs.js';
import type { RegularSeries } from './series.js';

/** Samples refused in one read, by reason. */
export type RejectedSamples = ReadonlyMap<ImplausibleReason, number>;

/** A read's series with its refused samples turned into gaps, and how many were refused why. */
export interface GuardedSeries {
  readonly series: RegularSeries;
  readonly rejected: RejectedSamples;
}

/**
 * Refuses the samples of a fresh read that no model may fit on: outside the input's domain
 * (negative depth, a percentage above 100) or an implausible jump from what the history and the
 * read itself hold (core's `sampleChecker`). A refused sample becomes a gap (NaN), which every model
 * bridges, so a broken exporter leaves no trace in the history once it recovers. `previous` is the
 * history the read joins (none on the first read); the read's own points count too, so the first
 * read of a week is judged on its robust range. A caller that keeps the robust range of `previous`
 * and the read together (the engine's history window) passes it as `range` instead.
 */
export function guardSeries(input: InputRef, fresh: RegularSeries, previous: ArrayLike<number> | undefined, range?: RobustRange): GuardedSeries {
  const check = sampleChecker(input, range ?? (previous === undefined ? robustRange(fresh.values) : robustRange(previous, fresh.values)));
  const values = new Float64Array(fresh.values.length);
  const rejected = new Map<ImplausibleReason, number>();
  for (let i = 0; i < values.length; i++) {
    const value = fresh.values[i]!;
    // A gap stays a gap: the source already reports inputs without any finite point.
    if (Number.isNaN(value)) {
      values[i] = Number.NaN;
      continue;
    }
    const checked = check(value);
    values[i] = checked.ok ? checked.value : Number.NaN;
    if (!checked.ok) rejected.set(checked.reason, (rejected.get(checked.reason) ?? 0) + 1);
  }
  return { series: { ...fresh, values }, rejected };
}

/**
 * A latest reading checked the same way, against the history kept for the input (when there is one) or that
 * history's robust range: the value to use, or why it is refused.
 */
export function guardReading(input: InputRef, value: number, history: ArrayLike<number> | RobustRange | undefined): { value: number } | { reason: ImplausibleReason } {
  const checked = sampleChecker(input, history)(value);
  return checked.ok ? { value: checked.value } : { reason: checked.reason };
}
