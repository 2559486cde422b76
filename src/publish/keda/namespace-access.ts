import { compileExposure, type ExposureRule, type NamespaceAccess } from '../external-metrics/index.js';
import { quoteForMessage } from './forecast-selection.js';

/**
 * A request refused by the exposure rules: gRPC PERMISSION_DENIED. Kept apart from KedaProblem,
 * whose kinds the metrics-api endpoint maps to HTTP codes: that endpoint has no namespace to check.
 */
export interface KedaDenial {
  readonly kind: 'permission_denied';
  readonly message: string;
}

/** Answers whether a ScaledObject's namespace may read a queue; undefined means it may. */
export type QueueExposure = (namespace: string, queue: string) => KedaDenial | undefined;

/**
 * The `externalMetrics.exposure` rules applied to the KEDA external scaler: a ScaledObject in
 * namespace X reads only the queues an HPA in X may read through the external-metrics API. The
 * namespace is the one KEDA puts in the ScaledObjectRef, so the check is as trustworthy as the KEDA
 * operator and the network path to this port (docs/keda.md: use mutual TLS).
 *
 * `rules` is read on every call and the rules are recompiled only when it returns a different
 * array (a configuration reload), so a check is a cached lookup.
 */
export function createQueueExposure(rules: () => readonly ExposureRule[]): QueueExposure {
  let compiledFrom: readonly ExposureRule[] | undefined;
  let accessFor: (namespace: string) => NamespaceAccess = compileExposure([]);
  return (namespace, queue) => {
    const current = rules();
    if (current !== compiledFrom) {
      accessFor = compileExposure(current);
      compiledFrom = current;
    }
    if (accessFor(namespace).queue(queue)) return undefined;
    // The refusal names only what the caller sent, and comes before any check of whether the queue
    // exists, so a namespace learns nothing about the queues it may not read.
    return {
      kind: 'permission_denied',
      message: `namespace ${quoteForMessage(namespace)} may not read queue ${quoteForMessage(queue)}: no rule of externalMetrics.exposure allows it`,
    };
  };
}
