/**
 * Availability first (docs/external-metrics.md "Available before the first cycle"): a whole Service
 * whose source never answers (its first reconcile cycle is held back) is already discoverable by the
 * real kubectl, ready on /readyz, and answers metric values with a 503 Kubernetes Status, so that the
 * aggregator keeps the APIService Available and the HPA holds its scale. Once the source answers, the
 * same server serves values. There is no kube-apiserver here: kubectl is the third-party client the
 * aggregator would otherwise be (environment.md §6).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Service } from '../../src/app/index.js';
import type { InputRef } from '../../src/core/index.js';
import type { HistoryReadings, LatestReadings, MetricSource, TimeRange } from '../../src/source/index.js';
import { call, kubectlFlags, makeTestPki, type TestPki } from '../unit/api/external-metrics-harness.js';
import { requireBinaries } from '../support/binaries.js';
import { FakeSource } from '../support/fake-source.js';
import { kubectl } from '../support/kubectl.js';
import { buildService, configFromYaml } from '../support/service.js';

/** A source that holds every call until {@link release}, then answers from `data`: a Prometheus that does not answer yet. */
class HeldSource implements MetricSource {
  readonly calls: string[] = [];
  #release!: () => void;
  readonly #released = new Promise<void>((resolve) => {
    this.#release = resolve;
  });

  constructor(private readonly data: FakeSource) {}

  release(): void {
    this.#release();
  }

  async readLatest(inputs: readonly InputRef[], atMs: number, signal?: AbortSignal): Promise<LatestReadings> {
    this.calls.push('readLatest');
    await this.#released;
    return this.data.readLatest(inputs, atMs, signal);
  }

  async readHistory(inputs: readonly InputRef[], range: TimeRange, signal?: AbortSignal): Promise<HistoryReadings> {
    this.calls.push('readHistory');
    await this.#released;
    return this.data.readHistory(inputs, range, signal);
  }
}

const metricPath = '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue%3Dorders';

describe.skipIf(!requireBinaries('kubectl'))('the external-metrics API before the first reconcile cycle', () => {
  let pki: TestPki;
  let home: string;
  let source: HeldSource;
  let service: Service;
  let flags: string[];

  beforeAll(async () => {
    pki = await makeTestPki();
    home = await mkdtemp(join(tmpdir(), 'foresight-availability-'));
    const nowMs = Date.now();
    const samples = Array.from({ length: 240 }, (_, i) => ({ timestampMs: nowMs - (239 - i) * 60_000, value: 100 + (i % 60) }));
    source = new HeldSource(new FakeSource().set({ kind: 'queue', queue: 'orders', metric: 'depth' }, samples));
    const config = configFromYaml(`
logLevel: silent
server: { host: 127.0.0.1, port: 0 }
queues: [{ name: orders, threshold: 1000 }]
forecast: { step: 1m, season: 1h, history: 3h, horizons: [15m] }
externalMetrics:
  enabled: true
  host: 127.0.0.1
  port: 0
  tls: { certFile: ${pki.serving.certFile}, keyFile: ${pki.serving.keyFile} }
  requestHeader: { clientCAFile: ${pki.frontProxyCA.certFile}, allowedNames: [front-proxy-client] }
  clientCAFile: ${pki.frontProxyCA.certFile}
`);
    service = buildService(config, { source, env: {} });
    await service.start();
    flags = kubectlFlags(pki, service.externalMetrics.url);
  });
  afterAll(async () => {
    // The held cycle must end before stop() can (stop waits for a running cycle).
    source?.release();
    await service?.stop();
    await pki?.dispose();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  test('the first cycle is running and held: no snapshot yet', () => {
    expect(source.calls.length).toBeGreaterThan(0);
    expect(service.store.latest()).toBeUndefined();
  });

  test('kubectl api-resources discovers the group and exits 0', async () => {
    const run = await kubectl([...flags, 'api-resources', '--api-group=external.metrics.k8s.io'], { home });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^predicted_queue_depth\s+external\.metrics\.k8s\.io\/v1beta1\s+true\s+ExternalMetricValueList/m);
    const versions = await kubectl([...flags, 'api-versions'], { home });
    expect(versions.stdout.trim()).toBe('external.metrics.k8s.io/v1beta1');
  });

  test('both /readyz answer ready, and say no cycle has completed', async () => {
    const http = await request(service.api).get('/readyz').expect(200);
    expect(http.body).toMatchObject({ status: 'ok', firstCycleCompleted: false });
    const https = await call(service.externalMetrics.url, '/readyz', { ca: pki.servingCA.certPem });
    expect([https.status, https.body]).toEqual([200, 'ok']);
  });

  test('a metric value answers 503 with a Kubernetes Status (the HPA holds its scale)', async () => {
    const run = await kubectl([...flags, 'get', '--raw', metricPath], { home });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Error from server \(ServiceUnavailable\): no forecast snapshot yet/);
    const raw = await call(service.externalMetrics.url, metricPath, { ca: pki.servingCA.certPem, cert: pki.frontProxyClient });
    expect(raw.status).toBe(503);
    expect(raw.json()).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 503, reason: 'ServiceUnavailable' });
  });

  test('once the source answers, the same server serves the value', async () => {
    source.release();
    await vi.waitFor(() => expect(service.store.latest()).toBeDefined(), { timeout: 120_000, interval: 100 });
    const run = await kubectl([...flags, 'get', '--raw', metricPath], { home });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ kind: 'ExternalMetricValueList', items: [{ metricName: 'predicted_queue_depth', metricLabels: { queue: 'orders' } }] });
  });
});
