import { describe, expect, it } from 'vitest';
import { ForecastFeed } from '../../../src/simulate/index.js';

/** Three days of a 15-minute daily cycle with noise, as arrivals per step. */
function series(perturbFrom = Number.POSITIVE_INFINITY) {
  const n = 3 * 96;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    values[i] = 100 + 60 * Math.sin((2 * Math.PI * i) / 96) + 10 * Math.sin(i * 1.3);
    if (i > perturbFrom) values[i] = 5000 - values[i]!;
  }
  return { startMs: 0, stepSeconds: 900, values };
}

const options = { model: 'holt_winters', maxHorizonSteps: 2, refitEverySteps: 96, historySteps: 7 * 96, accuracyWindowSteps: 96 };

describe('forecast feed', () => {
  it('has no look-ahead: changing values after an origin changes no forecast made at or before it', () => {
    const cut = 150;
    const original = new ForecastFeed(series(), options);
    const perturbed = new ForecastFeed(series(cut), options);
    for (let origin = 0; origin <= cut; origin++) {
      for (const h of [1, 2]) expect(perturbed.forecast(origin, h), `origin ${origin}, h ${h}`).toEqual(original.forecast(origin, h));
      expect(perturbed.accuracy(origin)).toEqual(original.accuracy(origin));
    }
    // And it does see the change once the origin passes it.
    expect(perturbed.forecast(cut + 5, 1)).not.toEqual(original.forecast(cut + 5, 1));
  });

  it('forecasts a daily cycle well once a season has been seen, and measures it', () => {
    const feed = new ForecastFeed(series(), options);
    const s = series();
    let error = 0;
    let total = 0;
    for (let origin = 200; origin < 280; origin++) {
      error += Math.abs(feed.forecast(origin, 1)!.value - s.values[origin + 1]!);
      total += s.values[origin + 1]!;
    }
    expect(error / total).toBeLessThan(0.15);
    expect(feed.accuracy(280)).toBeGreaterThan(0.8);
    expect(feed.models).toEqual(['holt_winters', 'holt_winters', 'holt_winters']);
  });

  it('answers undefined outside the series and horizons', () => {
    const feed = new ForecastFeed(series(), options);
    expect(feed.forecast(-1, 1)).toBeUndefined();
    expect(feed.forecast(10, 3)).toBeUndefined();
    expect(feed.forecast(10_000, 1)).toBeUndefined();
    expect(feed.accuracy(0)).toBeUndefined();
  });
});
