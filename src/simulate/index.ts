// Module simulate: trace-driven autoscaling simulation (DESIGN.md "foresight simulate").
// Owns: the queue and replica model, the policies under test (HPA and KEDA emulations, Foresight's
// engine with causal forecasts, the oracle), the SPEC elasticity metrics and the SVG plot. Pure:
// no clock, no I/O; the CLI and the benchmark read and write the files.
// May import: core, forecast, decide, anomaly.
export * from './band-calibration.js';
export * from './engine-policy.js';
export * from './forecast-feed.js';
export * from './frontier.js';
export * from './frontier-svg.js';
export * from './hpa.js';
export * from './hpa-policy.js';
export * from './metrics.js';
export * from './oracle-policy.js';
export * from './policy.js';
export * from './predictive-policy.js';
export * from './queue.js';
export * from './simulate.js';
export * from './sweep.js';
export * from './trace.js';
export * from './svg.js';
