import { describe, expect, it } from 'vitest';
import { prefix } from '../../../src/core/index.js';
import type { RegularSeries } from '../../../src/core/index.js';
import { createForecaster, forecasterNames } from '../../../src/forecast/index.js';
import type { FittedForecaster, ForecastSpec, ForecasterName } from '../../../src/forecast/index.js';
import { dailySine, horizonMae, lcg, normals, seasonSteps, seriesOf, stepSeconds } from './series-helpers.js';

const spec: ForecastSpec = { stepSeconds, seasonSteps, horizonSteps: 3 };

function fit(name: ForecasterName, train: RegularSeries, s: ForecastSpec = spec): FittedForecaster {
  const result = createForecaster(name).fit(train, s);
  if (!result.ok) throw new Error(`${name}: ${result.error.message}`);
  return result.value;
}

/** Fits on the first `trainLength` points and returns the h-step MAE over the origins after them. */
function testMae(name: ForecasterName, series: RegularSeries, trainLength: number, s: ForecastSpec = spec): { mae: number; count: number } {
  const fitted = fit(name, prefix(series, trainLength), s);
  return horizonMae(series.values, fitted.forecastEachOrigin(series).value, s.horizonSteps, trainLength);
}

describe('every model', () => {
  const days = 5;
  const n = days * seasonSteps;
  const train = 3 * seasonSteps;

  it.each(forecasterNames)('%s forecasts a constant exactly', (name) => {
    const { mae, count } = testMae(
      name,
      seriesOf(n, () => 42),
      train,
    );
    expect(count).toBeGreaterThan(500);
    expect(mae).toBeLessThan(1e-9);
  });

  it.each(forecasterNames)('%s never throws and returns a typed failure on an all-NaN series', (name) => {
    const result = createForecaster(name).fit(
      seriesOf(n, () => Number.NaN),
      spec,
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.reason).toBe('no_data');
  });

  it.each(forecasterNames)('%s rejects a zero horizon as an invalid spec', (name) => {
    const result = createForecaster(name).fit(seriesOf(n, dailySine), { ...spec, horizonSteps: 0 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.reason).toBe('invalid_spec');
  });

  it.each(forecasterNames)('%s gives NaN (not an exception) for a history on another step', (name) => {
    const fitted = fit(name, seriesOf(train, dailySine));
    const point = fitted.forecast(seriesOf(train, dailySine, 60));
    expect(point.value).toBeNaN();
  });

  it.each(forecasterNames)('%s: forecastEachOrigin equals forecast() on every prefix (noisy, gappy series)', (name) => {
    // A short season keeps this O(n²) check cheap; gaps include a whole missing season.
    const m = 8;
    const s: ForecastSpec = { stepSeconds, seasonSteps: m, horizonSteps: 2 };
    const noise = normals(7);
    const gap = lcg(3);
    const series = seriesOf(90, (i) => ((i >= 40 && i < 48) || gap() < 0.1 ? Number.NaN : 10 + 0.1 * i + 3 * Math.sin((2 * Math.PI * i) / m) + noise()));
    const fitted = fit(name, prefix(series, 40), s);
    const each = fitted.forecastEachOrigin(series);
    for (let t = 0; t < series.values.length; t++) {
      const single = fitted.forecast(prefix(series, t + 1));
      for (const key of ['value', 'p10', 'p90'] as const) {
        const a = each[key][t]!;
        const b = single[key];
        if (Number.isNaN(b)) expect(a, `${key} at ${t}`).toBeNaN();
        // Linear trend slides its sums in the one-pass version: equal up to rounding.
        else if (name === 'linear_trend') expect(a, `${key} at ${t}`).toBeCloseTo(b, 9);
        else expect(a, `${key} at ${t}`).toBe(b);
      }
    }
  });

  it.each(forecasterNames)('%s: p10–p90 covers about 80 %% of out-of-sample actuals on a noisy seasonal series', (name) => {
    const noise = normals(11);
    const series = seriesOf(8 * seasonSteps, (i) => dailySine(i) + 5 * noise());
    const trainLength = 5 * seasonSteps;
    const fitted = fit(name, prefix(series, trainLength));
    const each = fitted.forecastEachOrigin(series);
    let inside = 0;
    let count = 0;
    for (let t = trainLength; t + spec.horizonSteps < series.values.length; t++) {
      const y = series.values[t + spec.horizonSteps]!;
      count++;
      if (y >= each.p10[t]! && y <= each.p90[t]!) inside++;
    }
    expect(inside / count).toBeGreaterThan(0.7);
    expect(inside / count).toBeLessThan(0.9);
  });

  it.each(forecasterNames)('%s is deterministic', (name) => {
    const noise = normals(5);
    const series = seriesOf(4 * seasonSteps, (i) => dailySine(i) + noise());
    const a = fit(name, prefix(series, 3 * seasonSteps)).forecastEachOrigin(series);
    const b = fit(name, prefix(series, 3 * seasonSteps)).forecastEachOrigin(series);
    expect(a).toEqual(b);
  });

  it.each(forecasterNames)('%s never looks ahead: forecasts at early origins do not change when later points change', (name) => {
    const noise = normals(9);
    const series = seriesOf(4 * seasonSteps, (i) => dailySine(i) + noise());
    const fitted = fit(name, prefix(series, 3 * seasonSteps));
    const before = fitted.forecastEachOrigin(series);
    const cut = 3 * seasonSteps + 50;
    const changed = new Float64Array(series.values);
    for (let i = cut + 1; i < changed.length; i++) changed[i] = 1e6;
    const after = fitted.forecastEachOrigin({ ...series, values: changed });
    expect(after.value.subarray(0, cut + 1)).toEqual(before.value.subarray(0, cut + 1));
  });
});

describe('known series', () => {
  const n = 5 * seasonSteps;
  const train = 3 * seasonSteps;
  const sine = seriesOf(n, dailySine);

  it('seasonal naive and Holt-Winters forecast a pure daily sine almost exactly', () => {
    expect(testMae('seasonal_naive', sine, train).mae).toBeLessThan(1e-9);
    expect(testMae('seasonal_mean', sine, train).mae).toBeLessThan(1e-9);
    expect(testMae('holt_winters', sine, train).mae).toBeLessThan(1e-3);
  });

  it('naive and linear trend are far off on the sine (the season is what matters)', () => {
    // Over 3 steps a 50-amplitude daily sine moves by up to about 3.3.
    expect(testMae('naive', sine, train).mae).toBeGreaterThan(1);
  });

  it('linear trend forecasts a ramp exactly and Holt-Winters closely', () => {
    const ramp = seriesOf(n, (i) => 3 + 2 * i);
    expect(testMae('linear_trend', ramp, train).mae).toBeLessThan(1e-6);
    // h = 3 steps of slope 2: naive is off by 6; Holt-Winters must be far better.
    expect(testMae('naive', ramp, train).mae).toBeCloseTo(6, 9);
    expect(testMae('holt_winters', ramp, train).mae).toBeLessThan(0.3);
  });

  it('seasonal models bridge gaps: missing points and a missing half day', () => {
    const gap = lcg(17);
    const gappy = seriesOf(n, (i) => ((i >= 3.2 * seasonSteps && i < 3.7 * seasonSteps) || gap() < 0.1 ? Number.NaN : dailySine(i)));
    const sn = testMae('seasonal_naive', gappy, train);
    expect(sn.count).toBeGreaterThan(300);
    expect(sn.mae).toBeLessThan(1e-9);
    // Holt-Winters carries its state over the gap with its own forecast, which is exact here up to
    // the initial season, estimated robustly from two seasons whose gaps are interpolated.
    const hw = testMae('holt_winters', gappy, train);
    expect(hw.count).toBe(sn.count);
    expect(hw.mae).toBeLessThan(2e-3);
    // Naive forecasts everywhere after the first value, gaps or not.
    const naive = fit('naive', prefix(gappy, train)).forecastEachOrigin(gappy);
    expect(naive.value.every(Number.isFinite)).toBe(true);
  });

  it('Holt-Winters beats naive and seasonal naive on a noisy seasonal series with a trend', () => {
    const noise = normals(21);
    const series = seriesOf(8 * seasonSteps, (i) => dailySine(i) + 0.02 * i + 2 * noise());
    const trainLength = 5 * seasonSteps;
    const hw = testMae('holt_winters', series, trainLength).mae;
    expect(hw).toBeLessThan(testMae('naive', series, trainLength).mae);
    expect(hw).toBeLessThan(testMae('seasonal_naive', series, trainLength).mae);
    // The noise alone makes an MAE of about 2·0.8 = 1.6.
    expect(hw).toBeLessThan(2.5);
  });

  it('horizons longer than a season look back whole seasons', () => {
    const m = 24;
    const s: ForecastSpec = { stepSeconds: 3600, seasonSteps: m, horizonSteps: 30 };
    const hourly = seriesOf(10 * m, (i) => dailySine(i, m), 3600);
    for (const name of ['seasonal_naive', 'seasonal_mean', 'holt_winters'] as const) {
      expect(testMae(name, hourly, 5 * m, s).mae, name).toBeLessThan(1e-3);
    }
  });
});

describe('insufficient history', () => {
  const cases: ReadonlyArray<readonly [ForecasterName, number]> = [
    ['naive', 0],
    ['seasonal_naive', seasonSteps - 1],
    ['seasonal_mean', 2 * seasonSteps - 1],
    ['linear_trend', 2],
    ['holt_winters', 2 * seasonSteps],
  ];

  it.each(cases)('%s fails with insufficient_history on %i points, with a message', (name, length) => {
    const result = createForecaster(name).fit(seriesOf(length, dailySine), spec);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.reason).toBe(length === 0 ? 'no_data' : 'insufficient_history');
      expect(result.error.message).toMatch(name === 'naive' ? /finite/ : /needs/);
    }
  });

  it('Holt-Winters forecasts NaN (so the caller falls back) until its two initial seasons are complete', () => {
    const fitted = fit('holt_winters', seriesOf(3 * seasonSteps, dailySine));
    expect(fitted.forecast(seriesOf(2 * seasonSteps - 1, dailySine)).value).toBeNaN();
    expect(fitted.forecast(seriesOf(2 * seasonSteps, dailySine)).value).toBeCloseTo(dailySine(2 * seasonSteps - 1 + 3), 3);
  });
});
