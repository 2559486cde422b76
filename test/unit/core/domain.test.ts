import { describe, expect, it } from 'vitest';
import { checkDomain, domainOf, guardSeries, type InputRef, maxServableMagnitude, plausibleBounds, robustRange, sampleChecker, servableValue } from '../../../src/core/index.js';

const depth: InputRef = { kind: 'queue', queue: 'orders', metric: 'depth' };
const cpu: InputRef = { kind: 'system', metric: 'cpu_percent' };

describe('series domain and plausibility', () => {
  it('gives counts and rates a floor of 0 and percentages [0, 100]', () => {
    expect(domainOf(depth)).toEqual({ min: 0, max: maxServableMagnitude });
    expect(domainOf({ kind: 'queue', queue: 'orders', metric: 'enqueue_rate_per_second' }).min).toBe(0);
    expect(domainOf(cpu)).toEqual({ min: 0, max: 100 });
    expect(domainOf({ kind: 'performance', metric: 'error_rate_percent' })).toEqual({ min: 0, max: 100 });
    expect(domainOf({ kind: 'performance', metric: 'response_time_p95_seconds' }).max).toBe(maxServableMagnitude);
  });

  it('clamps rounding noise onto the edge and refuses what is beyond it', () => {
    expect(checkDomain(domainOf(depth), -1e-12)).toEqual({ ok: true, value: 0 });
    expect(checkDomain(domainOf(depth), -1)).toEqual({ ok: false, reason: 'out_of_domain' });
    expect(checkDomain(domainOf(depth), -1e15)).toEqual({ ok: false, reason: 'out_of_domain' });
    expect(checkDomain(domainOf(cpu), 100.4)).toEqual({ ok: true, value: 100 });
    expect(checkDomain(domainOf(cpu), 130)).toEqual({ ok: false, reason: 'out_of_domain' });
    expect(checkDomain(domainOf(depth), Number.POSITIVE_INFINITY)).toEqual({ ok: false, reason: 'not_finite' });
  });

  it('refuses a jump a thousand times beyond the history, not a burst', () => {
    const week = Float64Array.from({ length: 2000 }, (_, i) => 24 + (i % 44));
    const check = sampleChecker(depth, week);
    expect(check(5e9)).toEqual({ ok: false, reason: 'implausible_jump' });
    // Beyond the magnitude any surface serves: outside every series' domain.
    expect(check(9.5e12)).toEqual({ ok: false, reason: 'out_of_domain' });
    expect(check(5000)).toEqual({ ok: true, value: 5000 });
    expect(check(0)).toEqual({ ok: true, value: 0 });
  });

  it('judges the range on robust quantiles, so a few broken points in a week do not widen it', () => {
    const week = Float64Array.from({ length: 10_080 }, (_, i) => (i % 500 === 0 ? 9.5e12 : 24 + (i % 44)));
    expect(plausibleBounds(domainOf(depth), week, 1).max).toBeLessThan(200);
  });

  it('takes the quantiles of the sorted history exactly (up to 2,047 points), and of evenly spaced points beyond', () => {
    // The definition, by sorting (what plausibleBounds computes without sorting).
    const bySorting = (history: Float64Array) => {
      const sorted = Float64Array.from(history.filter(Number.isFinite)).sort();
      const last = sorted.length - 1;
      const [low, high] = [sorted[Math.floor(0.005 * last)]!, sorted[Math.ceil(0.995 * last)]!];
      const margin = 2 * Math.max(high - low, 1, 1e-3 * Math.abs(high));
      return { min: low - margin, max: high + margin };
    };
    let seed = 11;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const unbounded = { min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY };
    for (let trial = 0; trial < 300; trial++) {
      const length = 1 + Math.floor(random() * 2047);
      const history = Float64Array.from({ length }, () => (random() < 0.05 ? Number.NaN : random() < 0.01 ? (random() - 0.5) * 1e9 : Math.round(random() * 200) - 100));
      if (!history.some(Number.isFinite)) continue;
      expect(plausibleBounds(unbounded, history, 2)).toEqual(bySorting(history));
    }
    // A week at one minute: every 9th point, still robust to a few broken ones and close to the exact range.
    const week = Float64Array.from({ length: 10_081 }, (_, i) => (i % 997 === 0 ? 9.5e12 : 24 + (i % 44)));
    const bounds = plausibleBounds(unbounded, week, 2);
    expect(bounds).toEqual(bySorting(week));
  });

  it('takes the range of a history in two parts exactly as of the two joined, without copying them', () => {
    let seed = 5;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let trial = 0; trial < 200; trial++) {
      // Lengths on both sides of the strided regime (about 2,048 points), split anywhere.
      const length = 1 + Math.floor(random() * 12_000);
      const joined = Float64Array.from({ length }, () => (random() < 0.05 ? Number.NaN : random() < 0.01 ? 1e9 : Math.round(random() * 100)));
      const cut = Math.floor(random() * length);
      expect(robustRange(joined.subarray(0, cut), joined.subarray(cut))).toEqual(robustRange(joined));
    }
    expect(robustRange(Float64Array.of(Number.NaN), Float64Array.of())).toBeUndefined();
    expect(robustRange(Float64Array.of(), Float64Array.of(3, Number.NaN, 7))).toEqual({ low: 3, high: 7, finitePoints: 2 });
  });

  it('turns refused samples of a read into gaps and counts them by reason', () => {
    const previous = Float64Array.from({ length: 600 }, (_, i) => 30 + (i % 30));
    const fresh = { startMs: 0, stepSeconds: 60, values: Float64Array.from([40, -1e15, 5e9, Number.NaN, 45, Number.POSITIVE_INFINITY]) };
    const { series, rejected } = guardSeries(depth, fresh, previous);
    expect(Array.from(series.values).map((v) => (Number.isNaN(v) ? 'gap' : v))).toEqual([40, 'gap', 'gap', 'gap', 45, 'gap']);
    expect(Object.fromEntries(rejected)).toEqual({ out_of_domain: 1, implausible_jump: 1, not_finite: 1 });
  });

  it('judges a first read on itself: a short spell of garbage in a week of data is refused', () => {
    const values = Float64Array.from({ length: 10_080 }, (_, i) => (i >= 5000 && i < 5002 ? 5e9 : 24 + (i % 44)));
    const { series, rejected } = guardSeries(depth, { startMs: 0, stepSeconds: 60, values }, undefined);
    expect(rejected.get('implausible_jump')).toBe(2);
    expect(Math.max(...series.values.filter(Number.isFinite))).toBe(67);
  });

  it('serves only finite values inside the domain and the shared magnitude bound', () => {
    expect(servableValue(depth, -3)).toBe(0);
    expect(servableValue(cpu, 120)).toBe(100);
    expect(servableValue(depth, 9.7e299)).toBeUndefined();
    expect(servableValue(depth, Number.NaN)).toBeUndefined();
    expect(servableValue(undefined, -3)).toBe(-3);
  });
});
