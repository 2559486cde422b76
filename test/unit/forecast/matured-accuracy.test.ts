import { describe, expect, it } from 'vitest';
import { MaturedAccuracyTracker, retrainDecision, shadowEvaluate } from '../../../src/forecast/index.js';
import type { FittedForecaster, RetrainInputs } from '../../../src/forecast/index.js';
import { seriesOf } from './series-helpers.js';

const minute = 60_000;

describe('matured-forecast accuracy', () => {
  // Issue 11 item 3: a mostly empty queue read "accuracy −11.1K %" under 100 × (1 − WAPE).
  it('gives an intermittent series a meaningful accuracy in [0, 100], where 100 × (1 − WAPE) is hugely negative', () => {
    const tracker = new MaturedAccuracyTracker({ windowSeconds: 86_400, toleranceSeconds: 30 });
    // A queue that is empty except one job every 50 minutes; its seasonal-naive MAE (the scale) is 0.04 jobs.
    const actualAt = (i: number) => (i % 50 === 0 ? 1 : 0);
    const record = (model: string, forecastAt: (i: number) => number) => {
      for (let i = 0; i < 600; i++)
        tracker.record({ seriesKey: `queue/${model}/depth`, horizonSeconds: 900, model, maseScale: 0.04, originMs: i * minute, targetMs: (i + 15) * minute, value: forecastAt(i), p10: 0, p90: 1 });
    };
    record('good', () => 0.02); // within the series' ordinary movement
    record('poor', () => 0.5); // off by half a job at every point
    const samples = Array.from({ length: 620 }, (_, i) => ({ timestampMs: i * minute, value: actualAt(i) }));
    tracker.observe('queue/good/depth', samples);
    tracker.observe('queue/poor/depth', samples);
    const [good, poor] = tracker.accuracy(700 * minute);
    // WAPE divides by the 12 jobs that came: the good forecast's "100 × (1 − WAPE)" is about −0 %, the poor one's about −2,400 %.
    expect(100 * (1 - poor!.wape)).toBeLessThan(-2000);
    // Targets 15..614: 12 jobs and 588 empty minutes. Errors 588 × 0.02 + 12 × 0.98 = 23.52 over a
    // volume of 588 × max(0, 0.04) + 12 × 1 = 35.52: 100 × (1 − 23.52 / 35.52) = 33.8 %.
    expect(good!.points).toBe(600);
    expect(good!.accuracyPercent).toBeCloseTo(100 * (1 - 23.52 / 35.52), 6);
    expect(poor!.accuracyPercent).toBe(0);
    expect(good!.accuracyPercent).toBeGreaterThan(poor!.accuracyPercent);
  });

  it('scores forecasts once their target time has an actual: 100 × (1 − WAPE), MASE and coverage', () => {
    const tracker = new MaturedAccuracyTracker({ windowSeconds: 3600, toleranceSeconds: 30 });
    const base = { seriesKey: 'queue/q/depth', horizonSeconds: 900, model: 'auto', maseScale: 5 };
    tracker.record({ ...base, originMs: 0, targetMs: 15 * minute, value: 100, p10: 90, p90: 110 });
    tracker.record({ ...base, originMs: minute, targetMs: 16 * minute, value: 100, p10: 95, p90: 105 });
    tracker.record({ ...base, originMs: 2 * minute, targetMs: 30 * minute, value: 50, p10: 40, p90: 60 });
    expect(
      tracker.observe('queue/q/depth', [
        { timestampMs: 15 * minute, value: 110 },
        { timestampMs: 16 * minute + 10_000, value: 90 },
      ]),
    ).toBe(2);
    const [a] = tracker.accuracy(20 * minute);
    // |110−100| + |90−100| = 20 over Σ|y| = 200: WAPE 0.1, accuracy 90 %.
    expect(a!.wape).toBeCloseTo(0.1, 12);
    expect(a!.accuracyPercent).toBeCloseTo(90, 12);
    expect(a!.mase).toBeCloseTo(2, 12);
    expect(a!.coverage).toBe(0.5);
    expect(a!.points).toBe(2);
    expect(a!.pending).toBe(1);
  });

  it('drops forecasts whose actual never came and matured ones that left the window', () => {
    const tracker = new MaturedAccuracyTracker({ windowSeconds: 600, toleranceSeconds: 30 });
    const base = { seriesKey: 's', horizonSeconds: 60, model: 'm', maseScale: Number.NaN, p10: 0, p90: 0 };
    tracker.record({ ...base, originMs: 0, targetMs: minute, value: 1 });
    tracker.record({ ...base, originMs: 0, targetMs: 2 * minute, value: 1 });
    tracker.observe('s', [{ timestampMs: 2 * minute, value: 2 }]);
    let [a] = tracker.accuracy(3 * minute);
    expect(a!.points).toBe(1);
    expect(a!.pending).toBe(0);
    expect(Number.isNaN(a!.mase)).toBe(true);
    [a] = tracker.accuracy(30 * minute);
    expect(a!.points).toBe(0);
    expect(Number.isNaN(a!.accuracyPercent)).toBe(true);
  });

  it('calibrates the upper multiplier from matured errors in band widths, within the window, once enough matured', () => {
    const tracker = new MaturedAccuracyTracker({ windowSeconds: 3600, toleranceSeconds: 30 });
    const base = { seriesKey: 's', horizonSeconds: 60, model: 'm', maseScale: 1 };
    const zs = [-1, -0.5, 0, 0.5, 1, 1.5, 2, 0, 0.5, 1];
    const samples: { timestampMs: number; value: number }[] = [];
    // 60 forecasts a minute apart; bands alternate 10 and 40 wide, the errors are z bands either way.
    for (let i = 0; i < 60; i++) {
      const width = i % 2 === 0 ? 10 : 40;
      tracker.record({ ...base, originMs: i * minute, targetMs: (i + 1) * minute, value: 100, p10: 100 - width / 2, p90: 100 + width / 2 });
      samples.push({ timestampMs: (i + 1) * minute, value: 100 + width * zs[i % zs.length]! });
    }
    expect(tracker.upperMultiplier('s', 60, 0.9, 61 * minute)).toBeUndefined(); // nothing observed yet
    tracker.observe('s', samples);
    // Sorted z: six each of -1, -0.5, 1.5, 2; twelve each of 0, 0.5, 1. Type-7 quantiles of the 60.
    expect(tracker.upperMultiplier('s', 60, 0.5, 61 * minute)).toBeCloseTo(0.5, 12);
    expect(tracker.upperMultiplier('s', 60, 0.95, 61 * minute)).toBe(2);
    expect(tracker.upperMultiplier('s', 60, 0.9, 61 * minute, 61)).toBeUndefined(); // too few
    expect(tracker.upperMultiplier('s', 120, 0.9, 61 * minute)).toBeUndefined(); // another horizon
    // Outcomes after `nowMs` are not used: at 40 minutes only 40 have matured.
    expect(tracker.upperMultiplier('s', 60, 0.5, 40 * minute, 40)).toBeDefined();
    expect(tracker.upperMultiplier('s', 60, 0.5, 40 * minute, 41)).toBeUndefined();
  });
});

