/**
 * Foresight against a real Prometheus (Debian package): several days of history backfilled with
 * promtool, Prometheus scraping Foresight's own /metrics, and a Prometheus outage mid-run.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Service } from '../../src/app/index.js';
import { type Sample, systemClock } from '../../src/core/index.js';
import { requireBinaries } from '../support/binaries.js';
import type { BackfillSeries } from '../support/openmetrics.js';
import { getFreePort } from '../support/ports.js';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.js';
import { buildService, configFromYaml } from '../support/service.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The generating function of the backfilled queue: a daily cycle around `level`. */
const depthAt = (timestampMs: number, level: number): number => level + 0.4 * level * Math.sin((2 * Math.PI * (timestampMs % DAY_MS)) / DAY_MS);

function samplesOf(startMs: number, endMs: number, valueAt: (t: number) => number): Sample[] {
  const samples: Sample[] = [];
  for (let t = startMs; t <= endMs; t += MINUTE_MS) samples.push({ timestampMs: t, value: valueAt(t) });
  return samples;
}

describe.skipIf(!requireBinaries('prometheus', 'promtool'))('Foresight with a real Prometheus', () => {
  const endMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const startMs = endMs - 3 * DAY_MS;
  const levels = { orders: 1000, 'claims.east_2': 200 } as const;
  let prometheus: PrometheusHandle;
  let service: Service;
  let port: number;

  beforeAll(async () => {
    port = await getFreePort();
    const backfill: BackfillSeries[] = [
      ...Object.entries(levels).map(([queue, level]) => ({ name: 'test_queue_depth', labels: { queue }, samples: samplesOf(startMs, endMs, (t) => depthAt(t, level)) })),
      { name: 'test_queue_consumers', labels: { queue: 'orders' }, samples: samplesOf(startMs, endMs, () => 4) },
      { name: 'test_cpu_percent', samples: samplesOf(startMs, endMs, (t) => 50 + 20 * Math.sin((2 * Math.PI * (t % DAY_MS)) / DAY_MS)) },
      { name: 'test_replicas', labels: { deployment: 'worker' }, samples: samplesOf(startMs, endMs, () => 3) },
    ];
    prometheus = await startPrometheus({ backfill, scrapeTargets: [{ job: 'foresight', targets: [`127.0.0.1:${port}`] }] });
    const off = (keys: readonly string[]) => keys.map((k) => `    ${k}: ""`).join('\n');
    const config = configFromYaml(`
server: { host: 127.0.0.1, port: ${port} }
logLevel: silent
source:
  type: prometheus
  prometheus: { url: ${prometheus.url}, timeout: 5s, headers: { X-Scope-OrgID: tenant-a } }
queues:
  - { name: orders, threshold: 1300 }
  - { name: 'claims.east_2', threshold: 5000 }
queries:
  queue:
    depth: 'sum(test_queue_depth{queue="{{queue}}"})'
    consumers: 'sum(test_queue_consumers{queue="{{queue}}"})'
${off(['enqueue_rate_per_second', 'dequeue_rate_per_second', 'wait_avg_seconds', 'wait_max_seconds', 'failed_messages'])}
  system:
    cpu_percent: avg(test_cpu_percent)
${off(['memory_percent', 'disk_io_bytes_per_second', 'network_io_bytes_per_second', 'load1', 'load5', 'load15'])}
  performance:
${off(['response_time_p95_seconds', 'error_rate_percent', 'db_connection_utilization_percent'])}
  replicas:
    worker_processes: 'sum(test_replicas{deployment="worker"})'
${off(['api_instances', 'batch_processors', 'ml_workers', 'db_connections'])}
forecast: { history: 3d }
scaling: { monitoringInterval: 2s }
snapshot: { maxAge: 4s }
`);
    // Reads a live Prometheus whose samples are stamped in wall time.
    service = buildService(config, { clock: systemClock });
    await service.start();
  });

  afterAll(async () => {
    await service?.stop();
    await prometheus?.dispose();
  });

  it('forecasts each queue from Prometheus history close to the generating function', async () => {
    const snapshot = await service.reconciler.runCycle();
    // Only "orders" has a consumers series: the other queue's empty result is counted and skipped.
    expect(snapshot.problems).toEqual([{ inputKey: 'queue/claims.east_2/consumers', reason: 'empty', message: expect.stringContaining('claims.east_2') }]);
    expect(snapshot.queues.find((q) => q.queue === 'orders')?.current['consumers']).toBe(4);
    for (const [queue, level] of Object.entries(levels)) {
      const state = snapshot.queues.find((q) => q.queue === queue);
      expect(state?.current['depth']).toBeCloseTo(depthAt(endMs, level), 0);
      const forecast = state?.depthForecasts[0];
      expect(forecast?.horizonSeconds).toBe(900);
      const truth = depthAt(forecast!.originMs + 900_000, level);
      // A smooth daily cycle is the easy case: Holt-Winters must land within 2% of the level.
      expect(Math.abs(forecast!.value - truth)).toBeLessThan(0.02 * level);
      expect(forecast!.p10).toBeLessThanOrEqual(forecast!.value);
      expect(forecast!.p90).toBeGreaterThanOrEqual(forecast!.value);
    }
    const cpu = snapshot.inputs.find((v) => v.key === 'system/cpu_percent');
    expect(cpu?.value).toBeGreaterThan(29);
    expect(cpu?.value).toBeLessThan(71);
    expect(snapshot.inputs.find((v) => v.key === 'replicas/worker_processes')?.value).toBe(3);
  });

  it('publishes predicted_queue_depth that Prometheus scrapes back with the same values', async () => {
    const published = service.store.latest()!;
    const result = await prometheus.waitFor('predicted_queue_depth{job="foresight",horizon="15m",quantile="0.5"}', (samples) => samples.length === 2);
    for (const sample of result) {
      const queue = sample.metric['queue']!;
      const level = levels[queue as keyof typeof levels];
      expect(level).toBeDefined();
      // Sane: positive and within the band the generating function spans.
      expect(sample.value).toBeGreaterThan(0.5 * level);
      expect(sample.value).toBeLessThan(1.5 * level);
      const ours = published.queues.find((q) => q.queue === queue)!.depthForecasts[0]!.value;
      expect(Math.abs(sample.value - ours)).toBeLessThan(0.05 * level);
    }
    const thresholds = await prometheus.query('queue_depth_threshold{job="foresight",queue="orders"}');
    expect(thresholds[0]?.value).toBe(1300);
    const problems = await prometheus.query('foresight_source_problems_total{job="foresight",reason="empty"}');
    expect(problems[0]?.value).toBeGreaterThanOrEqual(1);
  });

  it('keeps serving the stale snapshot while Prometheus is down and recovers by itself', async () => {
    const before = service.store.latest()!;
    await prometheus.stop();
    await expect(service.reconciler.runCycle()).rejects.toThrow();
    const api = request(service.api);

    await vi.waitFor(
      async () => {
        const status = await api.get('/scaling/status').expect(200);
        expect(status.body.snapshot.stale).toBe(true);
      },
      { timeout: 120_000, interval: 250 },
    );
    const status = await api.get('/scaling/status').expect(200);
    expect(status.body.snapshot.lastError).toEqual(expect.any(String));
    expect(status.body.snapshot.consecutiveFailures).toBeGreaterThanOrEqual(1);
    // The last good forecasts are still served, marked stale, and the service stays ready.
    expect(status.body.queues[0].forecasts[0].value).toBe(before.queues[0]!.depthForecasts[0]!.value);
    await api.get('/readyz').expect(200);
    const metrics = await api.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^foresight_source_up 0$/m);
    expect(metrics.text).toMatch(/^foresight_snapshot_stale 1$/m);
    expect(metrics.text).toMatch(/^foresight_reconcile_cycles_total\{outcome="failure"\} [1-9]/m);

    await prometheus.restart();
    // No manual cycle: the scheduler's own next cycles must bring it back.
    await vi.waitFor(
      async () => {
        const again = await api.get('/scaling/status').expect(200);
        expect(again.body.snapshot.stale).toBe(false);
        expect(again.body.snapshot.lastError).toBeNull();
      },
      { timeout: 120_000, interval: 250 },
    );
    expect(service.store.latest()!.cycle).toBeGreaterThan(before.cycle);
    const after = await api.get('/metrics').expect(200);
    expect(after.text).toMatch(/^foresight_source_up 1$/m);
  });
});
