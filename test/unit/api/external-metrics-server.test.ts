/**
 * The external-metrics HTTPS server end to end on 127.0.0.1: TLS, the local (secure by default)
 * mode, front-proxy and client-certificate authentication from files, certificate reload, errors as
 * Status on the wire, request metrics, and fuzzed raw requests that must never crash the server.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { parse } from 'yaml';
import type { ExternalMetricsServer } from '../../../src/api/extension-server/index.js';
import { createCertificate, createExternalMetricsInstruments } from '../../../src/publish/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { prng } from '../publish/external-metrics/prng.js';
import { makeSnapshot, storeOf } from '../publish/external-metrics/snapshot-fixture.js';
import { call, clientContext, configFromYaml, filesModeYaml, makeTestPki, startServer, type TestPki } from './external-metrics-harness.js';

const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 30));
const snapshot = makeSnapshot({
  completedAtMs: Date.UTC(2026, 10, 2, 12, 0, 0),
  queues: [
    { queue: 'orders', depth: 1200, forecasts: { 900: [900, 1500.5, 2100], 3600: [100, 200, 300] } },
    { queue: 'claims', depth: 3, forecasts: { 900: [1, 2, 3] } },
  ],
});
const store = storeOf(snapshot);
const metricPath = '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue%3Dorders';

describe('local mode: nothing configured outside a cluster', () => {
  let dir: string;
  let server: ExternalMetricsServer;
  let kubeconfig: { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const fromKubeconfig = (field: string | undefined) => Buffer.from(field ?? '', 'base64').toString('utf8');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-em-local-'));
    const config = configFromYaml(`logLevel: silent\nexternalMetrics: { host: 127.0.0.1, port: 0, pkiDir: ${join(dir, 'pki')} }`);
    server = await startServer({ config, store, clock });
    kubeconfig = parse(await readFile(server.kubeconfigPath!, 'utf8')) as typeof kubeconfig;
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('generates a CA, certificates and a kubeconfig for this server', () => {
    expect(server.authMode).toBe('local');
    expect(server.kubeconfigPath).toBe(join(dir, 'pki', 'kubeconfig'));
    expect(kubeconfig.clusters[0]!.cluster['server']).toBe(server.url);
  });

  test('the kubeconfig client certificate reads metrics', async () => {
    const ca = fromKubeconfig(kubeconfig.clusters[0]!.cluster['certificate-authority-data']);
    const cert = fromKubeconfig(kubeconfig.users[0]!.user['client-certificate-data']);
    const key = fromKubeconfig(kubeconfig.users[0]!.user['client-key-data']);
    const answer = await call(server.url, metricPath, { ca, cert: { certPem: cert, keyPem: key } });
    expect(answer.status).toBe(200);
    expect(answer.json<{ items: { value: string }[] }>().items.map((i) => i.value)).toEqual(['1500500m']);
  });

  test("no certificate, or another CA's certificate, is refused with a 401 Status; health stays open", async () => {
    const ca = fromKubeconfig(kubeconfig.clusters[0]!.cluster['certificate-authority-data']);
    const pki = await makeTestPki();
    try {
      for (const cert of [undefined, pki.rogue, pki.alice]) {
        const answer = await call(server.url, metricPath, { ca, ...(cert === undefined ? {} : { cert }) });
        expect(answer.status).toBe(401);
        expect(answer.json()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
      }
      const token = await call(server.url, metricPath, { ca, headers: { authorization: 'Bearer anything' } });
      expect(token.status).toBe(401);
      for (const path of ['/healthz', '/livez', '/readyz']) expect((await call(server.url, path, { ca })).body).toBe('ok');
    } finally {
      await pki.dispose();
    }
  });

  test('a restart reuses the PKI, so a kubeconfig handed out keeps working', async () => {
    const config = configFromYaml(`logLevel: silent\nexternalMetrics: { host: 127.0.0.1, port: 0, pkiDir: ${join(dir, 'pki')} }`);
    const second = await startServer({ config, store, clock });
    try {
      const reread = parse(await readFile(second.kubeconfigPath!, 'utf8')) as typeof kubeconfig;
      expect(reread.users[0]!.user['client-certificate-data']).toBe(kubeconfig.users[0]!.user['client-certificate-data']);
      expect(reread.clusters[0]!.cluster['server']).toBe(second.url);
    } finally {
      await second.stop();
    }
  });
});

describe('files mode: front proxy and client certificates', () => {
  let pki: TestPki;
  let server: ExternalMetricsServer;
  let registry: Registry;
  const proxied = { 'X-Remote-User': 'system:serviceaccount:kube-system:horizontal-pod-autoscaler', 'X-Remote-Group': ['system:serviceaccounts', 'system:authenticated'] };

  beforeAll(async () => {
    pki = await makeTestPki();
    registry = new Registry();
    server = await startServer({ config: configFromYaml(filesModeYaml(pki)), store, clock, metrics: createExternalMetricsInstruments(registry) });
  });
  afterAll(async () => {
    await server?.stop();
    await pki?.dispose();
  });

  test('is files mode, serving the configured certificate', async () => {
    expect(server.authMode).toBe('files');
    expect(server.kubeconfigPath).toBeUndefined();
    const answer = await call(server.url, '/healthz', { ca: pki.servingCA.certPem });
    expect(answer.serverFingerprint).toBe(pki.serving.certificate.fingerprint256);
  });

  test('the aggregator (front-proxy certificate + X-Remote-User) reads metrics', async () => {
    const answer = await call(server.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.frontProxyClient, headers: proxied });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
  });

  test('a user certificate from the client CA reads metrics', async () => {
    expect((await call(server.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.alice })).status).toBe(200);
  });

  test('the proxy certificate without X-Remote-User, and a rogue one with it, are refused', async () => {
    const noUser = await call(server.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.frontProxyClient });
    expect(noUser.status).toBe(401);
    const rogue = await call(server.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.rogue, headers: proxied });
    expect(rogue.status).toBe(401);
    expect(rogue.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: expect.stringMatching(/not signed by a trusted CA/) });
  });

  test.each([
    ['/apis/external.metrics.k8s.io/v1beta1/namespaces/default/nope', 404, 'NotFound'],
    ['/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth?labelSelector=queue%20in', 400, 'BadRequest'],
    ['/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=horizon', 400, 'BadRequest'],
    ['/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth?labelSelector=queue%3Dnope', 404, 'NotFound'],
    ['/api', 404, 'NotFound'],
    ['/nothing/here', 404, 'NotFound'],
  ])('%s → %i %s as a Status on the wire', async (path, code, reason) => {
    const answer = await call(server.url, path, { ca: pki.servingCA.certPem, cert: pki.alice });
    expect(answer.status).toBe(code);
    expect(answer.json()).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason });
  });

  test('POST is 405 with Allow; HEAD has the headers and no body', async () => {
    const post = await call(server.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.alice, method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    const head = await call(server.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.alice, method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
  });

  test('a stale snapshot is a 503 on the wire', async () => {
    const old = new ManualClock(clock.nowMs() + 3600_000);
    const stale = await startServer({ config: configFromYaml(filesModeYaml(pki)), store, clock: old });
    try {
      const answer = await call(stale.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.alice });
      expect(answer.status).toBe(503);
      expect(answer.json()).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    } finally {
      await stale.stop();
    }
  });

  test('requests are counted by metric and code, and freshness observed', async () => {
    await call(server.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.alice });
    const text = await registry.metrics();
    expect(text).toMatch(/foresight_external_metrics_requests_total\{metric="predicted_queue_depth",code="200"\} [1-9]/);
    expect(text).toMatch(/foresight_external_metrics_requests_total\{metric="predicted_queue_depth",code="401"\} [1-9]/);
    expect(text).toMatch(/foresight_external_metrics_requests_total\{metric="other",code="404"\} [1-9]/);
    // The snapshot is 30 s old on the manual clock.
    expect(text).toMatch(/foresight_external_metrics_freshness_seconds_sum\{metric="predicted_queue_depth"\} (30|60|90|120|150|180)\b/);
    expect(text).toMatch(/foresight_external_metrics_request_duration_seconds_count\{metric="predicted_queue_depth"\} [1-9]/);
  });

  test('200 fuzzed raw requests never crash the server and never get a 500', async () => {
    const random = prng(4242);
    const pieces = [
      '/apis',
      '/external.metrics.k8s.io',
      '/v1beta1',
      '/namespaces',
      '/default',
      '/queue_depth',
      '?labelSelector=',
      'queue',
      '%3D',
      '=',
      ' ',
      '%',
      '..',
      '//',
      '\u00e9',
      '(',
      ')',
      '!',
      'in',
      '#',
      '\t',
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      let target = '';
      const parts = 1 + Math.floor(random() * 10);
      for (let p = 0; p < parts; p++) target += pieces[Math.floor(random() * pieces.length)]!;
      const method = ['GET', 'GET', 'HEAD', 'POST', 'BREW', 'GET '][Math.floor(random() * 6)]!;
      const status = await rawRequest(server.url, pki, `${method} ${target} HTTP/1.1\r\nHost: localhost\r\nX-Remote-User: mallory\r\nConnection: close\r\n\r\n`);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status, `case ${i}: ${JSON.stringify(`${method} ${target}`)}`).not.toBe(500);
    }
    expect([...statuses.keys()].some((s) => s === 200 || s === 404)).toBe(true);
    expect((await call(server.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.alice })).status).toBe(200);
  });
});

/** Writes a raw request on a fresh TLS connection (user alice) and returns the status code (0 when the server closed without one). */
function rawRequest(baseUrl: string, pki: TestPki, text: string): Promise<number> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), secureContext: clientContext(pki.servingCA.certPem, pki.alice), servername: 'localhost' }, () => {
      socket.write(Buffer.from(text, 'utf8'));
    });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

