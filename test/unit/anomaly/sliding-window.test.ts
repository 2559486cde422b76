import { describe, expect, it } from 'vitest';
import { maxWindowPoints, PointHistory, SortedValues, TimeWindowMax, TimeWindowQuantiles, TypicalInterval } from '../../../src/anomaly/index.js';
import { lcg } from './synthetic.js';

/** Type-7 quantile of an array, computed the slow way. */
function bruteQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}

describe('sliding windows', () => {
  it('SortedValues keeps exact quantiles through adds and removes (with repeated values)', () => {
    const random = lcg(1);
    const sorted = new SortedValues(4);
    const kept: number[] = [];
    let mismatches = 0;
    for (let i = 0; i < 2000; i++) {
      const value = Math.floor(random() * 50);
      sorted.add(value);
      kept.push(value);
      if (i % 3 === 0) sorted.remove(kept.shift()!);
      if (sorted.size !== kept.length || !Object.is(sorted.quantile(0.5), bruteQuantile(kept, 0.5))) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(sorted.quantile(0.9)).toBeCloseTo(bruteQuantile(kept, 0.9), 12);
    sorted.remove(1234.5); // absent: no-op
    expect(sorted.size).toBe(kept.length);
  });

  it('time windows hold exactly the values of the previous span, excluding the current time', () => {
    const random = lcg(2);
    const spanMs = 1000;
    const quantiles = new TimeWindowQuantiles(spanMs);
    const max = new TimeWindowMax(spanMs);
    const all: { t: number; v: number }[] = [];
    let t = 0;
    const mismatches: string[] = [];
    for (let i = 0; i < 2000; i++) {
      t += 1 + Math.floor(random() * 60);
      const inWindow = all.filter((p) => p.t > t - spanMs).map((p) => p.v);
      quantiles.advance(t);
      const median = bruteQuantile(inWindow, 0.5);
      const got = quantiles.quantile(0.5);
      if (quantiles.size !== inWindow.length || !Object.is(got, median)) mismatches.push(`quantile at ${t}`);
      const m = max.max(t);
      const expectedMax = inWindow.length === 0 ? Number.NaN : Math.max(...inWindow);
      if (!Object.is(m, expectedMax)) mismatches.push(`max at ${t}`);
      const v = random() * 100 - 50;
      quantiles.add(t, v);
      max.add(t, v);
      all.push({ t, v });
      if (all.length > 200) all.shift(); // far older than the span
    }
    expect(mismatches).toEqual([]);
  });

  it('PointHistory finds the value at a past time within a tolerance and forgets what is older than its span', () => {
    const history = new PointHistory(10_000);
    for (let t = 0; t <= 20_000; t += 1000) history.add(t, t / 1000);
    expect(history.valueAt(15_000, 500)).toBe(15);
    expect(history.valueAt(15_400, 500)).toBe(15);
    expect(history.valueAt(15_600, 500)).toBeNaN();
    expect(history.valueAt(9_000, 500)).toBeNaN(); // forgotten
    expect(history.valueAt(-5, 1000)).toBeNaN();
  });

  it('long windows keep at most a point per span / 2,016: a 1-minute series is thinned, a 5-minute one is whole', () => {
    const minuteMs = 60_000;
    const weekMs = 7 * 1440 * minuteMs;
    for (const [stepMinutes, kept] of [
      [1, maxWindowPoints],
      [5, maxWindowPoints],
      [10, maxWindowPoints / 2],
    ] as const) {
      const window = new TimeWindowQuantiles(weekMs);
      const history = new PointHistory(3 * weekMs);
      for (let t = 0; t <= 4 * weekMs; t += stepMinutes * minuteMs) {
        window.advance(t);
        window.add(t, t % 7);
        history.add(t, t / minuteMs);
      }
      expect(window.size).toBe(kept);
      // "The same time last week" is still found in the thinned history, within its spacing.
      const lastWeek = 4 * weekMs - weekMs + minuteMs;
      expect(history.valueAt(lastWeek, Math.max(stepMinutes * minuteMs, history.minSpacingMs))).toBeGreaterThanOrEqual(lastWeek / minuteMs - 5);
    }
    // A short window keeps every point.
    const short = new TimeWindowQuantiles(6 * 3_600_000);
    for (let t = 0; t < 3_600_000; t += minuteMs) short.add(t, 1);
    expect(short.size).toBe(60);
  });

  it('a window at its bound holds its points in at most 1.5 times their bytes, and keeps its answers while it compacts', () => {
    const minuteMs = 60_000;
    const weekMs = 7 * 1440 * minuteMs;
    const window = new TimeWindowQuantiles(weekMs);
    const history = new PointHistory(3 * weekMs + 1440 * minuteMs);
    for (let t = 0; t <= 6 * weekMs; t += 5 * minuteMs) {
      window.advance(t);
      window.add(t, t % 97);
      history.add(t, t / minuteMs);
    }
    // Two Float64 buffers (time, value) in the queue plus the sorted values: 24 bytes a point at best.
    expect(window.heldBytes).toBeLessThanOrEqual(1.5 * 24 * window.size);
    // 22 days at 5 minutes, both ends included; each point a time and a value.
    expect(history.size).toBe(22 * 288 + 1);
    expect(history.heldBytes).toBeLessThanOrEqual(1.5 * 16 * history.size);
    // After many compactions the oldest and the newest points are where they were.
    const now = 6 * weekMs;
    expect(history.valueAt(now, 0)).toBe(now / minuteMs);
    expect(history.valueAt(now - 3 * weekMs, 0)).toBe((now - 3 * weekMs) / minuteMs);
    expect(window.quantile(1)).toBe(96);
  });

  it('a 32-bit window holds a value in 4 bytes and answers the quantiles of the rounded values', () => {
    const minuteMs = 60_000;
    const wide = new TimeWindowQuantiles(3 * 86_400_000);
    const narrow = new TimeWindowQuantiles(3 * 86_400_000, maxWindowPoints, 32);
    const random = lcg(3);
    const added: number[] = [];
    for (let t = 0; t < 86_400_000; t += 5 * minuteMs) {
      const v = random() * 10;
      wide.add(t, v);
      narrow.add(t, v);
      added.push(Math.fround(v));
    }
    expect(narrow.size).toBe(wide.size);
    // 8 bytes of time and 4 + 4 of value (queue and sorted) against 8 + 8 + 8.
    expect(narrow.heldBytes / wide.heldBytes).toBeCloseTo(16 / 24, 2);
    expect(narrow.quantile(0.5)).toBe(bruteQuantile(added, 0.5));
    expect(Math.abs(narrow.quantile(0.9) - wide.quantile(0.9))).toBeLessThan(1e-6);
  });

  it('TypicalInterval is the median of recent intervals, robust to a gap', () => {
    const interval = new TypicalInterval(5);
    expect(interval.medianMs).toBeNaN();
    for (const t of [0, 300, 600, 900, 50_000, 50_300]) interval.add(t);
    expect(interval.medianMs).toBe(300);
  });
});
