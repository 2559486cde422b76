// Part of module publish: the Kubernetes external.metrics.k8s.io/v1beta1 API, without HTTP.
// Owns: the provider over the snapshot, label selectors, quantities, discovery documents, the pure router.
// May import: core; types only from engine and config; publish/auth types.
export * from './discovery.js';
export * from './exposure.js';
export * from './instruments.js';
export * from './k8s-types.js';
export * from './label-selector.js';
export * from './provider.js';
export * from './quantity.js';
export * from './routes.js';
export * from './served-metrics.js';
export * from './snapshot-index.js';
