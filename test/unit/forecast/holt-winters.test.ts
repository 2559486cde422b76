import { describe, expect, it } from 'vitest';
import type { RegularSeries } from '../../../src/core/index.js';
import { createHoltWintersForecaster, seasonPhase } from '../../../src/forecast/index.js';
import type { ForecastSpec } from '../../../src/forecast/index.js';
import { lcg } from './series-helpers.js';

const stepSeconds = 60;
const m = 1440;
const spec: ForecastSpec = { stepSeconds, seasonSteps: m, horizonSteps: 15 };
const dayMs = 86_400_000;

/**
 * A week of a mostly empty queue (0–3 jobs) at one minute, whose first day carries an afternoon
 * burst of thousands of jobs: the shape of the demo's `ml_inference` queue that made Holt-Winters
 * publish a depth of 682 at 05:07 while every day had 0–3 at that time.
 */
function burstyFirstDay(startMs: number): RegularSeries {
  const random = lcg(7);
  const length = 7 * m + 1;
  const values = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const atMs = startMs + i * stepSeconds * 1000;
    const minuteOfDay = Math.floor((atMs % dayMs) / 60_000);
    const firstDay = i < m;
    const burst = firstDay && minuteOfDay >= 14 * 60 && minuteOfDay < 17 * 60 ? 4000 + 3000 * random() : 0;
    values[i] = Math.floor(4 * random()) + burst;
  }
  return { startMs, stepSeconds, values };
}

describe('Holt-Winters', () => {
  // A buffer that starts exactly a week before "now" (as the service's does), at several times of day.
  it.each(['05:07', '00:00', '13:33', '16:20'])('publishes no ghost forecast after a burst on the first day of the buffer (now = %s)', (time) => {
    const [hours, minutes] = time.split(':').map(Number) as [number, number];
    const nowMs = Date.UTC(2024, 0, 8, hours, minutes);
    const series = burstyFirstDay(nowMs - 7 * dayMs);
    const fitted = createHoltWintersForecaster().fit(series, spec);
    expect(fitted.ok).toBe(true);
    if (!fitted.ok) return;
    const point = fitted.value.forecast(series);
    // Days 2–7 hold 0–3 at every time of day: a forecast beyond a few jobs is not supported by them.
    expect(point.value).toBeGreaterThan(-10);
    expect(point.value).toBeLessThan(20);
    // The same holds for every origin of the last day, not only the newest one.
    const each = fitted.value.forecastEachOrigin(series).value.subarray(6 * m);
    for (const value of each) expect(Math.abs(value)).toBeLessThan(30);
  });

  it('ties the season to the clock: buffers that start at different times forecast the same slot alike', () => {
    // A clean daily shape: a peak at 12:00 UTC. Two buffers end at the same instant but start 7 h apart.
    const shape = (atMs: number) => 100 + 80 * Math.exp(-(((atMs % dayMs) / 3_600_000 - 12) ** 2) / 4);
    const endMs = Date.UTC(2024, 0, 10, 10, 0);
    const make = (days: number, extraSteps: number): RegularSeries => {
      const length = days * m + extraSteps + 1;
      const startMs = endMs - (length - 1) * stepSeconds * 1000;
      return { startMs, stepSeconds, values: Float64Array.from({ length }, (_, i) => shape(startMs + i * stepSeconds * 1000)) };
    };
    const params = { alpha: 0.3, beta: 0, gamma: 0.1, phi: 0.98 };
    const a = make(4, 0);
    const b = make(4, 7 * 60);
    expect(seasonPhase(a.startMs, stepSeconds, m)).not.toBe(seasonPhase(b.startMs, stepSeconds, m));
    const fa = createHoltWintersForecaster({ params }).fit(a, spec);
    const fb = createHoltWintersForecaster({ params }).fit(b, spec);
    if (!fa.ok || !fb.ok) throw new Error('fit failed');
    const truth = shape(endMs + spec.horizonSteps * stepSeconds * 1000);
    expect(fa.value.forecast(a).value).toBeCloseTo(truth, 0);
    expect(fb.value.forecast(b).value).toBeCloseTo(truth, 0);
  });

  it('forecasts a window that slid since the fit from the state the fit ended in: one pass over the training data and the new points', () => {
    const random = lcg(3);
    const n = 3 * m + 200;
    const startMs = Date.UTC(2024, 0, 1);
    const all = Float64Array.from({ length: n }, (_, i) => 100 + 40 * Math.sin((2 * Math.PI * i) / m) + 10 * random());
    const trainLength = 3 * m;
    const fitted = createHoltWintersForecaster().fit({ startMs, stepSeconds, values: all.slice(0, trainLength) }, spec);
    if (!fitted.ok) throw new Error(fitted.error.message);
    const stepMs = stepSeconds * 1000;
    for (const k of [1, 37, 200]) {
      // The service's window: as long as the training data, slid by k steps.
      const slid: RegularSeries = { startMs: startMs + k * stepMs, stepSeconds, values: all.slice(k, trainLength + k) };
      const onePass = fitted.value.forecastEachOrigin({ startMs, stepSeconds, values: all.slice(0, trainLength + k) }).value[trainLength + k - 1]!;
      expect(fitted.value.forecast(slid).value).toBe(onePass);
      // A fresh pass over the slid window starts its state from the window's own first two seasons: not the same number.
      const p = fitted.value.parameters!;
      const freshFit = createHoltWintersForecaster({ params: { alpha: p['alpha']!, beta: p['beta']!, gamma: p['gamma']!, phi: p['phi']! } }).fit(slid, spec);
      if (freshFit.ok) expect(freshFit.value.forecastEachOrigin(slid).value[trainLength - 1]).not.toBe(onePass);
    }
    // Other values where the fit ended (another series, data rewritten since): a fresh pass, not the fit's state.
    const rewritten = all.slice(1, trainLength + 1);
    rewritten[trainLength - 2] = rewritten[trainLength - 2]! + 50;
    const other: RegularSeries = { startMs: startMs + stepMs, stepSeconds, values: rewritten };
    expect(fitted.value.forecast(other).value).toBe(fitted.value.forecastEachOrigin(other).value[trainLength - 1]);
    // A history that ends before the fit's last point never sees it.
    const prefix: RegularSeries = { startMs, stepSeconds, values: all.slice(0, trainLength - 10) };
    expect(fitted.value.forecast(prefix).value).toBe(fitted.value.forecastEachOrigin(prefix).value[trainLength - 11]);
  });

  it('places slot 0 of the season at midnight UTC for a daily season', () => {
    expect(seasonPhase(Date.UTC(2024, 0, 1), 60, 1440)).toBe(0);
    expect(seasonPhase(Date.UTC(2024, 0, 1, 5, 7), 60, 1440)).toBe(5 * 60 + 7);
    expect(seasonPhase(Date.UTC(2023, 11, 31, 23, 59), 60, 1440)).toBe(1439);
  });
});
