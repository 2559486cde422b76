// Module api: the HTTP server for operators and Prometheus.
// Owns: /scaling/*, /metrics, health endpoints (and later the web view).
// May import: core, publish; types only from engine and config.
export * from './keda-routes.js';
export * from './server.js';
