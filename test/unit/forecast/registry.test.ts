import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ForecastModelName } from '../../../src/config/index.js';
import { createAllForecasters, createForecaster, createServingForecaster, forecasterNames, isForecasterName, type ServingModelName, servingModelNames } from '../../../src/forecast/index.js';

describe('registry', () => {
  it('lists the five baselines, simplest first', () => {
    expect(forecasterNames).toEqual(['naive', 'seasonal_naive', 'seasonal_mean', 'linear_trend', 'holt_winters']);
  });

  it('has exactly the model names the configuration accepts', () => {
    expectTypeOf<ServingModelName>().toEqualTypeOf<ForecastModelName>();
    for (const name of servingModelNames) expect(createServingForecaster(name).name).toBe(name);
  });

  it('creates each model under its own name, and nothing for unknown names', () => {
    for (const name of forecasterNames) expect(createForecaster(name).name).toBe(name);
    expect(createAllForecasters().map((f) => f.name)).toEqual(forecasterNames);
    expect(createForecaster('lstm')).toBeUndefined();
    expect(isForecasterName('toString')).toBe(false);
  });
});
