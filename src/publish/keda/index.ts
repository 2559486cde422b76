// Submodule publish/keda: the KEDA surfaces (metrics-api JSON answers and the external scaler gRPC service).
// Owns: trigger parameter parsing, forecast reads for KEDA, the gRPC server and its .proto.
// May import: core, publish/metrics; types only from engine and config.
export * from './external-scaler.js';
export * from './forecast-selection.js';
export * from './grpc-server.js';
export * from './keda-metrics.js';
export * from './metrics-api.js';
export * from './scaler-metadata.js';
