// Module publish: the outward surfaces built from the snapshot (metrics, and later external metrics and KEDA).
// Owns: the metric catalog, the recorder implementation, Kubernetes Status bodies.
// May import: core; types only from engine, source and config.
export * from './metrics.js';
export * from './status.js';
