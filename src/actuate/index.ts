// Module actuate: optional actuation — writes recommendations to the cluster, under leader election.
// Owns: the Actuator, Lease-based leader election (pure rules + I/O loop), the client-node glue.
// May import: core; types only from engine and config. Wired by src/app/.
// The files that load @kubernetes/client-node are exported from ./kubernetes.ts, not from here: only
// their types are re-exported, so that importing this module never loads the client.
export * from './actuation-metrics.js';
export * from './actuator.js';
export * from './create-actuator.js';
export * from './election.js';
export type * from './kube-connection.js';
export * from './kube-environment.js';
export type * from './kubernetes-api.js';
export type * from './kubernetes-lease-store.js';
export type * from './kubernetes-workload-scaler.js';
export * from './leader-elector.js';
export * from './lease-election.js';
export * from './lease-store.js';
export type * from './workload-scaler.js';
