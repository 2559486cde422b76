import { describe, expect, it } from 'vitest';
import {
  BandCalibration,
  calibrationLevels,
  loadTraceFromRows,
  type Observation,
  type PredictiveForecasts,
  predictiveForecasts,
  predictiveHorizonSteps,
  predictivePolicy,
  simulate,
} from '../../../src/simulate/index.js';

const minute = 60;
const rows = (values: readonly number[], stepSeconds = 5 * minute) =>
  loadTraceFromRows(
    Float64Array.from(values, (_, i) => 1_700_000_000 + stepSeconds * i),
    Float64Array.from(values),
    stepSeconds,
  );

describe('the predictive policy (quantile sizing)', () => {
  const trace = rows(Array.from({ length: 100 }, () => 600));
  const observation = (patch: Partial<Observation> = {}): Observation => ({
    nowMs: trace.series.startMs + 50 * 300_000 + 30_000,
    queueDepth: 0,
    arrivalRatePerSecond: 2,
    serviceRatePerSecond: 2,
    oldestWaitSeconds: 0,
    averageWaitSeconds: 0,
    readyReplicas: 2,
    provisionedReplicas: 2,
    history: trace.series,
    completedSteps: 50,
    ...patch,
  });
  /** A median of 600 per 5-minute step (2/s), a band of `width`, and a calibration that always says 1.5 bands. */
  const fixed = (width: number): PredictiveForecasts => ({
    feed: { forecast: () => ({ value: 600, p10: 600 - width / 2, p90: 600 + width / 2 }) },
    calibration: { multiplier: () => 1.5 },
    band: () => width,
    maxHorizonSteps: 4,
  });
  const replicas = (forecasts: PredictiveForecasts, patch: Partial<Observation> = {}, quantile = 0.9) =>
    predictivePolicy({ trace, capacityPerReplicaPerSecond: 0.5, startupDelaySeconds: 120, sloWaitSeconds: 60, quantile, forecasts }).decide(observation(patch));

  it('sizes for the median plus the calibrated multiple of the band: a wider band gives more reserve', () => {
    // (600 + 1.5 · 300) / 300 s = 3.5/s → 7 replicas of 0.5/s; with a band of 600, (600 + 900) / 300 = 5/s → 10.
    expect(replicas(fixed(0))).toBe(4);
    expect(replicas(fixed(300))).toBe(7);
    expect(replicas(fixed(600))).toBe(10);
  });

  it('adds the backlog to drain within the drain time, and never sizes below the observed rate', () => {
    expect(replicas(fixed(300), { queueDepth: 60 })).toBe(9); // + 60 / 60 s = 1/s → 2 more
    expect(replicas(fixed(0), { arrivalRatePerSecond: 5 })).toBe(10);
  });

  it("falls back to the model's p90 while the calibration has too few errors", () => {
    expect(replicas({ ...fixed(300), calibration: { multiplier: () => undefined } })).toBe(5); // (600 + 150) / 300 = 2.5/s
  });

  it('never looks ahead: changing the trace after a moment changes no decision before it', () => {
    const days = 4;
    const steps = (days * 86_400) / 300;
    const base = Array.from({ length: steps }, (_, i) => 300 + 200 * Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 13) * 10);
    const cut = Math.floor(steps * 0.75);
    const changed = base.map((v, i) => (i >= cut ? v * 3 + (i % 5 === 0 ? 2000 : 0) : v));
    const system = { capacityPerReplicaPerSecond: 0.2, startupDelaySeconds: 300, minReplicas: 1, maxReplicas: 50, sloWaitSeconds: 60, tickSeconds: 15 };
    const run = (values: number[]) => {
      const t = rows(values);
      const forecasts = predictiveForecasts(t, { model: 'seasonal_naive', maxHorizonSteps: predictiveHorizonSteps(300, 300) });
      return simulate(t, predictivePolicy({ trace: t, ...system, quantile: 0.9, forecasts }), system).series!.provisioned;
    };
    const a = run(base);
    const b = run(changed);
    // Ticks before the cut (the decision at a tick sees arrivals before it only).
    const cutTick = (cut * 300) / 15;
    expect(Array.from(b.subarray(0, cutTick))).toEqual(Array.from(a.subarray(0, cutTick)));
    expect(Array.from(b.subarray(cutTick))).not.toEqual(Array.from(a.subarray(cutTick)));
  });
});

describe('band calibration', () => {
  /** Median 100 everywhere; the band is `band(o)`; the actual is 100 + band · z with z cycling over -1..2. */
  const zs = [-1, -0.5, 0, 0.5, 1, 1.5, 2];
  const steps = 700;
  const make = (band: (o: number) => number, actual: (i: number) => number) =>
    new BandCalibration({ value: () => 100, band: (o) => band(o), actual }, steps, { maxHorizonSteps: 2, windowSteps: 350, recomputeEverySteps: 10, minErrors: 50 });

  it("gives the quantile of the errors in band units, whatever the band's width", () => {
    const narrow = make(
      () => 10,
      (i) => 100 + 10 * zs[i % zs.length]!,
    );
    const wide = make(
      () => 40,
      (i) => 100 + 40 * zs[i % zs.length]!,
    );
    for (const q of [0.5, 0.8, 0.95]) {
      expect(narrow.multiplier(600, 1, q)).toBeCloseTo(wide.multiplier(600, 1, q)!, 9);
    }
    expect(narrow.multiplier(600, 1, 0.5)).toBeCloseTo(0.5, 9);
    expect(narrow.multiplier(600, 1, 0.95)).toBeGreaterThan(1.5);
    expect(narrow.multiplier(600, 1, calibrationLevels[calibrationLevels.length - 1]!)).toBeLessThanOrEqual(2);
  });

  it('gives nothing until enough errors have matured, and throws on a quantile outside its table', () => {
    const c = make(
      () => 10,
      () => 100,
    );
    expect(c.multiplier(30, 1, 0.9)).toBeUndefined();
    expect(() => c.multiplier(600, 1, 0.2)).toThrow(/quantile 0.2 is outside/);
  });

  it('never reads an outcome after the origin', () => {
    const read: number[] = [];
    const c = make(
      () => 10,
      (i) => {
        read.push(i);
        return 100 + 10 * zs[i % zs.length]!;
      },
    );
    c.multiplier(400, 2, 0.9);
    expect(Math.max(...read)).toBeLessThanOrEqual(400);
    // Different outcomes after the origin leave the multiplier at the origin unchanged.
    const other = make(
      () => 10,
      (i) => (i > 400 ? 1e6 : 100 + 10 * zs[i % zs.length]!),
    );
    expect(other.multiplier(400, 2, 0.9)).toBe(c.multiplier(400, 2, 0.9));
  });
});
