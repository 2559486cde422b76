import { ok } from '../../core/index.js';
import type { RegularSeries, Result } from '../../core/index.js';
import { directForecaster, directResidualBands, directTrainingSetFor } from '../direct-model.js';
import { lagFeatureCount } from '../features/index.js';
import type { FitFailure, FittedForecaster, ForecastSpec, Forecaster } from '../forecaster.js';
import { predictHistogramForest, trainHistogramForest } from './histogram-forest.js';
import type { HistogramForestOptions } from './histogram-forest.js';

/** Options of {@link createRandomForestForecaster}. */
export interface RandomForestForecasterOptions extends HistogramForestOptions {
  /** Most training rows (origins are thinned by an even stride above it). Default 8,000. */
  readonly maxRows?: number;
}

/** Fewest training origins for a forest to be worth fitting. */
const minRows = 200;

/**
 * Random Forest on lag and calendar features: a direct h-step forest of the change
 * y(t + h) − level(t) on the features of `features/lag-features.ts`. Unlike the linear lag
 * regression it can learn thresholds and interactions (after a spike the level reverts; at night
 * changes are small). The band is the in-sample residual band, which a forest makes too narrow;
 * `auto` replaces it with a band from held-out validation errors.
 */
export function createRandomForestForecaster(options: RandomForestForecasterOptions = {}): Forecaster {
  const name = 'random_forest';
  const maxRows = options.maxRows ?? 8000;
  return {
    name,
    fit(train: RegularSeries, spec: ForecastSpec): Result<FittedForecaster, FitFailure> {
      const training = directTrainingSetFor(name, train, spec, maxRows, minRows);
      if (!training.ok) return training;
      const set = training.value;
      const forest = trainHistogramForest(set.rows, set.targets, lagFeatureCount, options);
      const scratch = new Float64Array(forest.trees.length);
      const predict = (row: Float64Array): number => predictHistogramForest(forest, row, scratch);
      const bands = directResidualBands(train, spec, predict);
      return ok(directForecaster(name, spec, predict, bands, { trees: forest.trees.length, trainingRows: set.targets.length }));
    },
  };
}
