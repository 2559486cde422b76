import { describe, expect, it } from 'vitest';
import { domainOf, type InputRef, inputKey, type Sample } from '../../../src/core/index.js';
import { Reconciler, type Recorder, SnapshotStore } from '../../../src/engine/index.js';
import { createAutoForecaster, fitServingModel, forecastBounds, saneForecast } from '../../../src/forecast/index.js';
import { FakeSource } from '../../support/fake-source.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';
import { lcg } from '../forecast/series-helpers.js';

const depth: InputRef = { kind: 'queue', queue: 'orders', metric: 'depth' };
const cpu: InputRef = { kind: 'system', metric: 'cpu_percent' };
const rate: InputRef = { kind: 'queue', queue: 'orders', metric: 'enqueue_rate_per_second' };

/** A random series shape: level, daily-like cycle, trend (often steeply down, towards and below 0), bursts, empty spells. */
function randomShape(seed: number, upper: number): (i: number) => number {
  const random = lcg(seed);
  const level = upper * random();
  const amplitude = upper * random();
  const trend = (random() - 0.7) * upper * 0.02;
  const burstEvery = 5 + Math.floor(random() * 60);
  const burst = upper * 10 * random();
  const emptyFrom = Math.floor(random() * 180);
  return (i) => {
    if (i >= emptyFrom && i < emptyFrom + 20 && seed % 3 === 0) return 0;
    const value = level + amplitude * Math.sin((2 * Math.PI * i) / 60) + trend * i + (i % burstEvery === 0 ? burst : 0) + upper * 0.05 * (random() - 0.5);
    return Math.max(0, Math.min(upper === 100 ? 100 : Number.POSITIVE_INFINITY, value));
  };
}

const yaml = (model: string) => `
queues: [{ name: orders, threshold: 150 }]
forecast: { model: ${model}, step: 1m, season: 1h, history: 3h, horizons: [5m, 15m], refitInterval: 30m }
`;

