// Submodule publish/keda: the KEDA surfaces (metrics-api JSON answers and the external scaler gRPC service).
// Owns: trigger parameter parsing, forecast reads for KEDA, the gRPC server, its .proto and its TLS credentials,
// and the exposure rules applied to ScaledObject namespaces.
// May import: core, publish/metrics, publish/external-metrics (exposure), publish/auth (messages), publish/pki (TLS files); types only from engine and config.
export * from './external-scaler.js';
export * from './forecast-selection.js';
export * from './grpc-server.js';
export * from './grpc-tls.js';
export * from './keda-metrics.js';
export * from './metrics-api.js';
export * from './namespace-access.js';
export * from './scaler-metadata.js';
