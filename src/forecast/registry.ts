import type { Forecaster } from './forecaster.js';
import { createHoltWintersForecaster } from './holt-winters.js';
import { createLinearTrendForecaster } from './linear-trend.js';
import { createNaiveForecaster } from './naive.js';
import { createSeasonalMeanForecaster } from './seasonal-mean.js';
import { createSeasonalNaiveForecaster } from './seasonal-naive.js';

/**
 * Every model by name: the only place that lists them (like KEDA's scaler switch). The names are
 * the ones the configuration file accepts (`forecast.model`). The order is the order of preference
 * when two models score the same: simpler first.
 */
export const baselineFactories = {
  naive: createNaiveForecaster,
  seasonal_naive: createSeasonalNaiveForecaster,
  seasonal_mean: createSeasonalMeanForecaster,
  linear_trend: createLinearTrendForecaster,
  holt_winters: createHoltWintersForecaster,
} as const satisfies Readonly<Record<string, () => Forecaster>>;

/** The name of a registered model. */
export type ForecasterName = keyof typeof baselineFactories;

/** All registered model names, simplest first. */
export const forecasterNames: readonly ForecasterName[] = Object.freeze(Object.keys(baselineFactories) as ForecasterName[]);

/** True when `name` is a registered model. */
export function isForecasterName(name: string): name is ForecasterName {
  return Object.hasOwn(baselineFactories, name);
}

/** A new forecaster of the named model with its default options. */
export function createForecaster(name: ForecasterName): Forecaster;
/** A new forecaster of the named model, or undefined for an unknown name. */
export function createForecaster(name: string): Forecaster | undefined;
export function createForecaster(name: string): Forecaster | undefined {
  return isForecasterName(name) ? baselineFactories[name]() : undefined;
}

/** One forecaster of every registered model, simplest first. */
export function createAllForecasters(): Forecaster[] {
  return forecasterNames.map((name) => baselineFactories[name]());
}
