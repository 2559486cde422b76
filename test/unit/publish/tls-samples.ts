/**
 * Reads the TLS certificate metrics back from a registry, and issues certificates whose expiry is
 * known to the second, for the tests of createTlsMetrics and of the two TLS servers.
 */
import type { Registry } from 'prom-client';
import { type CertificateAndKey, createCertificate, metricCatalog } from '../../../src/publish/index.js';

/** One sample: its labels and value. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

async function samplesOf(registry: Registry, name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return [];
  const { values } = await metric.get();
  return values.map((v) => ({ labels: Object.fromEntries(Object.entries(v.labels).map(([k, l]) => [k, String(l)])), value: v.value }));
}

/** `foresight_tls_certificate_expiry_timestamp_seconds` as `server/kind → seconds`, sorted by key. */
export async function expiries(registry: Registry): Promise<Record<string, number>> {
  const samples = await samplesOf(registry, metricCatalog.tlsCertificateExpiry.name);
  return Object.fromEntries(samples.map((s) => [`${s.labels['server']}/${s.labels['kind']}`, s.value] as const).sort(([a], [b]) => a.localeCompare(b)));
}

/** `foresight_tls_reloads_total` as `server/outcome → count`, sorted by key. */
export async function reloadCounts(registry: Registry): Promise<Record<string, number>> {
  const samples = await samplesOf(registry, metricCatalog.tlsReloads.name);
  return Object.fromEntries(samples.map((s) => [`${s.labels['server']}/${s.labels['outcome']}`, s.value] as const).sort(([a], [b]) => a.localeCompare(b)));
}

/** A certificate and the Unix second it expires at, computed from what was asked for (not read back from it). */
export interface Timed extends CertificateAndKey {
  readonly expiresAtSeconds: number;
}

/**
 * Certificates that started a minute ago (on a whole second, so that the expiry is exact) and last
 * the given number of seconds: short, distinct lifetimes tell the exported values apart.
 */
export function timedIssuer(): {
  ca(name: string, validForSeconds: number): Timed;
  serving(issuer: CertificateAndKey, validForSeconds: number): Timed;
  client(issuer: CertificateAndKey, name: string, validForSeconds: number): Timed;
} {
  // The TLS handshake checks validity against the wall clock, so the certificates must be valid now.
  const notBeforeMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const timed = (certificate: CertificateAndKey, validForSeconds: number): Timed => ({ ...certificate, expiresAtSeconds: notBeforeMs / 1000 + validForSeconds });
  return {
    ca: (name, validForSeconds) => timed(createCertificate({ subject: { commonName: name }, usage: 'ca', notBeforeMs, validForSeconds }), validForSeconds),
    serving: (issuer, validForSeconds) =>
      timed(createCertificate({ subject: { commonName: 'foresight' }, usage: 'server', hosts: ['localhost', '127.0.0.1'], notBeforeMs, validForSeconds }, issuer), validForSeconds),
    client: (issuer, name, validForSeconds) => timed(createCertificate({ subject: { commonName: name }, usage: 'client', notBeforeMs, validForSeconds }, issuer), validForSeconds),
  };
}
