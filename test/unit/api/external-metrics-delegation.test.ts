/**
 * Delegated authentication and authorization (TokenReview, SubjectAccessReview, and the
 * kube-system/extension-apiserver-authentication ConfigMap) through the real @kubernetes/client-node
 * code, against the recording stand-in for kube-apiserver of fake-kube-api-server.ts. What a real
 * API server would decide is not tested here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { ExternalMetricsServer } from '../../../src/api/extension-server/index.js';
import { createCertificate, createTlsMetrics } from '../../../src/publish/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { makeSnapshot, storeOf } from '../publish/external-metrics/snapshot-fixture.js';
import { expiries, reloadCounts } from '../publish/tls-samples.js';
import { call, configFromYaml, makeTestPki, startServer, type TestPki } from './external-metrics-harness.js';
import { FakeKubeApiServer, hpaUser, serviceToken, writeKubeconfigFor } from './fake-kube-api-server.js';

describe('delegated mode against a recording stand-in for kube-apiserver', () => {
  let pki: TestPki;
  let dir: string;
  let kube: FakeKubeApiServer;
  let server: ExternalMetricsServer;
  const registry = new Registry();
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 10));
  const store = storeOf(makeSnapshot({ completedAtMs: Date.UTC(2026, 10, 2, 12, 0, 0), queues: [{ queue: 'orders', depth: 10, forecasts: { 900: [1, 2, 3] } }] }));
  const path = (namespace: string) => `/apis/external.metrics.k8s.io/v1beta1/namespaces/${namespace}/predicted_queue_depth?labelSelector=queue%3Dorders`;
  const aggregator = (user: string, groups: string[]) => ({ 'X-Remote-User': user, 'X-Remote-Group': groups });

  beforeAll(async () => {
    pki = await makeTestPki();
    dir = await mkdtemp(join(tmpdir(), 'foresight-em-delegated-'));
    kube = new FakeKubeApiServer(pki.serving);
    kube.configMapData = {
      'client-ca-file': pki.clientCA.certPem,
      'requestheader-client-ca-file': pki.frontProxyCA.certPem,
      'requestheader-allowed-names': '["front-proxy-client"]',
      'requestheader-username-headers': '["X-Remote-User"]',
      'requestheader-group-headers': '["X-Remote-Group"]',
      'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
    };
    await kube.start();
    const kubeconfigPath = await writeKubeconfigFor(kube, pki.servingCA.certPem, dir);
    const config = configFromYaml(`
logLevel: silent
externalMetrics:
  host: 127.0.0.1
  port: 0
  tls: { certFile: ${pki.serving.certFile}, keyFile: ${pki.serving.keyFile} }
  kubeconfig: ${kubeconfigPath}
  authCacheTTL: 10s
`);
    server = await startServer({ config, store, clock, tlsMetrics: createTlsMetrics(registry) });
  });
  afterAll(async () => {
    await server?.stop();
    await kube?.stop();
    await pki?.dispose();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    kube.failReviews = false;
  });

  test('reads the ConfigMap at start, with the service account token', () => {
    expect(server.authMode).toBe('delegated');
    const reads = kube.requests.filter((r) => r.path.endsWith('/extension-apiserver-authentication'));
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads[0]).toMatchObject({ method: 'GET', authorization: `Bearer ${serviceToken}` });
  });

  test('the aggregator forwards the HPA: one SubjectAccessReview with exactly the forwarded identity', async () => {
    const before = kube.reviews('subjectaccessreviews').length;
    const answer = await call(server.url, path('shop'), {
      ca: pki.servingCA.certPem,
      cert: pki.frontProxyClient,
      headers: { ...aggregator(hpaUser, ['system:serviceaccounts', 'system:authenticated']), 'X-Remote-Uid': 'uid-hpa', 'X-Remote-Extra-Scopes': 'metrics' },
    });
    expect(answer.status).toBe(200);
    const reviews = kube.reviews('subjectaccessreviews').slice(before);
    expect(reviews).toHaveLength(1);
    expect(reviews[0]!.body).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: hpaUser,
        uid: 'uid-hpa',
        groups: ['system:serviceaccounts', 'system:authenticated'],
        extra: { scopes: ['metrics'] },
        resourceAttributes: { namespace: 'shop', verb: 'list', group: 'external.metrics.k8s.io', version: 'v1beta1', resource: 'predicted_queue_depth' },
      },
    });
  });

  test('a decision is reused for the cache TTL, then asked again', async () => {
    const headers = aggregator(hpaUser, ['system:serviceaccounts']);
    await call(server.url, path('shop'), { ca: pki.servingCA.certPem, cert: pki.frontProxyClient, headers });
    const count = kube.reviews('subjectaccessreviews').length;
    clock.advance(5);
    expect((await call(server.url, path('shop'), { ca: pki.servingCA.certPem, cert: pki.frontProxyClient, headers })).status).toBe(200);
    expect(kube.reviews('subjectaccessreviews')).toHaveLength(count);
    clock.advance(6);
    expect((await call(server.url, path('shop'), { ca: pki.servingCA.certPem, cert: pki.frontProxyClient, headers })).status).toBe(200);
    expect(kube.reviews('subjectaccessreviews')).toHaveLength(count + 1);
  });

  test('a denied access is a 403 Status in Kubernetes words', async () => {
    const answer = await call(server.url, path('default'), { ca: pki.servingCA.certPem, cert: pki.frontProxyClient, headers: aggregator(hpaUser, []) });
    expect(answer.status).toBe(403);
    expect(answer.json()).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      message: `forbidden: User "${hpaUser}" cannot list resource "predicted_queue_depth" in API group "external.metrics.k8s.io" in the namespace "default": RBAC: no rule matched`,
    });
  });

  test("the aggregator's availability check (system:masters) needs no review", async () => {
    const before = kube.requests.length;
    const answer = await call(server.url, '/apis/external.metrics.k8s.io/v1beta1', {
      ca: pki.servingCA.certPem,
      cert: pki.frontProxyClient,
      headers: aggregator('system:kube-aggregator', ['system:masters']),
    });
    expect(answer.status).toBe(200);
    expect(kube.requests.length).toBe(before);
  });

  test('a bearer token (a caller without the aggregator): exact TokenReview, then SubjectAccessReview', async () => {
    const before = kube.reviews('tokenreviews').length;
    const answer = await call(server.url, path('shop'), { ca: pki.servingCA.certPem, headers: { Authorization: 'Bearer hpa-token' } });
    expect(answer.status).toBe(200);
    const tokenReviews = kube.reviews('tokenreviews').slice(before);
    expect(tokenReviews).toHaveLength(1);
    expect(tokenReviews[0]).toMatchObject({ method: 'POST', authorization: `Bearer ${serviceToken}` });
    expect(tokenReviews[0]!.body).toEqual({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'hpa-token' } });
    const last = kube.reviews('subjectaccessreviews').at(-1)!.body as { spec: Record<string, unknown> };
    expect(last.spec).toMatchObject({ user: hpaUser, uid: 'uid-hpa', extra: { 'authentication.kubernetes.io/pod-name': ['kcm-0'] } });
  });

  test("an expired token is a 401 with the TokenReview's reason", async () => {
    const answer = await call(server.url, path('shop'), { ca: pki.servingCA.certPem, headers: { Authorization: 'Bearer stale-token' } });
    expect(answer.status).toBe(401);
    expect(answer.json()).toMatchObject({ reason: 'Unauthorized', message: expect.stringMatching(/token has expired/) });
  });

  test('reviews that fail are a 503 Status (the HPA holds), never a 500 or an "allowed"', async () => {
    kube.failReviews = true;
    const answer = await call(server.url, path('shop'), { ca: pki.servingCA.certPem, cert: pki.frontProxyClient, headers: aggregator('someone-new', []) });
    expect(answer.status).toBe(503);
    expect(answer.json()).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', message: expect.stringMatching(/SubjectAccessReview could not be made/) });
  });

  test('a rotated front-proxy CA in the ConfigMap is picked up on reload', async () => {
    const newCANotBeforeMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const newCA = createCertificate({ subject: { commonName: 'front-proxy-ca-2' }, usage: 'ca', notBeforeMs: newCANotBeforeMs, validForSeconds: 7_200 });
    const newProxy = createCertificate({ subject: { commonName: 'front-proxy-client' }, usage: 'client', notBeforeMs: Date.now() - 60_000, validForSeconds: 86_400 }, newCA);
    kube.configMapData = { ...kube.configMapData, 'requestheader-client-ca-file': newCA.certPem };
    expect(await server.reload()).toBe(true);
    const headers = aggregator(hpaUser, []);
    expect((await call(server.url, path('shop'), { ca: pki.servingCA.certPem, cert: pki.frontProxyClient, headers })).status).toBe(401);
    expect((await call(server.url, path('shop'), { ca: pki.servingCA.certPem, cert: newProxy, headers })).status).toBe(200);
    expect(await server.reload()).toBe(false); // nothing changed since
    // The front-proxy CA published by the cluster is the one whose expiry is exported.
    expect((await expiries(registry))['external_metrics/requestheader_client_ca']).toBe(newCANotBeforeMs / 1000 + 7_200);
  });

  test('a ConfigMap CA that cannot be parsed is a failed reload; the CA in use and its expiry stay', async () => {
    const before = await reloadCounts(registry);
    const expiryBefore = (await expiries(registry))['external_metrics/requestheader_client_ca'];
    const good = kube.configMapData;
    kube.configMapData = { ...good, 'requestheader-client-ca-file': 'not a certificate' };
    try {
      expect(await server.reload()).toBe(false);
      expect(await reloadCounts(registry)).toEqual({ ...before, 'external_metrics/failed': (before['external_metrics/failed'] ?? 0) + 1 });
      expect((await expiries(registry))['external_metrics/requestheader_client_ca']).toBe(expiryBefore);
    } finally {
      kube.configMapData = good;
    }
  });
});
