// The parts of actuate that load @kubernetes/client-node (tens of MB resident): finding the cluster,
// the Lease store, the workload scaler. createActuator imports kube-session.ts only when actuation
// is enabled; tests and embedders that want these parts import them from here.
export * from './kube-connection.js';
export * from './kube-session.js';
export * from './kubernetes-api.js';
export * from './kubernetes-lease-store.js';
export * from './kubernetes-workload-scaler.js';
