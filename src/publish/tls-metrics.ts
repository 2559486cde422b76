// The TLS certificate metrics of the external-metrics and KEDA gRPC servers (expiry, reloads).
import type { X509Certificate } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { metricCatalog } from './metric-catalog.js';

/** The TLS servers whose certificates are exported (the `server` label). */
export type TlsServerName = 'external_metrics' | 'keda_grpc' | 'http';

/** What one check of a TLS server's certificate files found (the `outcome` label). */
export type TlsReloadOutcome = 'changed' | 'unchanged' | 'failed';

/** The certificates a TLS server uses at one point in time. An empty CA list exports nothing for its kind. */
export interface TlsCertificatesInUse {
  /** The leaf certificate served to clients. */
  readonly serving: X509Certificate;
  /** CAs that client certificates must chain to (mutual TLS, or kube-apiserver's client-ca-file). */
  readonly clientCAs: readonly X509Certificate[];
  /** CAs of the front proxy (the kube-apiserver aggregator), external-metrics only. */
  readonly requestHeaderClientCAs?: readonly X509Certificate[];
}

/** What the TLS servers report about their certificates. Every method is cheap and never throws. */
export interface TlsMetrics {
  /** The server listens with these certificates: sets its expiry gauges and starts its reload counters at 0. */
  started(server: TlsServerName, certificates: TlsCertificatesInUse): void;
  /** A check of the files found nothing new, or was refused (the gauges keep the material still served). */
  reloaded(server: TlsServerName, outcome: 'unchanged' | 'failed'): void;
  /** A check found new material, now served: the gauges follow it. */
  reloaded(server: TlsServerName, outcome: 'changed', certificates: TlsCertificatesInUse): void;
  /** The server stopped: its expiry gauges go away (the counters stay, as counters do). */
  stopped(server: TlsServerName): void;
}

/** TlsMetrics that record nothing (tests, servers built without a registry). */
export const noTlsMetrics: TlsMetrics = { started() {}, reloaded() {}, stopped() {} };

/** Unix seconds of the earliest notAfter among `certificates`, or undefined when there is none. */
export function earliestExpirySeconds(certificates: readonly X509Certificate[]): number | undefined {
  const expiries = certificates.map((c) => Date.parse(c.validTo) / 1000).filter(Number.isFinite);
  return expiries.length === 0 ? undefined : Math.min(...expiries);
}

/**
 * Registers `foresight_tls_certificate_expiry_timestamp_seconds` and `foresight_tls_reloads_total`
 * on `registry`, for both TLS servers: build it once per registry and give it to each. A server
 * that is off or plaintext never calls it, so it has no series at all (an alert on the expiry
 * cannot fire for a certificate that is not served).
 */
export function createTlsMetrics(registry: Registry): TlsMetrics {
  const c = metricCatalog;
  const registers = [registry];
  const expiry = new Gauge({ name: c.tlsCertificateExpiry.name, help: c.tlsCertificateExpiry.help, labelNames: c.tlsCertificateExpiry.labelNames, registers });
  const reloads = new Counter({ name: c.tlsReloads.name, help: c.tlsReloads.help, labelNames: c.tlsReloads.labelNames, registers });
  const show = (server: TlsServerName, certificates: TlsCertificatesInUse): void => {
    const kinds = [
      ['serving', [certificates.serving]],
      ['client_ca', certificates.clientCAs],
      ['requestheader_client_ca', certificates.requestHeaderClientCAs ?? []],
    ] as const;
    for (const [kind, list] of kinds) {
      const seconds = earliestExpirySeconds(list);
      // A CA removed by a reload must not leave its old expiry behind.
      if (seconds === undefined) expiry.remove({ server, kind });
      else expiry.set({ server, kind }, seconds);
    }
  };
  return {
    started(server, certificates) {
      // Every outcome starts at 0, so that increase() sees the first failure.
      for (const outcome of ['changed', 'unchanged', 'failed'] satisfies TlsReloadOutcome[]) reloads.inc({ server, outcome }, 0);
      show(server, certificates);
    },
    reloaded(server: TlsServerName, outcome: TlsReloadOutcome, certificates?: TlsCertificatesInUse) {
      reloads.inc({ server, outcome });
      if (certificates !== undefined) show(server, certificates);
    },
    stopped(server) {
      for (const kind of ['serving', 'client_ca', 'requestheader_client_ca']) expiry.remove({ server, kind });
    },
  };
}
