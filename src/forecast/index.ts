// Module forecast: predicting a series `horizonSteps` ahead, and measuring how well that works.
// Owns: the Forecaster port, the baseline models (one file each), the registry, accuracy measures,
// rolling-origin backtests, validation-based selection and ensembles, the LSTM's features and
// model (lstm/), and the Random Forest resource optimizer (random-forest/). Pure but for lstm/,
// which wraps TensorFlow.js.
// May import: core only (forecast/lstm/ may also import TensorFlow.js).
export * from './accuracy.js';
export * from './backtest.js';
export * from './fallback.js';
export * from './forecaster.js';
export * from './holt-winters.js';
export * from './linear-trend.js';
export * from './naive.js';
export * from './registry.js';
export * from './residual-bands.js';
export * from './seasonal-mean.js';
export * from './seasonal-naive.js';
export * from './sanity.js';
export * from './select.js';
export * from './serving.js';
export * from './spec.js';
export * from './direct-model.js';
export * from './ensemble.js';
export * from './features/index.js';
export * from './lag-regression.js';
export * from './random-forest/index.js';
export * from './seeded-random.js';
export * from './lstm/index.js';
export * from './lifecycle.js';
export * from './matured-accuracy.js';
