import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../../src/app/index.js';
import type { Sample } from '../../../src/core/index.js';
import { FakeSource } from '../../support/fake-source.js';
import { ManualClock } from '../../support/manual-clock.js';
import { buildService, configFromYaml } from '../../support/service.js';

const startMs = Date.UTC(2026, 10, 2, 12, 0, 0);
const samples: Sample[] = Array.from({ length: 240 }, (_, i) => ({ timestampMs: startMs - (239 - i) * 60_000, value: 100 + 30 * Math.sin(i / 10) }));

describe('a sharded replica', () => {
  let service: Service | undefined;
  afterEach(async () => {
    await service?.stop();
  });

  it('is ready only once its own shard has a forecast, and says how its read-back of the other shards goes', async () => {
    // Port 9 (discard) is closed on loopback: the read-back fails at once, as with Prometheus down.
    const config = configFromYaml(`
logLevel: silent
workloads:
  - { name: orders-worker, namespace: shop, queues: [{ name: orders }] }
  - { name: billing, namespace: shop, queues: [{ name: invoices }] }
forecast: { step: 1m, season: 1h, history: 3h, horizons: [15m] }
sharding: { replicas: 2, index: 0, readBack: { url: "http://127.0.0.1:9" } }
`);
    const source = new FakeSource([
      ['queue/shop/orders-worker/orders/depth', samples],
      ['queue/shop/billing/invoices/depth', samples],
    ]);
    service = buildService(config, { clock: new ManualClock(startMs), source });
    const api = request(service.api);
    const early = await api.get('/readyz').expect(503);
    expect(early.body).toMatchObject({ status: 'not_ready', firstCycleCompleted: false, reason: expect.stringContaining("this replica's shard") });
    const snapshot = await service.reconciler.runCycle();
    expect(snapshot.shard).toMatchObject({ index: 0, replicas: 2, readBack: { series: 0, error: expect.any(String) } });
    const ready = await api.get('/readyz').expect(200);
    expect(ready.body).toMatchObject({ status: 'ok', shard: { index: 0, replicas: 2, ownWorkloads: snapshot.shard!.ownWorkloads, readBackSeries: 0, readBackError: expect.any(String) } });
    const metrics = (await api.get('/metrics').expect(200)).text;
    expect(metrics).toContain(`foresight_shard_workloads{shard="0",replicas="2"} ${snapshot.shard!.ownWorkloads}`);
    expect(metrics).toContain(`foresight_shard_queues ${snapshot.queues.length}`);
    expect(metrics).toContain('foresight_shard_read_back_failures_total 1');
  });

  it('an unsharded replica stays ready before its first cycle (the APIService must not go unavailable)', async () => {
    service = buildService(configFromYaml('logLevel: silent\n'), { clock: new ManualClock(startMs), source: new FakeSource() });
    const early = await request(service.api).get('/readyz').expect(200);
    expect(early.body).not.toHaveProperty('shard');
  });
});
