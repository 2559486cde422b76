// Module core: the shared vocabulary (series, inputs, clock, errors, results, durations).
// Owns: types and tiny pure helpers used by every other module.
// May import: nothing from src/.
export * from './clock.js';
export * from './duration.js';
export * from './errors.js';
export * from './inputs.js';
export * from './result.js';
export * from './series.js';
