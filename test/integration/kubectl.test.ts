/**
 * kubectl (the real binary, environment.md §5) as a client of the external-metrics server: raw GETs of
 * discovery and of every metric, `api-versions`, `api-resources --api-group=external.metrics.k8s.io`
 * (exit 0), and refusals. Every call gets its own --cache-dir and no stdin (kubectl otherwise prompts
 * for a user name), and never reads ~/.kube.
 *
 * Two setups:
 * - the aggregation layer's trust, from files: kubectl presents a client certificate signed by a test
 *   front-proxy CA. kubectl cannot send X-Remote-User, so, as with a real kube-apiserver, that
 *   certificate only authenticates through the client CA; the test configures the same CA as both
 *   (the X-Remote-* path itself is tested with Node's HTTPS client in test/unit/api).
 * - local mode: nothing configured; the generated kubeconfig is all kubectl needs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExternalMetricsServer } from '../../src/api/extension-server/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { requireBinaries } from '../support/binaries.js';
import { kubectl } from '../support/kubectl.js';
import { anomaly, decision, makeSnapshot, storeOf } from '../unit/publish/external-metrics/snapshot-fixture.js';
import { call, configFromYaml, kubectlFlags, makeTestPki, startServer, type TestPki } from '../unit/api/external-metrics-harness.js';

const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 15));
const store = storeOf(
  makeSnapshot({
    completedAtMs: Date.UTC(2026, 10, 2, 12, 0, 0),
    queues: [
      { queue: 'orders', depth: 1200, forecasts: { 900: [1000, 1500.5, 2000] } },
      { queue: 'claims', depth: 3, forecasts: { 900: [1, 2, 3] } },
    ],
    decisions: [decision('worker_processes', 6)],
    anomalies: [anomaly('queue_depth', 0.75, 'orders')],
  }),
);
const base = '/apis/external.metrics.k8s.io/v1beta1/namespaces/default';

describe.skipIf(!requireBinaries('kubectl'))('kubectl against the external-metrics server', () => {
  let pki: TestPki;
  let home: string;
  let server: ExternalMetricsServer;
  let flags: string[];

  beforeAll(async () => {
    pki = await makeTestPki();
    home = await mkdtemp(join(tmpdir(), 'foresight-kubectl-'));
    const config = configFromYaml(`
logLevel: silent
externalMetrics:
  host: 127.0.0.1
  port: 0
  tls: { certFile: ${pki.serving.certFile}, keyFile: ${pki.serving.keyFile} }
  requestHeader: { clientCAFile: ${pki.frontProxyCA.certFile}, allowedNames: [front-proxy-client] }
  clientCAFile: ${pki.frontProxyCA.certFile}
`);
    server = await startServer({ config, store, clock });
    flags = kubectlFlags(pki, server.url);
  });
  afterAll(async () => {
    await server?.stop();
    await pki?.dispose();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  const raw = (path: string) => kubectl([...flags, 'get', '--raw', path], { home });

  test('get --raw of the discovery documents', async () => {
    const apis = await raw('/apis');
    expect(apis.code, apis.stderr).toBe(0);
    expect(JSON.parse(apis.stdout)).toMatchObject({ kind: 'APIGroupList', groups: [{ name: 'external.metrics.k8s.io' }] });
    const group = await raw('/apis/external.metrics.k8s.io');
    expect(JSON.parse(group.stdout)).toMatchObject({ kind: 'APIGroup', preferredVersion: { groupVersion: 'external.metrics.k8s.io/v1beta1' } });
    const resources = await raw('/apis/external.metrics.k8s.io/v1beta1');
    expect((JSON.parse(resources.stdout) as { resources: { name: string }[] }).resources.map((r) => r.name)).toEqual(['predicted_queue_depth', 'queue_depth', 'recommended_replicas', 'anomaly_score']);
    const version = await raw('/version');
    expect(JSON.parse(version.stdout)).toMatchObject({ major: '1', minor: '32' });
  });

  test.each([
    [`${base}/predicted_queue_depth?labelSelector=queue%3Dorders`, { metricLabels: { queue: 'orders', horizon: '15m', quantile: '0.5' }, value: '1500500m' }],
    [`${base}/predicted_queue_depth?labelSelector=quantile%3D0.9%2Cqueue%3Dorders`, { metricLabels: { queue: 'orders', horizon: '15m', quantile: '0.9' }, value: '2k' }],
    [`${base}/queue_depth?labelSelector=queue%3Dclaims`, { metricLabels: { queue: 'claims' }, value: '3' }],
    [`${base}/recommended_replicas?labelSelector=resource%3Dworker_processes`, { metricLabels: { resource: 'worker_processes' }, value: '6' }],
    [`${base}/anomaly_score?labelSelector=metric%3Dqueue_depth%2Cqueue%3Dorders`, { metricLabels: { metric: 'queue_depth', queue: 'orders' }, value: '750m' }],
  ])('get --raw %s', async (path, item) => {
    const run = await raw(path);
    expect(run.code, run.stderr).toBe(0);
    const list = JSON.parse(run.stdout) as { kind: string; items: unknown[] };
    expect(list.kind).toBe('ExternalMetricValueList');
    expect(list.items).toEqual([{ metricName: path.split('/').at(-1)!.split('?')[0], timestamp: '2026-11-02T12:00:00Z', window: 60, ...item }]);
  });

  test('api-versions lists the group and exits 0', async () => {
    const run = await kubectl([...flags, 'api-versions'], { home });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(['external.metrics.k8s.io/v1beta1']);
  });

  test('api-resources --api-group=external.metrics.k8s.io lists the metrics and exits 0', async () => {
    const run = await kubectl([...flags, 'api-resources', '--api-group=external.metrics.k8s.io'], { home });
    expect(run.code, run.stderr).toBe(0);
    const names = run.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/)[0]);
    expect(names.sort()).toEqual(['anomaly_score', 'predicted_queue_depth', 'queue_depth', 'recommended_replicas']);
    expect(run.stdout).toMatch(/external\.metrics\.k8s\.io\/v1beta1\s+true\s+ExternalMetricValueList/);
  });

  test('kubectl shows our Status messages', async () => {
    const unknown = await raw(`${base}/nope`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Error from server \(NotFound\): the server could not find the metric "nope"/);
    const bad = await raw(`${base}/queue_depth?labelSelector=queue%20in%20%28`);
    expect(bad.stderr).toMatch(/Error from server \(BadRequest\): invalid labelSelector/);
  });

  test('a rogue certificate is refused', async () => {
    const run = await kubectl(
      [
        `--server=${server.url}`,
        `--certificate-authority=${pki.servingCA.certFile}`,
        `--client-certificate=${pki.rogue.certFile}`,
        `--client-key=${pki.rogue.keyFile}`,
        'get',
        '--raw',
        `${base}/queue_depth`,
      ],
      { home },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/You must be logged in to the server \(Unauthorized: the client certificate is not signed by a trusted CA\)/);
  });

  test('no client certificate is refused: a token alone (TokenReview is off here), and nothing at all', async () => {
    const run = await kubectl([`--server=${server.url}`, `--certificate-authority=${pki.servingCA.certFile}`, '--token=dummy', 'get', '--raw', `${base}/queue_depth`], { home });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/You must be logged in to the server/);
    // kubectl cannot send a request with no credentials at all (it prompts); Node can.
    const bare = await call(server.url, `${base}/queue_depth`, { ca: pki.servingCA.certPem });
    expect(bare.status).toBe(401);
    expect(bare.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
  });
});

describe.skipIf(!requireBinaries('kubectl'))('kubectl with the generated local kubeconfig', () => {
  let dir: string;
  let server: ExternalMetricsServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-kubectl-local-'));
    const config = configFromYaml(`logLevel: silent\nexternalMetrics: { host: 127.0.0.1, port: 0, pkiDir: ${join(dir, '.foresight')} }`);
    server = await startServer({ config, store, clock });
  });
  afterAll(async () => {
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('KUBECONFIG=<pkiDir>/kubeconfig kubectl get --raw .../predicted_queue_depth works out of the box', async () => {
    const run = await kubectl(['get', '--raw', `${base}/predicted_queue_depth`], { home: dir, kubeconfig: server.kubeconfigPath! });
    expect(run.code, run.stderr).toBe(0);
    const list = JSON.parse(run.stdout) as { items: { metricLabels: Record<string, string>; value: string }[] };
    expect(list.items.map((i) => [i.metricLabels['queue'], i.value])).toEqual([
      ['orders', '1500500m'],
      ['claims', '2'],
    ]);
  });

  test('api-resources with the kubeconfig exits 0', async () => {
    const run = await kubectl(['api-resources', '--api-group=external.metrics.k8s.io'], { home: dir, kubeconfig: server.kubeconfigPath! });
    expect(run.code, run.stderr).toBe(0);
  });

  test('without that certificate the same server refuses', async () => {
    const pki = await makeTestPki();
    try {
      const run = await kubectl(
        [
          `--server=${server.url}`,
          `--certificate-authority=${join(dir, '.foresight', 'ca.crt')}`,
          `--client-certificate=${pki.alice.certFile}`,
          `--client-key=${pki.alice.keyFile}`,
          'get',
          '--raw',
          `${base}/queue_depth`,
        ],
        { home: dir },
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/You must be logged in to the server/);
    } finally {
      await pki.dispose();
    }
  });
});
