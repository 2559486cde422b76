/**
 * Queue discovery against a real Prometheus (Debian package), history loaded with promtool: queues
 * appear and disappear with the data, a vanished queue is kept stale for discovery.staleAfter and then
 * dropped from every surface, the limit is counted, and each namespace's query finds only its queues.
 * The reconciler runs on a manual clock, so each cycle looks at a chosen moment of the backfilled data.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource } from '../../src/app/index.js';
import type { Config } from '../../src/config/index.js';
import type { Sample } from '../../src/core/index.js';
import { type Recorder, Reconciler, type Snapshot, SnapshotStore } from '../../src/engine/index.js';
import { createMetrics, createSnapshotProvider, parseLabelSelector, providerSettingsFromConfig } from '../../src/publish/index.js';
import type { MetricSource } from '../../src/source/index.js';
import { requireBinaries } from '../support/binaries.js';
import { ManualClock } from '../support/manual-clock.js';
import type { BackfillSeries } from '../support/openmetrics.js';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.js';
import { configFromYaml } from '../support/service.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

function samplesOf(startMs: number, endMs: number, level: number): Sample[] {
  const samples: Sample[] = [];
  for (let t = startMs; t <= endMs; t += MINUTE_MS) samples.push({ timestampMs: t, value: level + 0.2 * level * Math.sin((2 * Math.PI * (t % HOUR_MS)) / HOUR_MS) });
  return samples;
}

const quiet: Recorder = { cycleFinished() {}, sourceProblem() {}, modelFitted() {}, decided() {}, anomaliesScored() {} };

describe.skipIf(!requireBinaries('prometheus', 'promtool'))('queue discovery with a real Prometheus', () => {
  // Whole hours, well in the past: every moment the test looks at is already in the TSDB.
  const baseMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 12 * HOUR_MS;
  const startMs = baseMs - 6 * HOUR_MS;
  const endMs = baseMs + 5 * HOUR_MS;
  let prometheus: PrometheusHandle;
  let config: Config;

  beforeAll(async () => {
    const depth = (namespace: string, queue: string, fromMs: number, toMs: number): BackfillSeries => ({
      name: 'rabbitmq_queue_messages_ready',
      labels: { namespace, queue },
      samples: samplesOf(fromMs, toMs, 100),
    });
    prometheus = await startPrometheus({
      backfill: [
        depth('shop', 'alpha', startMs, endMs),
        depth('shop', 'beta', startMs, endMs),
        depth('shop', 'gamma', startMs, baseMs + 1 * HOUR_MS), // vanishes
        depth('shop', 'delta', baseMs + 2 * HOUR_MS, endMs), // appears
        depth('shop', 'epsilon', baseMs + 3 * HOUR_MS, endMs), // appears beyond the limit
        depth('claims', 'alpha', startMs, endMs), // the same name in another namespace
      ],
    });
    config = configFromYaml(`
logLevel: silent
source: { type: prometheus, prometheus: { url: ${prometheus.url}, timeout: 10s } }
forecast: { step: 1m, season: 1h, history: 3h, horizons: [15m], refitInterval: 30m, model: seasonal_naive }
scaling: { monitoringInterval: 30s, enabled: false }
queries:
  queue:
    enqueue_rate_per_second: ""
    dequeue_rate_per_second: ""
    wait_avg_seconds: ""
    wait_max_seconds: ""
    consumers: ""
    failed_messages: ""
workloads:
  - name: worker
    namespace: shop
    discovery:
      query: 'sum by (queue) (rabbitmq_queue_messages_ready{namespace="{{namespace}}"})'
      limit: 3
      staleAfter: 1h
    queries: &queries
      cpu_percent: ""
      memory_percent: ""
      response_time_p95_seconds: ""
      error_rate_percent: ""
      replicas: ""
      queue:
        depth: 'sum(rabbitmq_queue_messages_ready{namespace="{{namespace}}", queue="{{queue}}"})'
  - name: claims-worker
    namespace: claims
    discovery:
      query: 'sum by (queue) (rabbitmq_queue_messages_ready{namespace="{{namespace}}"})'
    queries: *queries
`);
  });

  afterAll(async () => {
    await prometheus?.dispose();
  });

  const names = (s: Snapshot) => s.queues.map((q) => `${q.namespace}/${q.queue}${q.stale === true ? ' (stale)' : ''}`).sort();

  it('adds and removes queues as the data does, keeps a vanished one stale, and counts the limit', async () => {
    const clock = new ManualClock(baseMs + 30 * MINUTE_MS);
    const store = new SnapshotStore({ historyRetentionSeconds: 3600 });
    const reconciler = new Reconciler({ source: createSource(config, clock), clock, store, recorder: quiet, config: () => config });
    const registry = new Registry();
    const { exposition } = createMetrics({ registry, store, clock, config: () => config, build: { version: 't', revision: 't' } });
    const provider = createSnapshotProvider({ latest: () => store.latest(), clock, settings: () => providerSettingsFromConfig(config) });
    const served = (namespace: string, queue: string) => {
      const selector = parseLabelSelector(`queue=${queue}`);
      if (!selector.ok) throw new Error(selector.error);
      return provider.getExternalMetric({ namespace, metric: 'predicted_queue_depth', selector: selector.value }).ok;
    };

    const first = await reconciler.runCycle();
    expect(names(first)).toEqual(['claims/alpha', 'shop/alpha', 'shop/beta', 'shop/gamma']);
    expect(first.discovery).toEqual([
      { namespace: 'shop', workload: 'worker', active: 3, stale: 0, leftOut: 0, limit: 3 },
      { namespace: 'claims', workload: 'claims-worker', active: 1, stale: 0, leftOut: 0, limit: 500 },
    ]);
    expect(first.queues.find((q) => q.queue === 'gamma')!.depthForecasts).toHaveLength(1);
    expect(served('shop', 'gamma')).toBe(true);
    expect(served('claims', 'gamma')).toBe(false);

    // gamma's data ended 20 minutes ago: no longer returned, kept as stale (staleAfter 1h).
    clock.set(baseMs + 80 * MINUTE_MS);
    const second = await reconciler.runCycle();
    expect(names(second)).toEqual(['claims/alpha', 'shop/alpha', 'shop/beta', 'shop/gamma (stale)']);
    expect(second.discovery![0]).toMatchObject({ active: 2, stale: 1, leftOut: 0 });
    expect(await exposition.text()).toMatch(/foresight_discovered_queues\{namespace="shop",workload="worker",state="stale"\} 1/);

    // More than staleAfter since gamma was last seen: dropped everywhere. delta has appeared.
    clock.set(baseMs + 130 * MINUTE_MS);
    const third = await reconciler.runCycle();
    expect(names(third)).toEqual(['claims/alpha', 'shop/alpha', 'shop/beta', 'shop/delta']);
    expect(third.forecasts.some((f) => f.seriesKey.includes('/gamma/'))).toBe(false);
    expect(third.inputs.some((i) => i.key.includes('/gamma/'))).toBe(false);
    expect(served('shop', 'gamma')).toBe(false);
    const text = await exposition.text();
    expect(text).not.toContain('queue="gamma"');
    expect(text).toMatch(/predicted_queue_depth\{queue="delta",namespace="shop",workload="worker",horizon="15m",quantile="0.5"\}/);

    // epsilon appears, but the workload already has its limit of 3: left out, and counted.
    clock.set(baseMs + 190 * MINUTE_MS);
    const fourth = await reconciler.runCycle();
    expect(names(fourth)).toEqual(['claims/alpha', 'shop/alpha', 'shop/beta', 'shop/delta']);
    expect(fourth.discovery![0]).toMatchObject({ active: 3, stale: 0, leftOut: 1 });
    expect(await exposition.text()).toMatch(/foresight_discovery_limited_queues\{namespace="shop",workload="worker"\} 1/);
  });

  it('keeps the known queues while the discovery query fails, and says why', async () => {
    const clock = new ManualClock(baseMs + 30 * MINUTE_MS);
    // The same configuration, but a source whose claims discovery query no longer parses (as after a bad edit upstream).
    const broken = configFromYaml(
      JSON.stringify({
        ...config,
        workloads: config.workloads.map((w, i) => (i === 0 ? w : { ...w, discovery: { ...w.discovery!, query: 'sum by (queue) (rabbitmq_queue_messages_ready{namespace="{{namespace}}"}' } })),
      }),
    );
    let source = createSource(config, clock);
    const switching: MetricSource = {
      readLatest: (...args) => source.readLatest(...args),
      readHistory: (...args) => source.readHistory(...args),
      discoverQueues: (...args) => source.discoverQueues!(...args),
    };
    const reconciler = new Reconciler({ source: switching, clock, store: new SnapshotStore({ historyRetentionSeconds: 3600 }), recorder: quiet, config: () => config });
    expect(names(await reconciler.runCycle())).toContain('claims/alpha');
    source = createSource(broken, clock);
    clock.set(baseMs + 200 * MINUTE_MS); // far beyond staleAfter: a failed query must not age the queues
    const failed = await reconciler.runCycle();
    expect(names(failed)).toContain('claims/alpha');
    expect(failed.discovery![1]).toMatchObject({ namespace: 'claims', active: 1, stale: 0 });
    expect(failed.discovery![1]!.error).toMatch(/parse error/);
  });
});
