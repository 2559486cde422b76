// Part of module publish: certificates for the external-metrics API.
// Owns: a DER writer, X.509 certificate issuing with node:crypto, the local CA and kubeconfig.
// May import: node built-ins, yaml.
export * from './certificate.js';
export * from './kubeconfig.js';
export * from './local-pki.js';
