import { createAutoForecaster } from './ensemble.js';
import type { Forecaster } from './forecaster.js';
import { createLagRegressionForecaster } from './lag-regression.js';
import { createRandomForestForecaster } from './random-forest/index.js';
import { baselineFactories } from './registry.js';

/**
 * Models that may serve forecasts besides the baselines: the learned direct models and `auto`, the
 * combination chosen per series on a validation split. They are not in {@link forecasterNames}
 * because every baseline is backtested at each refit for /scaling/ml/accuracy, and these cost
 * seconds per series to fit.
 */
const servingFactories = {
  ...baselineFactories,
  lag_regression: () => createLagRegressionForecaster(),
  random_forest: () => createRandomForestForecaster(),
  auto: () => createAutoForecaster(),
} as const satisfies Readonly<Record<string, () => Forecaster>>;

/** The name of a model that may serve forecasts (`forecast.model`). */
export type ServingModelName = keyof typeof servingFactories;

/** Every model `forecast.model` accepts. */
export const servingModelNames: readonly ServingModelName[] = Object.freeze(Object.keys(servingFactories) as ServingModelName[]);

/** A new forecaster of a serving model. */
export function createServingForecaster(name: ServingModelName): Forecaster {
  return servingFactories[name]();
}