describe('retrain decision', () => {
  const base: RetrainInputs = { nowMs: 10 * 3_600_000, trainedAtMs: 9 * 3_600_000, retrainIntervalSeconds: 86_400, accuracyPercent: 90, accuracyThresholdPercent: 70, trainingInProgress: false };
  const cases: { name: string; change: Partial<RetrainInputs>; retrain: boolean; reason: string }[] = [
    { name: 'fresh and accurate', change: {}, retrain: false, reason: 'not_due' },
    { name: 'no model', change: { trainedAtMs: undefined }, retrain: true, reason: 'no_model' },
    { name: 'interval elapsed', change: { trainedAtMs: 0, nowMs: 86_400_000 }, retrain: true, reason: 'interval_elapsed' },
    { name: 'accuracy under the threshold', change: { accuracyPercent: 60, trainedAtMs: 0 }, retrain: true, reason: 'accuracy_below_threshold' },
    { name: 'accuracy under the threshold but just retrained', change: { accuracyPercent: 60, trainedAtMs: 10 * 3_600_000 - 1000 }, retrain: false, reason: 'not_due' },
    { name: 'accuracy unknown', change: { accuracyPercent: undefined }, retrain: false, reason: 'not_due' },
    { name: 'training already running', change: { trainedAtMs: undefined, trainingInProgress: true }, retrain: false, reason: 'training_in_progress' },
  ];
  it.each(cases)('$name → $reason', ({ change, retrain, reason }) => {
    expect(retrainDecision({ ...base, ...change } as RetrainInputs)).toEqual({ retrain, reason });
  });
});

describe('shadow evaluation', () => {
  const series = seriesOf(200, (i) => i);
  const spec = { stepSeconds: 300, seasonSteps: 288, horizonSteps: 2 };
  const model = (name: string, bias: number): FittedForecaster => ({
    model: name,
    spec,
    forecast: () => ({ value: 0, p10: 0, p90: 0 }),
    forecastEachOrigin: (s) => {
      const value = Float64Array.from(s.values, (v) => v + 2 + bias);
      return { value, p10: value, p90: value };
    },
  });
  it('deploys a candidate only when it beats the current model on the held-out window', () => {
    expect(shadowEvaluate(model('old', 5), model('new', 0), series, 150)).toMatchObject({ deploy: true, reason: 'candidate_better', candidateMae: 0, currentMae: 5 });
    expect(shadowEvaluate(model('old', 0), model('new', 1), series, 150)).toMatchObject({ deploy: false, reason: 'current_better_or_equal' });
    expect(shadowEvaluate(undefined, model('new', 1), series, 150)).toMatchObject({ deploy: true, reason: 'no_current_model', points: 48 });
  });
});
