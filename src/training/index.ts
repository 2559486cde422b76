// Module training: everything about learned models that touches the outside world.
// Owns: the model store (atomic save/load under SCALING_ML_MODEL_PATH, zod-validated meta.json),
// the resource optimizer's observation log (JSON Lines under <SCALING_ML_MODEL_PATH>/optimizer),
// the training runner (a low-priority child process), and the lifecycle that loads, retrains and shadow-deploys.
// May import: core, forecast; types only from source and config.
export * from './config-options.js';
export * from './lifecycle.js';
export * from './meta-schema.js';
export * from './model-store.js';
export * from './observation-log.js';
export * from './training-job.js';
export * from './worker-runner.js';
