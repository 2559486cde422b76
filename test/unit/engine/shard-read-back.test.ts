import { describe, expect, test } from 'vitest';
import { type ReadBackRejection, ShardReadBack, shardOf, workloadShardKey } from '../../../src/engine/index.js';
import { type PublishedRead, type PublishedSeriesReader, type PublishedValue, publishedSelector } from '../../../src/source/index.js';
import { configFromYaml } from '../../support/service.js';

// Replica 0 of three: with these names, shop/orders-worker and ml/batch are on shard 1, claims/review on 2, shop/billing on 0.
const config = configFromYaml(`
logLevel: silent
source: { type: prometheus }
workloads:
  - { name: orders-worker, namespace: shop, minReplicas: 2, maxReplicas: 10, queues: [{ name: orders }] }
  - { name: billing, namespace: shop, queues: [{ name: invoices }] }
  - { name: review, namespace: claims, queues: [{ name: review }] }
forecast: { horizons: [5m, 15m] }
snapshot: { maxAge: 2m }
sharding: { replicas: 3, index: 0, readBack: { labels: { job: foresight } } }
`);
const nowMs = Date.UTC(2026, 11, 1, 12, 0, 0);

/** A reader that answers what the test gives it, and records the matchers it was asked with. */
class StubReader implements PublishedSeriesReader {
  answer: PublishedRead = { ok: true, values: [] };
  asked: Readonly<Record<string, string>>[] = [];
  async readPublished(matchers: Readonly<Record<string, string>>): Promise<PublishedRead> {
    this.asked.push(matchers);
    return this.answer;
  }
}

const predicted = (labels: Record<string, string>, value: number, sampleMs = nowMs - 20_000): PublishedValue => ({ name: 'predicted_queue_depth', labels, value, sampleMs });
const band = (owner: Record<string, string>, horizon: string, [p10, p50, p90]: [number, number, number], sampleMs?: number): PublishedValue[] => [
  predicted({ ...owner, horizon, quantile: '0.1' }, p10, sampleMs),
  predicted({ ...owner, horizon, quantile: '0.5' }, p50, sampleMs),
  predicted({ ...owner, horizon, quantile: '0.9' }, p90, sampleMs),
];
const orders = { namespace: 'shop', workload: 'orders-worker', queue: 'orders', job: 'foresight', instance: 'a:8000' };

function setUp() {
  const reader = new StubReader();
  const rejected: [ReadBackRejection, number][] = [];
  const readBack = new ShardReadBack(reader, (reason, count) => rejected.push([reason, count]));
  return { reader, rejected, readBack };
}

