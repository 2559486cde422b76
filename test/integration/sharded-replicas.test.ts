/**
 * Three sharded replicas on one machine against a real Prometheus (Debian package) that scrapes all
 * three (docs/sharding.md). Each replica forecasts only its shard of the workloads and publishes it on
 * /metrics; after one scrape, each reads the other shards back from Prometheus, and every replica's
 * external-metrics API answers the same value for every series (forecasts, depths, recommendations,
 * and the anomaly scores of every workload's queues).
 *
 * The replicas run in this process (Service, with their HTTP and external-metrics HTTPS servers), on
 * a manual clock started at the wall time (Prometheus stamps its scrapes with the wall time, and the
 * age of a value read back is measured against it). Cycles run when the test says so; waits are
 * for events (Prometheus has scraped every replica after its cycle), never for a duration.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Service } from '../../src/app/index.js';
import type { Config } from '../../src/config/index.js';
import { inputKey, type Sample } from '../../src/core/index.js';
import { shardOf, type Snapshot, workloadShardKey } from '../../src/engine/index.js';
import { formatQuantity } from '../../src/publish/index.js';
import { requireBinaries } from '../support/binaries.js';
import { FakeSource } from '../support/fake-source.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
import { getFreePort } from '../support/ports.js';
import { type PrometheusHandle, startPrometheus } from '../support/prometheus.js';
import { buildService } from '../support/service.js';
import { call, configFromYaml, externalMetricsYaml, makeTestPki, type TestPki } from '../unit/api/external-metrics-harness.js';

const minuteMs = 60_000;
const replicas = 3;

/** Six workloads in three namespaces, one or two queues each. */
const workloads = [
  { namespace: 'shop', name: 'orders-worker', queues: ['orders', 'refunds'] },
  { namespace: 'shop', name: 'billing', queues: ['invoices'] },
  { namespace: 'claims', name: 'intake', queues: ['claims.east_2'] },
  { namespace: 'claims', name: 'review', queues: ['review'] },
  { namespace: 'ml', name: 'inference', queues: ['images'] },
  { namespace: 'ml', name: 'batch', queues: ['nightly'] },
] as const;
const allQueues = workloads.flatMap((w) => w.queues.map((queue) => ({ namespace: w.namespace, workload: w.name, queue })));

/** A queue with an hourly cycle and a trend, its level set by its position: deterministic on every replica. */
function depthSamples(level: number, startMs: number, untilMs: number): Sample[] {
  const samples: Sample[] = [];
  for (let t = startMs; t <= untilMs; t += minuteMs) {
    const hour = ((t - startMs) % 3_600_000) / 3_600_000;
    samples.push({ timestampMs: t, value: level * (1 + 0.3 * Math.sin(2 * Math.PI * hour)) + (t - startMs) / 600_000 });
  }
  return samples;
}

function configOf(index: number, port: number, prometheusUrl: string, pki: TestPki): Config {
  const list = workloads
    .map((w) => `  - { name: ${w.name}, namespace: ${w.namespace}, minReplicas: 1, maxReplicas: 20, queues: [${w.queues.map((q) => `{ name: '${q}', threshold: 500 }`).join(', ')}] }`)
    .join('\n');
  return configFromYaml(`
logLevel: silent
server: { host: 127.0.0.1, port: ${port} }
workloads:
${list}
forecast: { step: 1m, season: 1h, history: 2h, horizons: [5m, 15m], refitInterval: 1h }
scaling: { monitoringInterval: 30s }
sharding:
  replicas: ${replicas}
  index: ${index}
  readBack: { url: ${prometheusUrl}, labels: { job: foresight-shards } }
# The read-back uses source.prometheus' settings: a generous timeout, as the whole suite may load the machine.
source: { prometheus: { timeout: 2m } }
${externalMetricsYaml(pki)}`);
}

