import { describe, expect, it } from 'vitest';
import { quantileOfSorted, residualQuantiles } from '../../../src/forecast/index.js';

describe('residual bands', () => {
  it('quantiles interpolate linearly between order statistics (type 7)', () => {
    const sorted = new Float64Array([0, 10, 20, 30, 40]);
    expect(quantileOfSorted(sorted, 0.1)).toBeCloseTo(4, 12);
    expect(quantileOfSorted(sorted, 0.9)).toBeCloseTo(36, 12);
    expect(quantileOfSorted(sorted, 0.5)).toBe(20);
    expect(quantileOfSorted(new Float64Array(0), 0.5)).toBeNaN();
  });

  it('uses values[t + h] − forecast[t] over complete pairs only', () => {
    const values = new Float64Array([0, 0, 1, 2, 3, Number.NaN, 5]);
    const forecasts = new Float64Array([0, 0, 0, 0, 0, 0, 0]);
    // h = 2: residuals at t = 0..4 are 1, 2, 3, NaN (skipped), 5.
    const q = residualQuantiles(values, forecasts, 2);
    expect(q.count).toBe(4);
    expect(q.q10).toBeCloseTo(1.3, 12);
    expect(q.q90).toBeCloseTo(4.4, 12);
  });

  it('gives a zero-width band when there is no residual', () => {
    expect(residualQuantiles(new Float64Array([1]), new Float64Array([1]), 1)).toEqual({ q10: 0, q90: 0, count: 0 });
  });
});