describe('reading the other shards back', () => {
  test('the shards are what the comment says', () => {
    expect(shardOf(workloadShardKey('shop', 'orders-worker'), 3)).toBe(1);
    expect(shardOf(workloadShardKey('shop', 'billing'), 3)).toBe(0);
    expect(shardOf(workloadShardKey('claims', 'review'), 3)).toBe(2);
  });

  test("takes the other shards' forecasts, depths and decisions with their sample times, and skips its own", async () => {
    const { reader, rejected, readBack } = setUp();
    reader.answer = {
      ok: true,
      values: [
        ...band(orders, '5m', [80, 100, 120]),
        ...band(orders, '15m', [70, 110, 150]),
        { name: 'queue_depth_current', labels: orders, value: 95, sampleMs: nowMs - 10_000 },
        { name: 'recommended_replicas', labels: { namespace: 'shop', workload: 'orders-worker', resource: 'worker_processes' }, value: 4, sampleMs: nowMs - 10_000 },
        // A ServiceMonitor without honorLabels renames the namespace label; it is still the workload's.
        ...band({ exported_namespace: 'claims', namespace: 'monitoring', workload: 'review', queue: 'review' }, '15m', [1, 2, 3]),
        // This replica's own workload: its own snapshot has it.
        ...band({ namespace: 'shop', workload: 'billing', queue: 'invoices' }, '15m', [1, 2, 3]),
      ],
    };
    const state = await readBack.run(config, 1, nowMs);
    expect(reader.asked).toEqual([{ job: 'foresight' }]);
    expect(state).toMatchObject({ index: 0, replicas: 3, ownWorkloads: 1, readBack: { attemptedAtMs: nowMs, lastSuccessAtMs: nowMs, series: 11, oldestSampleMs: nowMs - 20_000 } });
    expect(state.queues).toEqual([
      { namespace: 'claims', workload: 'review', queue: 'review', depthForecasts: [{ horizonSeconds: 900, value: 2, p10: 1, p90: 3, sampleMs: nowMs - 20_000 }] },
      {
        namespace: 'shop',
        workload: 'orders-worker',
        queue: 'orders',
        depth: { value: 95, sampleMs: nowMs - 10_000 },
        depthForecasts: [
          { horizonSeconds: 300, value: 100, p10: 80, p90: 120, sampleMs: nowMs - 20_000 },
          { horizonSeconds: 900, value: 110, p10: 70, p90: 150, sampleMs: nowMs - 20_000 },
        ],
      },
    ]);
    expect(state.decisions).toEqual([{ namespace: 'shop', workload: 'orders-worker', resource: 'worker_processes', recommendedReplicas: 4, sampleMs: nowMs - 10_000 }]);
    expect(rejected).toEqual([]);
  });

  test('refuses and counts what could not have been published: unknown workloads, odd labels, bad bands, replicas out of range', async () => {
    const { reader, rejected, readBack } = setUp();
    reader.answer = {
      ok: true,
      values: [
        ...band({ namespace: 'shop', workload: 'ghost', queue: 'orders' }, '15m', [1, 2, 3]),
        ...band({ ...orders, queue: 'bad queue"}' }, '15m', [1, 2, 3]),
        ...band(orders, '7m', [1, 2, 3]),
        ...band(orders, '15m', [5, 2, 3]),
        predicted({ ...orders, horizon: '5m', quantile: '0.5' }, 100),
        { name: 'queue_depth_current', labels: orders, value: Number.POSITIVE_INFINITY, sampleMs: nowMs },
        { name: 'recommended_replicas', labels: { namespace: 'shop', workload: 'orders-worker', resource: 'worker_processes' }, value: 99, sampleMs: nowMs },
        { name: 'recommended_replicas', labels: { namespace: 'shop', workload: 'orders-worker', resource: 'not_a_resource' }, value: 3, sampleMs: nowMs },
      ],
    };
    const state = await readBack.run(config, 1, nowMs);
    expect(state.queues).toEqual([]);
    expect(state.decisions).toEqual([]);
    expect(Object.fromEntries(rejected)).toEqual({ unknown_workload: 3, bad_labels: 7, inconsistent_band: 1, incomplete: 1, not_servable: 1, out_of_range: 1 });
  });

  test('of two series for one value (two replicas published it across a resharding), the newer sample wins', async () => {
    const { reader, readBack } = setUp();
    reader.answer = {
      ok: true,
      values: [
        { name: 'recommended_replicas', labels: { namespace: 'shop', workload: 'orders-worker', resource: 'worker_processes', instance: 'a' }, value: 3, sampleMs: nowMs - 60_000 },
        { name: 'recommended_replicas', labels: { namespace: 'shop', workload: 'orders-worker', resource: 'worker_processes', instance: 'b' }, value: 5, sampleMs: nowMs - 5_000 },
      ],
    };
    expect((await readBack.run(config, 1, nowMs)).decisions.map((d) => d.recommendedReplicas)).toEqual([5]);
  });

  test('a failed read keeps the last values while they are younger than the maximum age, then drops them', async () => {
    const { reader, rejected, readBack } = setUp();
    reader.answer = { ok: true, values: band(orders, '15m', [70, 110, 150]) };
    await readBack.run(config, 1, nowMs);
    reader.answer = { ok: false, message: 'connect ECONNREFUSED' };
    const during = await readBack.run(config, 1, nowMs + 60_000);
    expect(during.readBack).toMatchObject({ error: 'connect ECONNREFUSED', lastSuccessAtMs: nowMs, series: 3 });
    expect(during.queues[0]?.depthForecasts[0]?.value).toBe(110);
    // snapshot.maxAge is 2 minutes: the sample (20 s old at the first read) is now too old to serve.
    const after = await readBack.run(config, 1, nowMs + 120_000);
    expect(after.queues).toEqual([]);
    expect(after.readBack.series).toBe(0);
    expect(rejected).toEqual([['stale', 1]]);
  });

  test('a series missing from a read (its owner restarting) keeps its last value until it ages out; a workload that left the configuration goes at once', async () => {
    const { reader, rejected, readBack } = setUp();
    const review = { namespace: 'claims', workload: 'review', queue: 'review' };
    reader.answer = { ok: true, values: [...band(orders, '15m', [70, 110, 150]), ...band(review, '15m', [1, 2, 3])] };
    await readBack.run(config, 1, nowMs);
    reader.answer = { ok: true, values: band(review, '15m', [2, 3, 4], nowMs + 40_000) };
    const during = await readBack.run(config, 1, nowMs + 60_000);
    expect(during.queues.map((q) => [q.queue, q.depthForecasts[0]?.value])).toEqual([
      ['review', 3],
      ['orders', 110],
    ]);
    const after = await readBack.run(config, 1, nowMs + 120_000);
    expect(after.queues.map((q) => q.queue)).toEqual(['review']);
    expect(rejected).toEqual([['stale', 1]]);
    const withoutReview = configFromYaml(`
logLevel: silent
source: { type: prometheus }
workloads:
  - { name: orders-worker, namespace: shop, queues: [{ name: orders }] }
  - { name: billing, namespace: shop, queues: [{ name: invoices }] }
forecast: { horizons: [5m, 15m] }
snapshot: { maxAge: 2m }
sharding: { replicas: 3, index: 0 }
`);
    reader.answer = { ok: true, values: [] };
    expect((await readBack.run(withoutReview, 1, nowMs + 121_000)).queues).toEqual([]);
  });
});