describe('certificate and CA files are reloaded when they change', () => {
  let pki: TestPki;
  let dir: string;
  let server: ExternalMetricsServer;
  const files = { cert: '', key: '', clientCA: '' };

  beforeAll(async () => {
    pki = await makeTestPki();
    dir = await mkdtemp(join(tmpdir(), 'foresight-em-reload-'));
    files.cert = join(dir, 'tls.crt');
    files.key = join(dir, 'tls.key');
    files.clientCA = join(dir, 'client-ca.crt');
    await copyFile(pki.serving.certFile, files.cert);
    await copyFile(pki.serving.keyFile, files.key);
    await copyFile(pki.clientCA.certFile, files.clientCA);
    const config = configFromYaml(`
logLevel: silent
externalMetrics:
  host: 127.0.0.1
  port: 0
  tls: { certFile: ${files.cert}, keyFile: ${files.key} }
  clientCAFile: ${files.clientCA}
  reloadInterval: 0.05
`);
    server = await startServer({ config, store, clock });
  });
  afterAll(async () => {
    await server?.stop();
    await pki?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  test('a new serving certificate is picked up (by the poller) for new connections', async () => {
    const renewed = createCertificate(
      { subject: { commonName: 'foresight-renewed' }, usage: 'server', hosts: ['localhost', '127.0.0.1'], notBeforeMs: Date.now() - 60_000, validForSeconds: 86_400 },
      pki.servingCA,
    );
    // Key first, as a Secret update may land: the half-written pair is refused until both match.
    await writeFile(files.key, renewed.keyPem);
    await writeFile(files.cert, renewed.certPem);
    await vi.waitFor(
      async () => {
        expect((await call(server.url, '/healthz', { ca: pki.servingCA.certPem })).serverFingerprint).toBe(renewed.certificate.fingerprint256);
      },
      { timeout: 120_000, interval: 50 },
    );
  });

  test('a broken pair is refused and the previous certificate stays in use', async () => {
    const before = (await call(server.url, '/healthz', { ca: pki.servingCA.certPem })).serverFingerprint;
    await writeFile(files.key, pki.alice.keyPem); // not the certificate's key
    expect(await server.reload()).toBe(false);
    expect((await call(server.url, '/healthz', { ca: pki.servingCA.certPem })).serverFingerprint).toBe(before);
  });

  test("a rotated client CA: the old CA's users are refused, the new CA's accepted", async () => {
    const newCA = createCertificate({ subject: { commonName: 'client-ca-2' }, usage: 'ca', notBeforeMs: Date.now() - 60_000, validForSeconds: 86_400 });
    const bob = createCertificate({ subject: { commonName: 'bob' }, usage: 'client', notBeforeMs: Date.now() - 60_000, validForSeconds: 86_400 }, newCA);
    await copyFile(pki.serving.certFile, files.cert);
    await copyFile(pki.serving.keyFile, files.key);
    await writeFile(files.clientCA, newCA.certPem);
    await server.reload();
    expect((await call(server.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.alice })).status).toBe(401);
    expect((await call(server.url, metricPath, { ca: pki.servingCA.certPem, cert: bob })).status).toBe(200);
  });
});
