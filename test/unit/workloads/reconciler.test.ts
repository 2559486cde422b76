import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Config } from '../../../src/config/index.js';
import type { InputRef, Sample } from '../../../src/core/index.js';
import { createWorkloadPolicyProvider, type Recorder, Reconciler, SnapshotStore } from '../../../src/engine/index.js';
import { createMetrics, createSnapshotProvider, parseLabelSelector, providerSettingsFromConfig } from '../../../src/publish/index.js';
import { FakeSource } from '../../support/fake-source.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';

// A cycle over workloads in two namespaces (no Prometheus here: the source is the test double of
// test/support; the Prometheus path is tested in test/integration/workloads-discovery.test.ts).

const HOUR_MS = 3_600_000;
const repoRoot = new URL('../../..', import.meta.url).pathname;

const yaml = `
forecast: { step: 1m, season: 1h, history: 3h, horizons: [5m, 15m], refitInterval: 30m }
scaling: { monitoringInterval: 30s }
ruleSets:
  - { name: workers, file: policies/scaling.rules.yaml, profile: worker_processes, selector: { matchLabels: { tier: worker } } }
  - { name: apis, file: policies/scaling.rules.yaml, profile: api_instances }
workloads:
  - { name: orders-worker, namespace: shop, minReplicas: 2, maxReplicas: 30, labels: { tier: worker }, queues: [{ name: orders, threshold: 1000 }] }
  - { name: storefront, namespace: shop, minReplicas: 2, maxReplicas: 10, ruleSet: apis }
  - { name: claims-worker, namespace: claims, minReplicas: 1, maxReplicas: 5, labels: { tier: worker }, queues: [{ name: orders, threshold: 1000 }] }
`;

const queue = (namespace: string, workload: string, metric: 'depth' | 'enqueue_rate_per_second' = 'depth'): InputRef => ({ kind: 'queue', queue: 'orders', metric, namespace, workload });
const own = (namespace: string, workload: string, metric: 'cpu_percent' | 'replicas'): InputRef => ({ kind: 'workload', namespace, workload, metric });

/** A level with a small wave (a perfectly flat series has no scale for the models), or exactly the level. */
function flat(fromMs: number, toMs: number, value: number, wave = 0.1): Sample[] {
  const out: Sample[] = [];
  for (let t = fromMs; t <= toMs; t += 60_000) out.push({ timestampMs: t, value: value + wave * Math.sin(t / HOUR_MS) });
  return out;
}

const quiet: Recorder = { cycleFinished() {}, sourceProblem() {}, modelFitted() {}, decided() {}, anomaliesScored() {} };

async function cycle() {
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
  const config: Config = configFromYaml(yaml);
  const from = clock.nowMs() - 6 * HOUR_MS;
  const to = clock.nowMs();
  const source = new FakeSource()
    .set(queue('shop', 'orders-worker'), flat(from, to, 4000))
    .set(own('shop', 'orders-worker', 'replicas'), flat(from, to, 4, 0))
    .set(queue('claims', 'claims-worker'), flat(from, to, 10))
    .set(own('claims', 'claims-worker', 'replicas'), flat(from, to, 3, 0))
    // The storefront's own CPU is high; the nodes' (cluster-wide) CPU is low: it must scale on its own.
    .set(own('shop', 'storefront', 'cpu_percent'), flat(from, to, 95))
    .set({ kind: 'system', metric: 'cpu_percent' }, flat(from, to, 10))
    .set(own('shop', 'storefront', 'replicas'), flat(from, to, 3, 0));
  const errors: string[] = [];
  const store = new SnapshotStore({ historyRetentionSeconds: 3600 });
  const reconciler = new Reconciler({
    source,
    clock,
    store,
    recorder: quiet,
    config: () => config,
    workloadPolicies: createWorkloadPolicyProvider(
      () => config,
      [repoRoot],
      (e) => errors.push(e),
    ),
  });
  const snapshot = await reconciler.runCycle();
  return { snapshot, source, errors, config, clock, store };
}

