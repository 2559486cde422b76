// Module core: the shared vocabulary (series, inputs and their domains, clock, errors, results, durations).
// Owns: types and tiny pure helpers used by every other module, and the one copy of each shared
// piece of plumbing: starting a child process from an entry file (forkEntry: training and the
// engine's model process), the durable atomic file write, the capped read of a small untrusted file
// (readSmallFile: tokens, certificates, models), the `timestamp,value` CSV reader, and
// PromQL templating (the source renders the templates; the configuration checks them when it loads).
// May import: nothing from src/.
export * from './child-process.js';
export * from './clock.js';
export * from './domain.js';
export * from './duration.js';
export * from './errors.js';
export * from './feature-names.js';
export * from './inputs.js';
export * from './promql.js';
export * from './result.js';
export * from './sample-guard.js';
export * from './series.js';
export * from './timestamp-value-csv.js';
export * from './durable-file.js';
export * from './single-flight.js';
export * from './pacer.js';
export * from './small-file.js';
export * from './stable-hash.js';
