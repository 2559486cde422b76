import { describe, expect, it } from 'vitest';
import { geometricMean, intervalCoverage, maseScale, meanAbsoluteError, meanAbsoluteScaledError, pinballLoss, scoreForecasts, weightedAbsolutePercentageError } from '../../../src/forecast/index.js';

const nan = Number.NaN;

describe('accuracy measures (reference/prediction-and-evaluation.md §2.1), hand-computed', () => {
  // Errors 0, 1, 2 on the three complete pairs; the NaN forecast is skipped.
  const actual = [1, 2, 3, 4];
  const forecast = [1, 3, 1, nan];

  it('MAE = mean |y − ŷ| over complete pairs', () => {
    expect(meanAbsoluteError(actual, forecast)).toBe(1);
    expect(meanAbsoluteError([nan], [1])).toBeNaN();
  });

  it('WAPE = Σ|y − ŷ| / Σ|y| over complete pairs', () => {
    expect(weightedAbsolutePercentageError(actual, forecast)).toBe(3 / 6);
    expect(weightedAbsolutePercentageError([0, 0], [1, 1])).toBeNaN();
  });

  it('MASE scale is the in-sample seasonal-naive MAE of the training part', () => {
    // m = 2: |2−1|, |4−3|, |3−2|, |5−4| are all 1 (and the NaN pair is skipped).
    const scale = maseScale([1, 3, 2, 4, 3, 5, nan, 6], 2);
    expect(scale).toEqual({ scale: 1, lagSteps: 2, kind: 'seasonal' });
    expect(meanAbsoluteScaledError(actual, forecast, scale)).toBe(1);
    // (1/(n−m)) Σ_{t=m+1..n}|y_t − y_{t−m}| with n = 5, m = 2: (|4−1| + |8−2| + |16−4|) / 3 = 7.
    expect(maseScale([1, 2, 4, 8, 16], 2).scale).toBe(7);
  });

  it('falls back to the lag-1 naive scale when the seasonal scale is 0 or undefined, and says so', () => {
    const zero = maseScale([1, 2, 1, 2, 1, 2], 2);
    expect(zero.kind).toBe('lag1');
    expect(zero.scale).toBe(1);
    expect(zero.note).toMatch(/seasonal-naive in-sample error is 0/);
    const short = maseScale([1, 3, 2], 5);
    expect(short.kind).toBe('lag1');
    expect(short.scale).toBe(1.5);
    expect(short.note).toMatch(/no pair/);
    const constant = maseScale([4, 4, 4], 1);
    expect(constant.kind).toBe('undefined');
    expect(meanAbsoluteScaledError([1], [2], constant)).toBeNaN();
  });

  it('pinball loss L_q = max(q (y − ŷ), (q − 1)(y − ŷ))', () => {
    // y = 10: ŷ = 8 → 0.1·2 = 0.2; ŷ = 12 → (−0.9)(−2) = 1.8.
    expect(pinballLoss([10, 10], [8, 12], 0.1)).toBeCloseTo(1.0, 12);
    expect(pinballLoss([10, 10], [8, 12], 0.9)).toBeCloseTo((1.8 + 0.2) / 2, 12);
  });

  it('coverage is the share of actuals inside [lower, upper], bounds included', () => {
    expect(intervalCoverage([1, 5, 10, nan], [0, 6, 10, 0], [2, 7, 10, 1])).toBeCloseTo(2 / 3, 12);
  });

  it('scoreForecasts reports everything at once', () => {
    const report = scoreForecasts(
      [10, 20, nan],
      { value: new Float64Array([11, 18, 5]), p10: new Float64Array([9, 19, 0]), p90: new Float64Array([12, 21, 9]) },
      { scale: 2, lagSteps: 1, kind: 'lag1' },
    );
    expect(report.count).toBe(2);
    expect(report.mae).toBe(1.5);
    expect(report.mase).toBe(0.75);
    expect(report.wape).toBe(3 / 30);
    expect(report.coverage80).toBe(1);
  });

  it('geometric mean over finite positive values', () => {
    expect(geometricMean([1, 4])).toBeCloseTo(2, 12);
    expect(geometricMean([1, 4, nan, 0, -1])).toBeCloseTo(2, 12);
    expect(geometricMean([])).toBeNaN();
  });
});
