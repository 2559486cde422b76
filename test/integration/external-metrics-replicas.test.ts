/**
 * Several replicas behind one Service give the same answer: two running Foresight service instances,
 * fed by the same source data on the same (manual) clock, each with its own external-metrics HTTPS
 * server, must answer every request byte for byte identically. This holds because an answer is a
 * pure function of the snapshot (docs/external-metrics.md, "Several replicas"), and the snapshot a
 * pure function of the source data and the cycle time.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExternalMetricsServer } from '../../src/api/extension-server/index.js';
import type { Service } from '../../src/app/index.js';
import type { Sample } from '../../src/core/index.js';
import { FakeSource } from '../support/fake-source.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
import { buildService } from '../support/service.js';
import { call, configFromYaml, externalMetricsYaml, makeTestPki, startServer, type TestPki } from '../unit/api/external-metrics-harness.js';

const minuteMs = 60_000;
const startMs = Date.UTC(2026, 10, 2, 0, 0, 0);

/** A queue with an hourly cycle and a trend: deterministic, so both replicas see the same history. */
function depthSamples(level: number, untilMs: number): Sample[] {
  const samples: Sample[] = [];
  for (let t = startMs; t <= untilMs; t += minuteMs) {
    const hour = ((t - startMs) % 3_600_000) / 3_600_000;
    samples.push({ timestampMs: t, value: level * (1 + 0.3 * Math.sin(2 * Math.PI * hour)) + (t - startMs) / 600_000 });
  }
  return samples;
}

describe('two replicas, one answer', () => {
  const clock = new ManualClock(startMs + 3 * 3_600_000);
  let pki: TestPki;
  const services: Service[] = [];
  const servers: ExternalMetricsServer[] = [];

  beforeAll(async () => {
    pki = await makeTestPki();
    const untilMs = startMs + 8 * 3_600_000;
    const data: [string, Sample[]][] = [
      ['queue/orders/depth', depthSamples(800, untilMs)],
      ['queue/claims.east_2/depth', depthSamples(120, untilMs)],
      ['queue/orders/consumers', depthSamples(4, untilMs)],
      ['system/cpu_percent', depthSamples(40, untilMs)],
    ];
    const config = configFromYaml(`
logLevel: silent
server: { host: 127.0.0.1, port: 0 }
queues:
  - { name: orders, threshold: 1000 }
  - { name: claims.east_2, threshold: 200 }
forecast: { step: 1m, season: 1h, history: 2h, horizons: [5m, 15m], refitInterval: 1h }
scaling: { monitoringInterval: 30s }
${externalMetricsYaml(pki)}`);
    for (let i = 0; i < 2; i++) {
      // Each replica has its own source client, reading the same data.
      const service = buildService(config, { source: new FakeSource(data), clock, timers: new ManualTimers(clock) });
      await service.start();
      services.push(service);
      servers.push(await startServer({ config, store: service.store, clock }));
    }
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const service of services) await service.stop();
    await pki?.dispose();
  });

  const requests = [
    '/apis',
    '/apis/external.metrics.k8s.io/v1beta1',
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth',
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue%3Dorders',
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/predicted_queue_depth?labelSelector=horizon%3D5m%2Cquantile%3D0.9%2Cqueue%3Dclaims.east_2',
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth',
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/recommended_replicas',
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/anomaly_score',
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue%3Dnope',
  ];

  async function answersOf(server: ExternalMetricsServer): Promise<string[]> {
    const answers: string[] = [];
    for (const path of requests) {
      const answer = await call(server.url, path, { ca: pki.servingCA.certPem, cert: pki.alice });
      answers.push(`${answer.status} ${answer.body}`);
    }
    return answers;
  }

  test('after a cycle on each replica, every answer is byte-identical', async () => {
    for (const service of services) await service.reconciler.runCycle();
    const [first, second] = await Promise.all(servers.map(answersOf));
    expect(second).toEqual(first);
    // The answers must carry real values, or identical would prove nothing.
    const predicted = first![2]!;
    expect(predicted.startsWith('200 ')).toBe(true);
    const list = JSON.parse(predicted.slice(4)) as { items: { metricLabels: Record<string, string>; value: string }[] };
    expect(list.items.map((i) => i.metricLabels['queue'])).toEqual(['orders', 'claims.east_2']);
    expect(list.items.every((i) => /^\d+(m|k)?$/.test(i.value) && i.value !== '0')).toBe(true);
  });

  test('after the next cycles, the replicas still agree, and the values moved with the data', async () => {
    const before = (await answersOf(servers[0]!))[3];
    clock.advance(30 * 60);
    for (const service of services) await service.reconciler.runCycle();
    const [first, second] = await Promise.all(servers.map(answersOf));
    expect(second).toEqual(first);
    expect(first![3]).not.toBe(before);
  });
});