describe('forecast sanity', () => {
  // Property: over random series of every domain and every serving model, no published forecast
  // (value, p10, p90) leaves its series' domain or the plausible range of its history and horizon.
  const models = ['auto', 'holt_winters', 'linear_trend', 'seasonal_naive', 'naive'];
  it.each(Array.from({ length: 15 }, (_, seed) => seed + 1))('never publishes a forecast outside the domain or plausibility bounds (random series %i)', async (seed) => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
    const from = clock.nowMs() - 3 * 3_600_000;
    const samples = (f: (i: number) => number): Sample[] => Array.from({ length: 181 }, (_, i) => ({ timestampMs: from + i * 60_000, value: f(i) }));
    const source = new FakeSource()
      .set(depth, samples(randomShape(seed, 1 + 1000 * lcg(seed + 100)())))
      .set(rate, samples(randomShape(seed + 50, 5)))
      .set(cpu, samples(randomShape(seed + 99, 100)));
    const config = configFromYaml(yaml(models[seed % models.length]!));
    const reconciler = new Reconciler({ source, clock, store: new SnapshotStore({ historyRetentionSeconds: 3600 }), recorder: noRecorder, config: () => config });
    const snapshot = await reconciler.runCycle();
    const histories = await source.readHistory([depth, rate, cpu], { startMs: from, endMs: Math.floor(clock.nowMs() / 60_000) * 60_000, stepSeconds: 60 });
    let checked = 0;
    for (const { input, series } of histories.history) {
      for (const f of snapshot.forecasts.filter((x) => x.seriesKey === inputKey(input))) {
        const domain = domainOf(input);
        const bounds = forecastBounds(input, series, f.horizonSeconds / 60, 60);
        for (const v of [f.p10, f.value, f.p90]) {
          expect(v).toBeGreaterThanOrEqual(Math.max(domain.min, bounds.min));
          expect(v).toBeLessThanOrEqual(Math.min(domain.max, bounds.max));
        }
        expect(f.p10).toBeLessThanOrEqual(f.value);
        expect(f.value).toBeLessThanOrEqual(f.p90);
        checked += 1;
      }
    }
    expect(checked).toBe(6);
  });

  it('replaces an implausible forecast by the fallback, says why, and counts it', () => {
    const history = { startMs: 0, stepSeconds: 60, values: Float64Array.from({ length: 180 }, (_, i) => i % 4) };
    const ghost = saneForecast(depth, history, 15, 1440, { value: 682, p10: 669, p90: 693 });
    expect(ghost.rejected?.reason).toBe('implausible');
    expect(ghost.rejected?.message).toMatch(/682.*outside the plausible range/);
    expect(ghost.point.value).toBe(history.values.at(-1));
    const broken = saneForecast(depth, history, 15, 1440, { value: Number.NaN, p10: 1, p90: 2 }, { value: 2, p10: 1, p90: 3 });
    expect(broken).toEqual({ point: { value: 2, p10: 1, p90: 3 }, rejected: expect.objectContaining({ reason: 'not_finite' }) });
    // Plausible forecasts pass; their quantiles are clamped into the domain.
    expect(saneForecast(depth, history, 15, 1440, { value: 1, p10: -2, p90: 4 })).toEqual({ point: { value: 1, p10: 0, p90: 4 } });
    const percent = { startMs: 0, stepSeconds: 60, values: Float64Array.from({ length: 180 }, (_, i) => 90 + (i % 10)) };
    expect(saneForecast(cpu, percent, 15, 1440, { value: 99, p10: 95, p90: 104 }).point.p90).toBe(100);
  });

  it('clamps a linear trend heading below zero into the domain; a clamp is not a rejection', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
    const from = clock.nowMs() - 3 * 3_600_000;
    // A steep straight line the linear trend extrapolates far below zero: clamped into the domain, never rejected.
    const source = new FakeSource().set(
      depth,
      Array.from({ length: 181 }, (_, i) => ({ timestampMs: from + i * 60_000, value: Math.max(0, 5000 - 40 * i) })),
    );
    const rejected: string[] = [];
    const recorder: Recorder = { ...noRecorder, forecastRejected: (_key, reason) => rejected.push(reason) };
    const config = configFromYaml(yaml('linear_trend'));
    const snapshot = await new Reconciler({ source, clock, store: new SnapshotStore({ historyRetentionSeconds: 3600 }), recorder, config: () => config }).runCycle();
    const f = snapshot.forecasts.find((x) => x.seriesKey === inputKey(depth) && x.horizonSeconds === 900)!;
    expect(f.value).toBeGreaterThanOrEqual(0);
    expect(f.p10).toBeGreaterThanOrEqual(0);
    expect(rejected).toEqual([]);
  });
});

describe('default selection', () => {
  // Over random series, what `auto` serves never has a higher validation MAE than naive's.
  it.each(Array.from({ length: 12 }, (_, seed) => seed + 1))('never serves a model worse than naive on validation (random series %i)', (seed) => {
    const shape = randomShape(seed, 1 + 500 * lcg(seed + 7)());
    const series = { startMs: Date.UTC(2026, 0, 1), stepSeconds: 60, values: Float64Array.from({ length: 240 }, (_, i) => shape(i)) };
    const result = createAutoForecaster().fitWithReport(series, { stepSeconds: 60, seasonSteps: 60, horizonSteps: 5 });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { chosen, candidates } = result.value.selection;
    const naive = candidates.find((c) => c.model === 'naive')!;
    expect(naive.fitted).toBe(true);
    expect(chosen.validationMae).toBeLessThanOrEqual(naive.accuracy.mae);
    // The service's quick first pass (baselines only) keeps the same guarantee.
    const first = fitServingModel('auto', series, { stepSeconds: 60, seasonSteps: 60, horizonSteps: 5 }, { firstPass: true })?.selection;
    expect(first?.validationMae).toBeLessThanOrEqual(first?.naiveValidationMae ?? Number.NaN);
  });
});

const noRecorder: Recorder = { cycleFinished() {}, sourceProblem() {}, modelFitted() {}, decided() {}, anomaliesScored() {} };