describe.skipIf(!requireBinaries('prometheus'))('three sharded replicas and one Prometheus', () => {
  // The wall time, once, rounded to the grid: every replica's cycles run at this instant or later.
  const clock = new ManualClock(Math.floor(Date.now() / minuteMs) * minuteMs);
  const startMs = clock.nowMs() - 3 * 3_600_000;
  let pki: TestPki;
  let prometheus: PrometheusHandle | undefined;
  const services: Service[] = [];
  const ports: number[] = [];
  const data = allQueues.map(({ namespace, workload, queue }, i): [string, Sample[]] => [
    inputKey({ kind: 'queue', namespace, workload, queue, metric: 'depth' }),
    depthSamples(100 * (i + 1), startMs, clock.nowMs()),
  ]);

  beforeAll(async () => {
    pki = await makeTestPki();
    for (let i = 0; i < replicas; i++) ports.push(await getFreePort());
    prometheus = await startPrometheus({ scrapeIntervalSeconds: 1, scrapeTargets: [{ job: 'foresight-shards', targets: ports.map((p) => `127.0.0.1:${p}`) }] });
    for (let index = 0; index < replicas; index++) {
      // Each replica has its own source client reading the same data, as replicas in a cluster do.
      const service = buildService(configOf(index, ports[index]!, prometheus.url, pki), { source: new FakeSource(data), clock, timers: new ManualTimers(clock) });
      services.push(service);
      await service.start();
    }
  });

  afterAll(async () => {
    for (const service of services) await service.stop();
    await prometheus?.dispose();
    await pki?.dispose();
  });

  /** Waits until Prometheus has scraped every replica after the cycle each just completed (an event, not a delay). */
  async function scrapedAfter(snapshots: readonly Snapshot[]): Promise<void> {
    const cycles = snapshots.map((s) => s.cycle);
    await prometheus!.waitFor(
      'foresight_reconcile_cycles_total{job="foresight-shards",outcome="success"}',
      (samples) => ports.every((port, i) => samples.some((s) => s.metric['instance'] === `127.0.0.1:${port}` && s.value >= cycles[i]!)),
      60_000,
    );
  }

  /** Every value one replica's external-metrics API answers for every queue, by series. */
  async function answersOf(service: Service): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    for (const namespace of ['shop', 'claims', 'ml']) {
      for (const [metric, selector] of [
        ['predicted_queue_depth', 'horizon=15m,quantile=0.9'],
        ['predicted_queue_depth', 'horizon=5m,quantile=0.5'],
        ['queue_depth', ''],
        ['recommended_replicas', ''],
        ['anomaly_score', ''],
      ] as const) {
        const query = selector === '' ? '' : `?labelSelector=${encodeURIComponent(selector)}`;
        const answer = await call(service.externalMetrics.url, `/apis/external.metrics.k8s.io/v1beta1/namespaces/${namespace}/${metric}${query}`, { ca: pki.servingCA.certPem, cert: pki.alice });
        expect(answer.status, `${metric} in ${namespace}: ${answer.body}`).toBe(200);
        const list = JSON.parse(answer.body) as { items: { metricLabels: Record<string, string>; value: string }[] };
        for (const item of list.items) {
          const labels = Object.entries(item.metricLabels)
            .map(([k, v]) => `${k}=${v}`)
            .join(',');
          values.set(`${namespace}/${metric}{${labels}}`, item.value);
        }
      }
    }
    return values;
  }

  test('each series is forecast by exactly one replica, the one the hash names', async () => {
    const snapshots = await Promise.all(services.map((s) => s.reconciler.runCycle()));
    const owners = new Map<string, number[]>();
    snapshots.forEach((snapshot, index) => {
      expect(snapshot.shard).toMatchObject({ index, replicas });
      for (const q of snapshot.queues) {
        const key = `${q.namespace}/${q.workload}/${q.queue}`;
        owners.set(key, [...(owners.get(key) ?? []), index]);
        expect(q.depthForecasts.length).toBe(2);
      }
      // Forecast series (what the model host fits) belong to the replica's own queues only.
      for (const f of snapshot.forecasts) expect(snapshot.queues.some((q) => f.seriesKey === `queue/${q.namespace}/${q.workload}/${q.queue}/depth`)).toBe(true);
    });
    expect([...owners.keys()].sort()).toEqual(allQueues.map((q) => `${q.namespace}/${q.workload}/${q.queue}`).sort());
    for (const { namespace, workload, queue } of allQueues) {
      expect(owners.get(`${namespace}/${workload}/${queue}`)).toEqual([shardOf(workloadShardKey(namespace, workload), replicas)]);
    }
    // The six workloads are spread: no replica holds them all.
    expect(new Set([...owners.values()].flat()).size).toBeGreaterThan(1);
  });

  test('after one scrape, every replica answers the same value for every series', async () => {
    await scrapedAfter(services.map((s) => s.store.latest()!));
    // The next cycle reads the other shards back; the forecasts themselves are the same (same data, same instant).
    const snapshots = await Promise.all(services.map((s) => s.reconciler.runCycle()));
    for (const [index, snapshot] of snapshots.entries()) {
      expect(snapshot.shard?.readBack.error).toBeUndefined();
      const own = snapshot.queues.length;
      // Two horizons × three quantiles and the observed depth of each queue of the other shards, and their decisions.
      expect(snapshot.shard?.queues.length).toBe(allQueues.length - own);
      // And every anomaly score of the other shards' workloads (at least the depth of each of their queues).
      const othersScores = snapshots.filter((_, i) => i !== index).flatMap((s) => s.anomalies.filter((a) => a.workload !== undefined));
      expect(othersScores.length).toBeGreaterThanOrEqual(allQueues.length - own);
      expect(snapshot.shard?.anomalies.length).toBe(othersScores.length);
    }
    const [first, ...others] = await Promise.all(services.map(answersOf));
    // Every queue answers in its namespace, at both horizons.
    for (const { namespace, workload, queue } of allQueues) {
      for (const selector of ['horizon=15m,quantile=0.9', 'horizon=5m,quantile=0.5']) {
        const [horizon, quantile] = selector.split(',').map((p) => p.split('=')[1]);
        expect(first!.has(`${namespace}/predicted_queue_depth{queue=${queue},namespace=${namespace},workload=${workload},horizon=${horizon},quantile=${quantile}}`)).toBe(true);
      }
      expect(first!.has(`${namespace}/queue_depth{queue=${queue},namespace=${namespace},workload=${workload}}`)).toBe(true);
      expect(first!.has(`${namespace}/anomaly_score{metric=queue_depth,queue=${queue},namespace=${namespace},workload=${workload}}`)).toBe(true);
    }
    for (const answers of others) expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(first!));
    // Values read back are the owner's own values, not merely equal among readers.
    const owner = services[shardOf(workloadShardKey('shop', 'orders-worker'), replicas)]!.store.latest()!;
    const orders = owner.queues.find((q) => q.queue === 'orders')!;
    expect(orders.depthForecasts[1]!.horizonSeconds).toBe(900);
    expect(first!.get('shop/predicted_queue_depth{queue=orders,namespace=shop,workload=orders-worker,horizon=15m,quantile=0.9}')).toBe(formatQuantity(orders.depthForecasts[1]!.p90));
    // So are the anomaly scores of every workload series, whichever replica scored them.
    for (const [index, service] of services.entries()) {
      for (const a of service.store.latest()!.anomalies.filter((v) => v.workload !== undefined)) {
        const labels = [`metric=${a.metric}`, ...(a.queue === undefined ? [] : [`queue=${a.queue}`]), `namespace=${a.namespace}`, `workload=${a.workload}`].join(',');
        expect(first!.get(`${a.namespace}/anomaly_score{${labels}}`), `replica ${index}'s ${labels}`).toBe(formatQuantity(a.score));
      }
    }
  });

  test('the KEDA metrics-api trigger gets the same value from every replica too', async () => {
    const values: number[] = [];
    for (const service of services) {
      const response = await fetch(`${service.url}/keda/metrics?queue=review&horizon=15m&quantile=0.9`);
      expect(response.status).toBe(200);
      values.push(((await response.json()) as { value: number }).value);
    }
    expect(new Set(values).size).toBe(1);
    const owner = services[shardOf(workloadShardKey('claims', 'review'), replicas)]!.store.latest()!;
    expect(values[0]).toBe(owner.queues.find((q) => q.queue === 'review')!.depthForecasts[1]!.p90);
  });

  test("a replica's /metrics publishes only its own shard, so nothing is published twice", async () => {
    const series = await prometheus!.query('count by (namespace, workload, queue) (predicted_queue_depth{job="foresight-shards",horizon="15m",quantile="0.5"})');
    expect(series.length).toBe(allQueues.length);
    expect(series.every((s) => s.value === 1)).toBe(true);
  });

  test('the assignment is stable: a replica restarted with the same replica count owns the same workloads', async () => {
    const index = 1;
    const before = services[index]!.store.latest()!.queues.map((q) => `${q.namespace}/${q.workload}/${q.queue}`);
    const again = buildService(configOf(index, 0, prometheus!.url, pki), { source: new FakeSource(data), clock, timers: new ManualTimers(clock) });
    try {
      const snapshot = await again.reconciler.runCycle();
      expect(snapshot.queues.map((q) => `${q.namespace}/${q.workload}/${q.queue}`)).toEqual(before);
      // Its first cycle already reads the other shards back (they are in Prometheus): it answers for everything at once.
      expect(snapshot.shard?.readBack.error, 'the read-back failed').toBeUndefined();
      expect(snapshot.shard?.queues.length).toBe(allQueues.length - before.length);
    } finally {
      await again.stop();
    }
  });
});
