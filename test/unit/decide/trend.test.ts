import { describe, expect, it } from 'vitest';
import { analyzeQueueTrend, trendDirection } from '../../../src/decide/index.js';

const t0 = Date.UTC(2026, 0, 1);
/** Samples every 30 s (the monitoring interval). */
const every30s = (values: readonly number[]) => values.map((value, i) => ({ timestampMs: t0 + i * 30_000, value }));
const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

describe('queue trend analysis', () => {
  it.each([
    ['a steady climb', range(30, (i) => 10 * i), 'increasing_rapidly'],
    ['a slow climb', range(30, (i) => 1000 + 5 * i), 'increasing'],
    ['a flat queue', range(30, () => 100), 'stable'],
    ['a small wobble', range(30, (i) => 100 + (i % 2)), 'stable'],
    ['a slow drain', range(30, (i) => 1000 - 5 * i), 'decreasing'],
    ['a fast drain', range(30, (i) => 300 - 10 * i), 'decreasing_rapidly'],
    ['a queue that jumps between 0 and 200', range(30, (i) => (i % 2) * 200), 'volatile'],
    ['four measurements', range(4, (i) => 100 * i), 'insufficient_data'],
  ])('classifies %s as %s', (_name, values, expected) => {
    const trend = analyzeQueueTrend(every30s(values));
    expect(trend.trend).toBe(expected);
  });

  it('fits the exact line of a linear series (hand-computed)', () => {
    // depth = 10·i every 30 s: slope 10/30 msg/s, r² = 1, mean 145, relative change 290 / 145 = 2.
    const trend = analyzeQueueTrend(every30s(range(30, (i) => 10 * i)));
    expect(trend.slopePerSecond).toBeCloseTo(1 / 3, 12);
    expect(trend.r2).toBeCloseTo(1, 12);
    expect(trend.relativeChange).toBeCloseTo(2, 12);
    expect(trend.confidence).toBeCloseTo(1, 12);
    expect(trend.measurements).toBe(30);
    // std of 0..290 step 10 is 10·sqrt((30²−1)/12); over the mean 145.
    expect(trend.volatility).toBeCloseTo((10 * Math.sqrt((30 * 30 - 1) / 12)) / 145, 12);
  });

  it('uses only the latest 30 measurements and skips missing ones', () => {
    const values = [...range(20, () => 5000), ...range(30, (i) => 100 + i), Number.NaN];
    const trend = analyzeQueueTrend(every30s(values));
    expect(trend.measurements).toBe(30);
    expect(trend.slopePerSecond).toBeCloseTo(1 / 30, 12);
  });

  it('regresses on time, so a missed cycle does not bend the slope', () => {
    const samples = [0, 1, 2, 5, 6, 7, 8].map((i) => ({ timestampMs: t0 + i * 30_000, value: 3 * i }));
    expect(analyzeQueueTrend(samples).slopePerSecond).toBeCloseTo(3 / 30, 12);
  });

  it('is less confident while the window fills', () => {
    const full = analyzeQueueTrend(every30s(range(30, (i) => 10 * i)));
    const half = analyzeQueueTrend(every30s(range(15, (i) => 10 * i)));
    expect(half.confidence).toBeCloseTo(full.confidence / 2, 12);
  });

  it('maps classes to the numbers rules read', () => {
    expect(['increasing_rapidly', 'increasing', 'stable', 'volatile', 'insufficient_data', 'decreasing', 'decreasing_rapidly'].map((c) => trendDirection(c as never))).toEqual([2, 1, 0, 0, 0, -1, -2]);
  });
});
