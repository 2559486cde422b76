// Part of module publish: authentication and authorization of the external-metrics API.
// Owns: front-proxy and client-certificate authentication, TokenReview/SubjectAccessReview delegation, trust settings.
// May import: core; node built-ins; publish/pki (certificate profiles); @kubernetes/client-node (lazily).
export * from './authenticator.js';
export * from './authorizer.js';
export * from './chain-verification.js';
export * from './extension-apiserver-authentication.js';
export * from './identity.js';
export * from './kubernetes-reviews.js';
export * from './messages.js';
export * from './reviews.js';
export * from './trust.js';
