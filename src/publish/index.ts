// Module publish: the outward surfaces built from the snapshot.
// Owns: the metric catalog and the recorder implementation, the external-metrics provider with its
// authentication and authorization (auth/) and local PKI (pki/), the KEDA surfaces (keda/), and
// Kubernetes Status bodies.
// May import: core; types only from engine and config (never api, cli or source).
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
  type MetricsApiBody,
  noKedaMetrics,
} from './keda/index.js';
export * from './metrics.js';
export * from './pki/index.js';
export * from './status.js';
