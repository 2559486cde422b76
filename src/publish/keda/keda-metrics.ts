import { Counter, Gauge, type Registry } from 'prom-client';
import { metricCatalog } from '../metric-catalog.js';
import type { KedaProblem } from './forecast-selection.js';
import type { KedaDenial } from './namespace-access.js';

/** Which KEDA surface answered. */
export type KedaSurface = 'metrics_api' | 'grpc';

/** The method label: `metrics` for the metrics-api endpoint, the RPC name for gRPC. */
export type KedaMethod = 'metrics' | 'IsActive' | 'StreamIsActive' | 'GetMetricSpec' | 'GetMetrics';

/** How a request ended: `ok`, the kind of problem, or `permission_denied` (gRPC only: exposure rules). */
export type KedaOutcome = 'ok' | KedaProblem['kind'] | KedaDenial['kind'] | 'resource_exhausted';

/** What the KEDA surfaces report about themselves. Every method is cheap and never throws. */
export interface KedaMetrics {
  /** Counts one answered request (for a stream: its opening). */
  request(surface: KedaSurface, method: KedaMethod, outcome: KedaOutcome): void;
  /** Sets the number of open external-push streams. */
  pushStreams(count: number): void;
  /** Counts one message pushed on a stream. */
  pushed(active: boolean): void;
}

/** A KedaMetrics that records nothing (tests, and servers built without a registry). */
export const noKedaMetrics: KedaMetrics = { request() {}, pushStreams() {}, pushed() {} };

const surfaceMethods: Readonly<Record<KedaSurface, readonly KedaMethod[]>> = {
  metrics_api: ['metrics'],
  grpc: ['IsActive', 'StreamIsActive', 'GetMetricSpec', 'GetMetrics'],
};
const surfaceOutcomes: Readonly<Record<KedaSurface, readonly KedaOutcome[]>> = {
  metrics_api: ['ok', 'invalid_argument', 'not_found', 'unavailable'],
  // Only gRPC knows the caller's namespace, so only it refuses by exposure rules.
  grpc: ['ok', 'invalid_argument', 'not_found', 'unavailable', 'permission_denied'],
};

/**
 * Registers the KEDA entries of the metric catalog on `registry` (the service's own registry,
 * never the global one). Every known label set starts at 0, so that rates exist before the first
 * request. Call it once per registry.
 */
export function createKedaMetrics(registry: Registry): KedaMetrics {
  const c = metricCatalog;
  const registers = [registry];
  const requests = new Counter({ name: c.kedaRequests.name, help: c.kedaRequests.help, labelNames: c.kedaRequests.labelNames, registers });
  for (const [surface, methods] of Object.entries(surfaceMethods) as [KedaSurface, readonly KedaMethod[]][]) {
    for (const method of methods) for (const outcome of surfaceOutcomes[surface]) requests.inc({ surface, method, outcome }, 0);
  }
  const streams = new Gauge({ name: c.kedaPushStreams.name, help: c.kedaPushStreams.help, registers });
  streams.set(0);
  const pushed = new Counter({ name: c.kedaPushMessages.name, help: c.kedaPushMessages.help, labelNames: c.kedaPushMessages.labelNames, registers });
  for (const active of ['true', 'false']) pushed.inc({ active }, 0);
  return {
    request(surface, method, outcome) {
      requests.inc({ surface, method, outcome });
    },
    pushStreams(count) {
      streams.set(count);
    },
    pushed(active) {
      pushed.inc({ active: String(active) });
    },
  };
}
