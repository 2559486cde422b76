// Part of module api: the HTTPS server of the Kubernetes external-metrics API.
// Owns: TLS (with reload), the authentication mode and its inputs, request handling around publish's routes.
// May import: core, publish; types only from engine and config.
export { type AuthMode, type AuthPlan, AuthSetupError, planAuthentication, runningInCluster } from './auth-setup.js';
export { createExternalMetricsServer, type ExternalMetricsServer, type ExternalMetricsServerDeps } from './server.js';
