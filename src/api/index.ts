// Module api: the HTTP server for operators and Prometheus.
// Owns: /scaling/*, /metrics, health endpoints, the web view, KEDA's metrics-api route, the HTTP
// port's listener and guards (TLS, client certificates, bearer token), the external-metrics
// HTTPS server (an extension API server), and the graceful stop both ports share (close-server.ts).
// May import: core, publish; types only from engine and config.
export type { ClientCertificateTrust } from './access.js';
export * from './http-listener.js';
export * from './keda-routes.js';
export * from './server.js';
export * from './extension-server/index.js';
