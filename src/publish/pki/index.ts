// Part of module publish: certificates for the external-metrics API.
// Owns: a DER writer and reader, X.509 certificate issuing with node:crypto, certificate profiles
// (the extensions chain verification reads), the local CA and kubeconfig, and the TLS files of the
// ports that serve from files (serving certificate, key, client CA).
// May import: core, node built-ins, yaml.
export * from './certificate.js';
export * from './certificate-profile.js';
export * from './kubeconfig.js';
export * from './local-pki.js';
export * from './tls-files.js';