describe("reading the other shards' anomaly scores back", () => {
  const score = (labels: Record<string, string>, value: number, sampleMs = nowMs - 20_000): PublishedValue => ({ name: 'anomaly_score', labels, value, sampleMs });
  const ordersWorker = { namespace: 'shop', workload: 'orders-worker', job: 'foresight', instance: 'a:8000' };

  test("takes the scores of the other shards' workloads (their queues' depth and their own inputs) and skips its own", async () => {
    const { reader, rejected, readBack } = setUp();
    reader.answer = {
      ok: true,
      values: [
        score({ ...ordersWorker, metric: 'queue_depth', queue: 'orders' }, 0.875),
        score({ ...ordersWorker, metric: 'cpu' }, 0.25, nowMs - 10_000),
        score({ exported_namespace: 'claims', namespace: 'monitoring', workload: 'review', metric: 'error_rate' }, 0, nowMs - 30_000),
        // This replica's own workload: its own verdicts are fresher.
        score({ namespace: 'shop', workload: 'billing', metric: 'queue_depth', queue: 'invoices' }, 0.5),
      ],
    };
    const state = await readBack.run(config, 1, nowMs);
    expect(state.anomalies).toEqual([
      { namespace: 'claims', workload: 'review', metric: 'error_rate', score: 0, sampleMs: nowMs - 30_000 },
      { namespace: 'shop', workload: 'orders-worker', metric: 'cpu', score: 0.25, sampleMs: nowMs - 10_000 },
      { namespace: 'shop', workload: 'orders-worker', metric: 'queue_depth', queue: 'orders', score: 0.875, sampleMs: nowMs - 20_000 },
    ]);
    // /readyz counts them among the values read back, and the oldest sets the read-back's age.
    expect(state.readBack).toMatchObject({ series: 3, oldestSampleMs: nowMs - 30_000 });
    expect(rejected).toEqual([]);
  });

  test('refuses and counts scores that could not have been published', async () => {
    const { reader, rejected, readBack } = setUp();
    reader.answer = {
      ok: true,
      values: [
        score({ namespace: 'shop', workload: 'ghost', metric: 'cpu' }, 0.5),
        score({ metric: 'cpu', workload: 'orders-worker' }, 0.5),
        score({ ...ordersWorker, metric: 'disk_io' }, 0.5),
        score({ ...ordersWorker }, 0.5),
        score({ ...ordersWorker, metric: 'queue_depth' }, 0.5),
        score({ ...ordersWorker, metric: 'cpu', queue: 'orders' }, 0.5),
        score({ ...ordersWorker, metric: 'queue_depth', queue: 'bad queue"}' }, 0.5),
        score({ ...ordersWorker, metric: 'memory' }, 1.5),
        score({ ...ordersWorker, metric: 'response_time' }, -0.25),
        score({ ...ordersWorker, metric: 'error_rate' }, Number.NaN),
        score({ ...ordersWorker, metric: 'cpu' }, Number.POSITIVE_INFINITY),
      ],
    };
    const state = await readBack.run(config, 1, nowMs);
    expect(state.anomalies).toEqual([]);
    expect(state.readBack.series).toBe(0);
    expect(Object.fromEntries(rejected)).toEqual({ unknown_workload: 2, bad_labels: 5, out_of_range: 2, not_servable: 2 });
  });

  test('of two series for one score, the newer sample wins', async () => {
    const { reader, readBack } = setUp();
    reader.answer = {
      ok: true,
      values: [score({ ...ordersWorker, metric: 'cpu', instance: 'b' }, 0.75, nowMs - 5_000), score({ ...ordersWorker, metric: 'cpu', instance: 'a' }, 0.25, nowMs - 60_000)],
    };
    expect((await readBack.run(config, 1, nowMs)).anomalies).toEqual([{ namespace: 'shop', workload: 'orders-worker', metric: 'cpu', score: 0.75, sampleMs: nowMs - 5_000 }]);
  });

  test('a score missing from later reads is served until it is older than the maximum age, then dropped and counted as stale', async () => {
    const { reader, rejected, readBack } = setUp();
    reader.answer = { ok: true, values: [score({ ...ordersWorker, metric: 'queue_depth', queue: 'orders' }, 0.875)] };
    await readBack.run(config, 1, nowMs);
    reader.answer = { ok: false, message: 'connect ECONNREFUSED' };
    const during = await readBack.run(config, 1, nowMs + 60_000);
    expect(during.anomalies.map((a) => a.score)).toEqual([0.875]);
    expect(during.readBack.series).toBe(1);
    reader.answer = { ok: true, values: [] };
    // snapshot.maxAge is 2 minutes; the sample was 20 s old at the first read.
    const after = await readBack.run(config, 1, nowMs + 101_000);
    expect(after.anomalies).toEqual([]);
    expect(after.readBack.series).toBe(0);
    expect(rejected).toEqual([['stale', 1]]);
  });
});

describe('the read-back selector', () => {
  test('asks for workload series only, with every configured matcher escaped for its string literal', () => {
    expect(publishedSelector('predicted_queue_depth', { job: 'foresight', cluster: 'eu"} or vector(1) #\\' })).toBe(
      'predicted_queue_depth{workload!="", cluster="eu\\"} or vector(1) #\\\\", job="foresight"}',
    );
    expect(publishedSelector('recommended_replicas', {})).toBe('recommended_replicas{workload!=""}');
  });
});
