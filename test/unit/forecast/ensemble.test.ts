import { describe, expect, it } from 'vitest';
import { prefix } from '../../../src/core/index.js';
import type { RegularSeries } from '../../../src/core/index.js';
import { combinationKinds, createAutoForecaster, createLagRegressionForecaster, createNaiveForecaster, createRandomForestForecaster, validationSplitIndex } from '../../../src/forecast/index.js';
import type { ForecastSpec, Forecaster } from '../../../src/forecast/index.js';
import { horizonMae, normals, seasonSteps, seriesOf, stepSeconds } from './series-helpers.js';

const spec: ForecastSpec = { stepSeconds, seasonSteps, horizonSteps: 3 };
/** A daily cycle with AR(1) noise and occasional spikes: what the learned models are for. */
function workload(days: number, seed = 11): RegularSeries {
  const noise = normals(seed);
  let ar = 0;
  return seriesOf(days * seasonSteps, (i) => {
    ar = 0.8 * ar + 4 * noise();
    const spike = i % 97 === 0 ? 60 : 0;
    return 200 + 80 * Math.sin((2 * Math.PI * i) / seasonSteps) + ar + spike;
  });
}

const series = workload(8);
const trainLength = 6 * seasonSteps;
const train = prefix(series, trainLength);

function testMae(forecaster: Forecaster): number {
  const fitted = forecaster.fit(train, spec);
  if (!fitted.ok) throw new Error(fitted.error.message);
  return horizonMae(series.values, fitted.value.forecastEachOrigin(series).value, spec.horizonSteps, trainLength).mae;
}

describe('learned direct models', () => {
  const naive = testMae(createNaiveForecaster());
  it.each([
    ['lag_regression', () => createLagRegressionForecaster()],
    ['random_forest', () => createRandomForestForecaster({ seed: 3 })],
  ] as const)('%s beats naive on a noisy daily cycle', (_name, make) => {
    expect(testMae(make())).toBeLessThan(0.9 * naive);
  });

  it.each([
    ['lag_regression', () => createLagRegressionForecaster()],
    ['random_forest', () => createRandomForestForecaster({ seed: 3 })],
  ] as const)('%s: forecast() on a prefix equals forecastEachOrigin() at that origin', (_name, make) => {
    const fitted = make().fit(train, spec);
    if (!fitted.ok) throw new Error(fitted.error.message);
    const each = fitted.value.forecastEachOrigin(series);
    for (const t of [trainLength - 1, trainLength + 17, series.values.length - 1]) {
      expect(fitted.value.forecast(prefix(series, t + 1)).value).toBe(each.value[t]);
    }
  });

  it('the forest is deterministic for a seed', () => {
    const a = createRandomForestForecaster({ seed: 5 }).fit(train, spec);
    const b = createRandomForestForecaster({ seed: 5 }).fit(train, spec);
    if (!a.ok || !b.ok) throw new Error('fit failed');
    expect(Array.from(a.value.forecastEachOrigin(series).value)).toEqual(Array.from(b.value.forecastEachOrigin(series).value));
  });

  it.each([
    ['lag_regression', () => createLagRegressionForecaster()],
    ['random_forest', () => createRandomForestForecaster()],
  ] as const)('%s falls back with a reason on less than two seasons', (_name, make) => {
    const result = make().fit(prefix(series, 2 * seasonSteps), spec);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.reason).toBe('insufficient_history');
      expect(result.error.message).toMatch(/two seasons/);
    }
  });
});

