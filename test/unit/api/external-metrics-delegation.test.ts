/**
 * Delegated authentication and authorization (TokenReview, SubjectAccessReview, and the
 * kube-system/extension-apiserver-authentication ConfigMap) through the real @kubernetes/client-node
 * code. No kube-apiserver runs here, so a local HTTPS server plays its part: it serves the
 * ConfigMap, answers reviews from a small policy, and RECORDS THE EXACT REQUESTS it receives, which
 * the tests then check field by field. What a real API server would decide is not tested here.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { ExternalMetricsServer } from '../../../src/api/extension-server/index.js';
import { createCertificate, createTlsMetrics, renderKubeconfig } from '../../../src/publish/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { makeSnapshot, storeOf } from '../publish/external-metrics/snapshot-fixture.js';
import { expiries, reloadCounts } from '../publish/tls-samples.js';
import { call, configFromYaml, makeTestPki, startServer, type TestPki } from './external-metrics-harness.js';

const serviceToken = 'foresight-service-account-token';
const hpaUser = 'system:serviceaccount:kube-system:horizontal-pod-autoscaler';

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

/** The stand-in for kube-apiserver. */
class FakeKubeApiServer {
  readonly requests: Recorded[] = [];
  configMapData: Record<string, string> = {};
  failReviews = false;
  #server: Server | undefined;

  constructor(private readonly pki: TestPki) {}

  get url(): string {
    return `https://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  reviews(kind: 'tokenreviews' | 'subjectaccessreviews'): Recorded[] {
    return this.requests.filter((r) => r.path.endsWith(`/${kind}`));
  }

  async start(): Promise<void> {
    this.#server = createServer({ key: this.pki.serving.keyPem, cert: this.pki.serving.certPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const record: Recorded = { method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, authorization: req.headers.authorization, body: text === '' ? undefined : JSON.parse(text) };
        this.requests.push(record);
        const send = (code: number, body: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (record.authorization !== `Bearer ${serviceToken}`) return send(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401, reason: 'Unauthorized' });
        if (record.method === 'GET' && record.path === '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication') {
          return send(200, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extension-apiserver-authentication', namespace: 'kube-system' }, data: this.configMapData });
        }
        if (this.failReviews) return send(500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, reason: 'InternalError', message: 'etcd is down' });
        const body = record.body as { spec: Record<string, unknown> };
        if (record.method === 'POST' && record.path === '/apis/authentication.k8s.io/v1/tokenreviews') {
          const token = body.spec['token'];
          return send(201, {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenReview',
            spec: body.spec,
            status:
              token === 'hpa-token'
                ? { authenticated: true, user: { username: hpaUser, uid: 'uid-hpa', groups: ['system:serviceaccounts', 'system:authenticated'], extra: { 'authentication.kubernetes.io/pod-name': ['kcm-0'] } } }
                : { authenticated: false, error: 'token has expired' },
          });
        }
        if (record.method === 'POST' && record.path === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
          const spec = body.spec as { user: string; resourceAttributes?: { namespace: string }; nonResourceAttributes?: unknown };
          // The policy: the HPA may list external metrics in "shop"; any authenticated user may read discovery.
          const allowed = spec.nonResourceAttributes !== undefined || (spec.user === hpaUser && spec.resourceAttributes?.namespace === 'shop');
          return send(201, { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec, status: allowed ? { allowed: true, reason: 'RBAC: allowed' } : { allowed: false, reason: 'RBAC: no rule matched' } });
        }
        return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' });
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server?.close(() => resolve());
      this.#server?.closeAllConnections();
    });
  }
}

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
    kube = new FakeKubeApiServer(pki);
    kube.configMapData = {
      'client-ca-file': pki.clientCA.certPem,
      'requestheader-client-ca-file': pki.frontProxyCA.certPem,
      'requestheader-allowed-names': '["front-proxy-client"]',
      'requestheader-username-headers': '["X-Remote-User"]',
      'requestheader-group-headers': '["X-Remote-Group"]',
      'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
    };
    await kube.start();
    const kubeconfigPath = join(dir, 'kubeconfig');
    const kubeconfig = renderKubeconfig({ server: kube.url, caPem: pki.servingCA.certPem, clientCertPem: '', clientKeyPem: '', name: 'fake' })
      .replace(/client-certificate-data: .*\n/, '')
      .replace(/client-key-data: .*/, `token: ${serviceToken}`);
    await writeFile(kubeconfigPath, kubeconfig);
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

  test('the aggregator\'s availability check (system:masters) needs no review', async () => {
    const before = kube.requests.length;
    const answer = await call(server.url, '/apis/external.metrics.k8s.io/v1beta1', { ca: pki.servingCA.certPem, cert: pki.frontProxyClient, headers: aggregator('system:kube-aggregator', ['system:masters']) });
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

  test('an expired token is a 401 with the TokenReview\'s reason', async () => {
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
