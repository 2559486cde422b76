// Module engine: the reconcile loop and the snapshot store.
// Owns: orchestration of source → forecast → (anomaly → decide) per cycle, and the read model.
// May import: core, forecast, anomaly, decide; types only from source and config.
export { forecastTargets } from './history-window.js';
export * from './learned-inputs.js';
export * from './learned-models.js';
export * from './model-host.js';
export * from './model-process.js';
export * from './observation-store.js';
export { optimizerReadingKey } from './optimizer-cycle.js';
export * from './reconciler.js';
export * from './policy-loader.js';
export * from './recorder.js';
export * from './scheduler.js';
export * from './snapshot.js';
