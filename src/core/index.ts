// Module core: the shared vocabulary (series, inputs and their domains, clock, errors, results, durations).
// Owns: types and tiny pure helpers used by every other module, and the one way a module starts a
// child process from an entry file of its own (forkEntry: training and the engine's model process).
// May import: nothing from src/.
export * from './child-process.js';
export * from './clock.js';
export * from './domain.js';
export * from './duration.js';
export * from './errors.js';
export * from './inputs.js';
export * from './result.js';
export * from './sample-guard.js';
export * from './series.js';
