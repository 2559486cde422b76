// Module publish: the outward surfaces built from the snapshot (metrics, and later external metrics and KEDA).
// Owns: the metric catalog, the recorder implementation, Kubernetes Status bodies.
// May import: core; types only from engine, source and config.
export * from './auth/index.js';
export * from './external-metrics/index.js';
// KEDA: only what other modules use, so that its helper names cannot clash with other surfaces'.
export {
  answerMetricsApi,
  createKedaGrpcServer,
  createKedaMetrics,
  externalScalerProtoPath,
  type KedaGrpcServer,
  type KedaGrpcServerDeps,
  type KedaMetrics,
  type KedaProblem,
  type KedaTimers,
  KedaTlsError,
  type MetricsApiBody,
  noKedaMetrics,
} from './keda/index.js';
export * from './metrics.js';
export * from './pki/index.js';
export * from './status.js';