describe('Reconciler with workloads', () => {
  it("reads each workload's queues and own inputs, and forecasts them", async () => {
    const { snapshot, source } = await cycle();
    const latest = source.calls.find((c) => c.method === 'readLatest');
    const keys = latest!.inputs.map((i) =>
      i.kind === 'queue' ? `queue/${i.namespace}/${i.workload}/${i.queue}/${i.metric}` : i.kind === 'workload' ? `workload/${i.namespace}/${i.workload}/${i.metric}` : `${i.kind}`,
    );
    expect(keys).toContain('queue/shop/orders-worker/orders/depth');
    expect(keys).toContain('queue/claims/claims-worker/orders/depth');
    expect(keys).toContain('workload/shop/storefront/cpu_percent');
    // The seed's queues and resources are the demo's example, not read once workloads are configured.
    expect(keys).not.toContain('replicas');
    expect(latest!.inputs.some((i) => i.kind === 'queue' && i.namespace === undefined)).toBe(false);
    expect(snapshot.queues.map((q) => `${q.namespace}/${q.workload}/${q.queue}:${q.depthForecasts.length}`)).toEqual(['shop/orders-worker/orders:2', 'claims/claims-worker/orders:2']);
    expect(snapshot.forecasts.map((f) => f.seriesKey)).toContain('workload/shop/storefront/cpu_percent');
  });

  it('decides each workload with its rule set, its range and its own inputs', async () => {
    const { snapshot, errors } = await cycle();
    expect(errors).toEqual([]);
    const byWorkload = new Map(snapshot.decisions.map((d) => [`${d.namespace}/${d.workload}`, d]));
    expect([...byWorkload.keys()]).toEqual(['shop/orders-worker', 'shop/storefront', 'claims/claims-worker']);
    const orders = byWorkload.get('shop/orders-worker')!;
    expect(orders).toMatchObject({ resource: 'worker_processes', currentReplicas: 4, direction: 'up' });
    expect(orders.recommendedReplicas).toBeLessThanOrEqual(30);
    // The same queue name in another namespace, with a small depth, is another queue: no scale-up there.
    const claims = byWorkload.get('claims/claims-worker')!;
    expect(claims.currentReplicas).toBe(3);
    expect(claims.direction).not.toBe('up');
    expect(claims.recommendedReplicas).toBeLessThanOrEqual(5);
    // Sized from its own CPU (95 %), not the nodes' (10 %).
    const storefront = byWorkload.get('shop/storefront')!;
    expect(storefront).toMatchObject({ resource: 'api_instances', currentReplicas: 3, direction: 'up' });
  });

  it("the external-metrics API never shows one namespace's workloads to another", async () => {
    const { snapshot, config, clock } = await cycle();
    const provider = createSnapshotProvider({ latest: () => snapshot, clock, settings: () => providerSettingsFromConfig(config) });
    const ask = (namespace: string, metric: string, selector: string) => {
      const parsed = parseLabelSelector(selector);
      if (!parsed.ok) throw new Error(parsed.error);
      const answer = provider.getExternalMetric({ namespace, metric, selector: parsed.value });
      return answer.ok ? answer.value.items.map((i) => i.metricLabels) : answer.error.code;
    };
    expect(ask('shop', 'queue_depth', 'queue=orders')).toEqual([{ queue: 'orders', namespace: 'shop', workload: 'orders-worker' }]);
    expect(ask('claims', 'queue_depth', 'queue=orders')).toEqual([{ queue: 'orders', namespace: 'claims', workload: 'claims-worker' }]);
    expect(ask('claims', 'queue_depth', '')).toEqual([{ queue: 'orders', namespace: 'claims', workload: 'claims-worker' }]);
    expect(ask('claims', 'predicted_queue_depth', 'workload=orders-worker')).toBe(404);
    expect(ask('other', 'predicted_queue_depth', '')).toBe(404);
    expect(ask('shop', 'recommended_replicas', 'workload=storefront')).toEqual([{ resource: 'api_instances', namespace: 'shop', workload: 'storefront' }]);
    expect(ask('claims', 'recommended_replicas', 'workload=storefront')).toBe(404);
    const shopReplicas = ask('shop', 'recommended_replicas', '');
    expect(Array.isArray(shopReplicas) && shopReplicas.every((l) => l['namespace'] === 'shop')).toBe(true);
    expect(ask('shop', 'anomaly_score', 'metric=cpu,workload=storefront')).toEqual([{ metric: 'cpu', namespace: 'shop', workload: 'storefront' }]);
    expect(ask('claims', 'anomaly_score', 'metric=cpu,workload=storefront')).toBe(404);
    expect(ask('claims', 'anomaly_score', 'metric=queue_depth')).toEqual([{ metric: 'queue_depth', queue: 'orders', namespace: 'claims', workload: 'claims-worker' }]);
  });

  it('/metrics gives workload series the namespace and workload labels', async () => {
    const { config, clock, store } = await cycle();
    const registry = new Registry();
    const text = await createMetrics({ registry, store, clock, config: () => config, build: { version: 't', revision: 't' } }).exposition.text();
    expect(text).toMatch(/predicted_queue_depth\{queue="orders",namespace="claims",workload="claims-worker",horizon="5m",quantile="0.5"\}/);
    expect(text).toMatch(/recommended_replicas\{resource="api_instances",namespace="shop",workload="storefront"\}/);
    expect(text).toMatch(/queue_depth_threshold\{queue="orders",namespace="shop",workload="orders-worker"\} 1000/);
    // Anomaly scores of a workload's queue and of its own inputs name it; the nodes' (cluster-wide) do not.
    expect(text).toMatch(/anomaly_score\{metric="queue_depth",queue="orders",namespace="claims",workload="claims-worker"\} \d/);
    expect(text).toMatch(/anomaly_score\{metric="cpu",namespace="shop",workload="storefront"\} \d/);
    expect(text).toMatch(/anomaly_score\{metric="cpu"\} \d/);
    // Each series once: two horizons, two namespaces and cluster-wide inputs make no repeated label set.
    const series = text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(series.filter((x, i) => series.indexOf(x) !== i)).toEqual([]);
  });

  it('each anomaly verdict carries the workload of its input, and the cluster-wide ones none', async () => {
    const { snapshot } = await cycle();
    const owners = snapshot.anomalies.map((a) => `${a.metric}:${a.queue ?? ''}:${a.namespace ?? '-'}/${a.workload ?? '-'}`);
    expect(owners).toEqual(expect.arrayContaining(['queue_depth:orders:shop/orders-worker', 'queue_depth:orders:claims/claims-worker', 'cpu::shop/storefront', 'cpu::-/-']));
    for (const a of snapshot.anomalies) expect(a.namespace === undefined).toBe(a.workload === undefined);
  });
});
