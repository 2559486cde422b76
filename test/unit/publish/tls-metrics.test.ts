/**
 * createTlsMetrics on its own: the expiry gauges follow the certificates a server reports (the
 * earliest CA of a bundle), reload outcomes are counted from 0, and a server that never started
 * (off, or plaintext) has no series at all.
 */
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, test } from 'vitest';
import { createTlsMetrics, earliestExpirySeconds, type TlsMetrics } from '../../../src/publish/index.js';
import { expiries, reloadCounts, timedIssuer } from './tls-samples.js';

const hour = 3600;
const issue = timedIssuer();
const ca = issue.ca('ca', 10 * hour);
const otherCa = issue.ca('other-ca', 4 * hour);
const frontProxyCa = issue.ca('front-proxy-ca', 6 * hour);
const serving = issue.serving(ca, 2 * hour);
const renewed = issue.serving(ca, 3 * hour);

describe('createTlsMetrics', () => {
  let registry: Registry;
  let tls: TlsMetrics;

  beforeEach(() => {
    registry = new Registry();
    tls = createTlsMetrics(registry);
  });

  test('nothing is exported before a server starts: an off or plaintext server has no series', async () => {
    expect(await expiries(registry)).toEqual({});
    expect(await reloadCounts(registry)).toEqual({});
    const text = await registry.metrics();
    expect(text).not.toMatch(/^foresight_tls_certificate_expiry_timestamp_seconds\{/m);
    expect(text).not.toMatch(/^foresight_tls_reloads_total\{/m);
  });

  test('start exports the serving leaf, the earliest CA of each bundle, and counters at 0', async () => {
    tls.started('external_metrics', { serving: serving.certificate, clientCAs: [ca.certificate, otherCa.certificate], requestHeaderClientCAs: [frontProxyCa.certificate] });
    expect(await expiries(registry)).toEqual({
      'external_metrics/client_ca': otherCa.expiresAtSeconds,
      'external_metrics/requestheader_client_ca': frontProxyCa.expiresAtSeconds,
      'external_metrics/serving': serving.expiresAtSeconds,
    });
    expect(await reloadCounts(registry)).toEqual({ 'external_metrics/changed': 0, 'external_metrics/failed': 0, 'external_metrics/unchanged': 0 });
  });

  test('a change moves the gauges, a failure or no change leaves them, and a CA removed by a reload disappears', async () => {
    tls.started('keda_grpc', { serving: serving.certificate, clientCAs: [ca.certificate] });
    tls.reloaded('keda_grpc', 'unchanged');
    tls.reloaded('keda_grpc', 'failed');
    tls.reloaded('keda_grpc', 'failed');
    expect(await expiries(registry)).toEqual({ 'keda_grpc/client_ca': ca.expiresAtSeconds, 'keda_grpc/serving': serving.expiresAtSeconds });
    tls.reloaded('keda_grpc', 'changed', { serving: renewed.certificate, clientCAs: [] });
    expect(await expiries(registry)).toEqual({ 'keda_grpc/serving': renewed.expiresAtSeconds });
    expect(await reloadCounts(registry)).toEqual({ 'keda_grpc/changed': 1, 'keda_grpc/failed': 2, 'keda_grpc/unchanged': 1 });
  });

  test('the two servers are independent; stopping one removes only its gauges and keeps the counters', async () => {
    tls.started('external_metrics', { serving: serving.certificate, clientCAs: [] });
    tls.started('keda_grpc', { serving: renewed.certificate, clientCAs: [otherCa.certificate] });
    tls.reloaded('keda_grpc', 'failed');
    tls.stopped('keda_grpc');
    expect(await expiries(registry)).toEqual({ 'external_metrics/serving': serving.expiresAtSeconds });
    expect((await reloadCounts(registry))['keda_grpc/failed']).toBe(1);
  });

  test('earliestExpirySeconds reads notAfter to the second, and is undefined for no certificate', () => {
    expect(earliestExpirySeconds([ca.certificate, serving.certificate, otherCa.certificate])).toBe(serving.expiresAtSeconds);
    expect(earliestExpirySeconds([])).toBeUndefined();
  });
});
