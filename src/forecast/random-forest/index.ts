// Random Forests: the histogram forest (pure, fast) behind the `random_forest` forecaster, and the
// resource optimizer that learns replicas per resource from history (ml-random-forest).
export * from './forecaster.js';
export * from './histogram-forest.js';
export * from './resource-optimizer.js';