describe('auto (selection and combination by validation error)', () => {
  it('reports every candidate and combination, and chooses the lowest validation MAE', () => {
    const fitted = createAutoForecaster().fitWithReport(train, spec);
    if (!fitted.ok) throw new Error(fitted.error.message);
    const { selection } = fitted.value;
    expect(selection.splitIndex).toBe(validationSplitIndex(trainLength));
    expect(selection.candidates.map((c) => c.model)).toContain('random_forest');
    expect(selection.combinations.map((c) => c.kind)).toEqual([...combinationKinds]);
    const lowest = Math.min(...selection.combinations.map((c) => c.validationMae));
    expect(selection.chosen.validationMae).toBe(lowest);
    expect(selection.band.source).toBe('validation');
    expect(selection.band.q10).toBeLessThan(selection.band.q90);
  });

  it('weighs the members by validation errors only, and calibrates the band on the validation residuals only', () => {
    const fitted = createAutoForecaster().fitWithReport(train, spec);
    if (!fitted.ok) throw new Error(fitted.error.message);
    const { selection } = fitted.value;
    const validationMae = new Map(selection.candidates.map((c) => [c.model, c.accuracy.mae]));
    for (const c of selection.combinations) {
      if (c.kind === 'inverse_error_top3') {
        const raw = c.members.map((m) => 1 / validationMae.get(m)!);
        const sum = raw.reduce((a, b) => a + b, 0);
        c.weights.forEach((w, i) => {
          expect(w).toBeCloseTo(raw[i]! / sum, 12);
        });
      }
      // Members are the best by validation MAE, in that order.
      const maes = c.members.map((m) => validationMae.get(m)!);
      expect([...maes].sort((a, b) => a - b)).toEqual(maes);
    }
    // One residual per validation origin: the band's quantiles come from nothing else.
    const origins = selection.candidates.find((c) => c.model === 'naive')!.accuracy.count;
    expect(selection.band.count).toBe(origins);
    expect(origins).toBe(trainLength - 1 - selection.splitIndex - spec.horizonSteps);
  });

  it('never looks at the test window: later data changes neither the choice nor any forecast up to the training end', () => {
    const a = createAutoForecaster().fitWithReport(train, spec);
    // Same training part, wildly different future.
    const other: RegularSeries = { ...series, values: Float64Array.from(series.values, (v, i) => (i < trainLength ? v : 5000 - v)) };
    const b = createAutoForecaster().fitWithReport(prefix(other, trainLength), spec);
    if (!a.ok || !b.ok) throw new Error('fit failed');
    expect(b.value.selection).toEqual(a.value.selection);
    const fa = a.value.fitted.forecastEachOrigin(series).value;
    const fb = b.value.fitted.forecastEachOrigin(other).value;
    expect(Array.from(fb.subarray(0, trainLength))).toEqual(Array.from(fa.subarray(0, trainLength)));
  });

  it('its validation never uses the last training targets as fitting data (selection changes when only validation data change)', () => {
    const split = validationSplitIndex(trainLength);
    const changed: RegularSeries = { ...train, values: Float64Array.from(train.values, (v, i) => (i > split + 10 ? v + (i % 2 === 0 ? 300 : -300) : v)) };
    const a = createAutoForecaster().fitWithReport(train, spec);
    const b = createAutoForecaster().fitWithReport(changed, spec);
    if (!a.ok || !b.ok) throw new Error('fit failed');
    expect(b.value.selection.chosen.validationMae).not.toBe(a.value.selection.chosen.validationMae);
  });

  it('beats the best single baseline on the test part of a noisy daily cycle, with a calibrated band', () => {
    const fitted = createAutoForecaster().fit(train, spec);
    if (!fitted.ok) throw new Error(fitted.error.message);
    const each = fitted.value.forecastEachOrigin(series);
    const auto = horizonMae(series.values, each.value, spec.horizonSteps, trainLength).mae;
    expect(auto).toBeLessThan(testMae(createNaiveForecaster()));
    let inside = 0;
    let count = 0;
    for (let t = trainLength; t + 3 < series.values.length; t++) {
      const y = series.values[t + 3]!;
      count++;
      if (y >= each.p10[t]! && y <= each.p90[t]!) inside++;
    }
    expect(inside / count).toBeGreaterThan(0.65);
    expect(inside / count).toBeLessThan(0.95);
  });
});
