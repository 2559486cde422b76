/**
 * The external-metrics server reports its certificates: the serving leaf, the client CA and the
 * front-proxy (requestheader) CA bundles' earliest expiry, at start and after every reload; a
 * refused reload is counted and leaves the expiry of what is still served; a disabled server
 * exports nothing. Certificates have short, distinct lifetimes so that each value is told apart.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExternalMetricsServer } from '../../../src/api/extension-server/index.js';
import { createTlsMetrics } from '../../../src/publish/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { makeSnapshot, storeOf } from '../publish/external-metrics/snapshot-fixture.js';
import { expiries, reloadCounts, timedIssuer } from '../publish/tls-samples.js';
import { call, configFromYaml, startServer } from './external-metrics-harness.js';

const hour = 3600;
const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 30));
const store = storeOf(makeSnapshot({ completedAtMs: Date.UTC(2026, 10, 2, 12, 0, 0), queues: [{ queue: 'orders', depth: 1, forecasts: { 900: [1, 2, 3] } }] }));
const issue = timedIssuer();

describe('external-metrics server: TLS certificate metrics (files mode)', () => {
  const servingCA = issue.ca('serving-ca', 48 * hour);
  const first = issue.serving(servingCA, 5 * hour);
  const renewed = issue.serving(servingCA, 6 * hour);
  const clientCA = issue.ca('client-ca', 9 * hour);
  const nextClientCA = issue.ca('client-ca-next', 8 * hour);
  const frontProxyCA = issue.ca('front-proxy-ca', 7 * hour);
  let dir: string;
  let registry: Registry;
  let server: ExternalMetricsServer | undefined;
  const file = (name: string) => join(dir, name);
  /** Replaces the certificate before the key, as a Secret update may land: a half-written pair. */
  const writePair = async (pair: { certPem: string; keyPem: string }) => {
    await writeFile(file('tls.crt'), pair.certPem);
    await writeFile(file('tls.key'), pair.keyPem);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-em-tls-metrics-'));
    registry = new Registry();
    await writePair(first);
    await writeFile(file('client-ca.crt'), clientCA.certPem);
    await writeFile(file('front-proxy-ca.crt'), frontProxyCA.certPem);
    const config = configFromYaml(`
logLevel: silent
externalMetrics:
  host: 127.0.0.1
  port: 0
  tls: { certFile: ${file('tls.crt')}, keyFile: ${file('tls.key')} }
  clientCAFile: ${file('client-ca.crt')}
  requestHeader: { clientCAFile: ${file('front-proxy-ca.crt')} }
  reloadInterval: 1h
`);
    server = await startServer({ config, store, clock, tlsMetrics: createTlsMetrics(registry) });
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('at start: the served leaf, the client CA and the front-proxy CA, with reload counters at 0', async () => {
    expect(await expiries(registry)).toEqual({
      'external_metrics/client_ca': clientCA.expiresAtSeconds,
      'external_metrics/requestheader_client_ca': frontProxyCA.expiresAtSeconds,
      'external_metrics/serving': first.expiresAtSeconds,
    });
    const served = await call(server!.url, '/healthz', { ca: servingCA.certPem });
    expect(served.serverFingerprint).toBe(first.certificate.fingerprint256);
    expect(await reloadCounts(registry)).toEqual({ 'external_metrics/changed': 0, 'external_metrics/failed': 0, 'external_metrics/unchanged': 0 });
  });

  test('reloads: unchanged counts, a half-written pair is refused (old expiry kept), the complete pair moves the gauge', async () => {
    expect(await server!.reload()).toBe(false);
    await writeFile(file('tls.crt'), renewed.certPem);
    expect(await server!.reload()).toBe(false);
    expect((await expiries(registry))['external_metrics/serving']).toBe(first.expiresAtSeconds);
    expect((await call(server!.url, '/healthz', { ca: servingCA.certPem })).serverFingerprint).toBe(first.certificate.fingerprint256);

    await writePair(renewed);
    expect(await server!.reload()).toBe(true);
    expect((await expiries(registry))['external_metrics/serving']).toBe(renewed.expiresAtSeconds);
    expect((await call(server!.url, '/healthz', { ca: servingCA.certPem })).serverFingerprint).toBe(renewed.certificate.fingerprint256);
    expect(await reloadCounts(registry)).toEqual({ 'external_metrics/changed': 1, 'external_metrics/failed': 1, 'external_metrics/unchanged': 1 });
  });

  test('a client CA bundle during a CA change exports its earliest-expiring CA', async () => {
    await writeFile(file('client-ca.crt'), clientCA.certPem + nextClientCA.certPem);
    expect(await server!.reload()).toBe(true);
    expect((await expiries(registry))['external_metrics/client_ca']).toBe(nextClientCA.expiresAtSeconds);
  });

  test('stop removes the gauges', async () => {
    await server!.stop();
    server = undefined;
    expect(await expiries(registry)).toEqual({});
  });
});

describe('external-metrics server: TLS certificate metrics (local mode and disabled)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-em-tls-metrics-local-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('a generated local PKI: its serving certificate and its CA (the only client CA) are exported', async () => {
    const registry = new Registry();
    const server = await startServer({
      config: configFromYaml(`logLevel: silent\nexternalMetrics: { host: 127.0.0.1, port: 0, pkiDir: ${join(dir, 'pki')} }`),
      store,
      clock,
      tlsMetrics: createTlsMetrics(registry),
    });
    try {
      const [caPem, servingPem] = await Promise.all([readFile(join(dir, 'pki', 'ca.crt'), 'utf8'), readFile(join(dir, 'pki', 'serving.crt'), 'utf8')]);
      const [ca, serving] = [new X509Certificate(caPem), new X509Certificate(servingPem)];
      // The generated certificate is the one served.
      expect((await call(server.url, '/healthz', { ca: caPem })).serverFingerprint).toBe(serving.fingerprint256);
      expect(await expiries(registry)).toEqual({ 'external_metrics/client_ca': Date.parse(ca.validTo) / 1000, 'external_metrics/serving': Date.parse(serving.validTo) / 1000 });
      // Issued at the server's clock for a year, under a longer-lived CA.
      expect(Date.parse(serving.validTo) - clock.nowMs()).toBeGreaterThan(360 * 86_400_000);
      expect(Date.parse(ca.validTo)).toBeGreaterThan(Date.parse(serving.validTo));
    } finally {
      await server.stop();
    }
  });

  test('externalMetrics.enabled: false exports nothing', async () => {
    const registry = new Registry();
    const server = await startServer({ config: configFromYaml('logLevel: silent\nexternalMetrics: { enabled: false }'), store, clock, tlsMetrics: createTlsMetrics(registry) });
    expect(await server.reload()).toBe(false);
    expect(await expiries(registry)).toEqual({});
    expect(await reloadCounts(registry)).toEqual({});
    await server.stop();
  });
});
