// Module anomaly: scoring how unusual each point of a series is.
// Owns: the AnomalyDetector port, the detectors (one file each), the registry, the engine-side
// tracker and verdict mapping, and NAB scoring for the benchmark. Everything here is pure.
// May import: core only.
export * from './adaptive.js';
export * from './baselines.js';
export * from './detector.js';
export * from './mad.js';
export * from './nab.js';
export * from './registry.js';
export * from './seasonal.js';
export * from './sliding-window.js';
export * from './tracker.js';
export * from './zscore.js';
