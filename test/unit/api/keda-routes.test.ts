import express from 'express';
import { Registry } from 'prom-client';
import request from 'supertest';
import { beforeEach, describe, expect, test } from 'vitest';
import { buildKedaRouter } from '../../../src/api/index.js';
import type { Config } from '../../../src/config/index.js';
import { SnapshotStore } from '../../../src/engine/index.js';
import { createKedaMetrics } from '../../../src/publish/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';
import { fixtureSnapshot } from '../publish/keda/snapshot-fixture.js';

const baseYaml = `
queues:
  - { name: orders, threshold: 100 }
  - { name: ml_inference, threshold: 50 }
forecast: { horizons: [15m, 1h] }
snapshot: { maxAge: 2m }
`;

describe('GET /keda/metrics (the KEDA metrics-api trigger)', () => {
  let clock: ManualClock;
  let store: SnapshotStore;
  let config: Config;
  let registry: Registry;
  let app: express.Express;

  beforeEach(() => {
    clock = new ManualClock();
    store = new SnapshotStore({ historyRetentionSeconds: 3600 });
    config = configFromYaml(baseYaml);
    registry = new Registry();
    app = express();
    app.set('query parser', 'simple');
    app.use(buildKedaRouter({ store, clock, config: () => config, metrics: createKedaMetrics(registry) }));
    store.publish(
      fixtureSnapshot(4, clock.nowMs() - 10_000, [
        {
          queue: 'orders',
          depth: 42,
          forecasts: [
            { horizonSeconds: 900, p10: 30, value: 55.5, p90: 81.25 },
            { horizonSeconds: 3600, p10: 1, value: 2, p90: 3 },
          ],
        },
        { queue: 'ml_inference', forecasts: [{ horizonSeconds: 900, p10: -3, value: -1, p90: 0, model: 'naive', fallbackReason: 'history too short' }] },
      ]),
    );
  });

  test('answers the requested forecast with value at the top level (valueLocation: value)', async () => {
    const res = await request(app).get('/keda/metrics?queue=orders&horizon=15m&quantile=0.9').expect(200).expect('Content-Type', /json/);
    const snapshot = store.latest();
    expect(res.body).toEqual({
      queue: 'orders',
      horizon: '15m',
      quantile: '0.9',
      value: 81.25,
      currentDepth: 42,
      model: 'holt_winters',
      forecastFor: new Date((snapshot?.completedAtMs ?? 0) - 60_000 + 900_000).toISOString(),
      timestamp: new Date(snapshot?.completedAtMs ?? 0).toISOString(),
      snapshotAgeSeconds: 10,
    });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test('defaults to the first configured horizon and the point forecast', async () => {
    const res = await request(app).get('/keda/metrics?queue=orders').expect(200);
    expect(res.body).toMatchObject({ horizon: '15m', quantile: '0.5', value: 55.5 });
    const hour = await request(app).get('/keda/metrics?queue=orders&horizon=1h&quantile=0.1').expect(200);
    expect(hour.body).toMatchObject({ horizon: '1h', quantile: '0.1', value: 1 });
  });

  test('serves a negative forecast as 0, with the reason a fallback model stood in', async () => {
    const res = await request(app).get('/keda/metrics?queue=ml_inference').expect(200);
    expect(res.body).toMatchObject({ value: 0, currentDepth: null, model: 'naive', fallbackReason: 'history too short' });
  });

  const errors: readonly { name: string; path: string; code: number; reason: string; message: RegExp }[] = [
    { name: 'a missing queue', path: '/keda/metrics', code: 400, reason: 'BadRequest', message: /^queue is required/ },
    { name: 'an unknown parameter', path: '/keda/metrics?queue=orders&quantil=0.9', code: 400, reason: 'BadRequest', message: /unknown query parameter "quantil"; allowed: queue, horizon, quantile/ },
    { name: 'a repeated parameter', path: '/keda/metrics?queue=orders&queue=ml_inference', code: 400, reason: 'BadRequest', message: /"queue" must be given once/ },
    { name: 'a bad quantile', path: '/keda/metrics?queue=orders&quantile=0.95', code: 400, reason: 'BadRequest', message: /quantile must be one of/ },
    { name: 'a bad horizon', path: '/keda/metrics?queue=orders&horizon=15', code: 400, reason: 'BadRequest', message: /horizon must be a duration/ },
    { name: 'a queue name with PromQL in it', path: `/keda/metrics?queue=${encodeURIComponent('orders"}or vector(1)')}`, code: 400, reason: 'BadRequest', message: /queue must be a queue name/ },
    { name: 'an unknown queue', path: '/keda/metrics?queue=payments', code: 404, reason: 'NotFound', message: /"payments" is not a configured queue; configured queues: orders, ml_inference/ },
    { name: 'a horizon that is not forecast', path: '/keda/metrics?queue=orders&horizon=30m', code: 404, reason: 'NotFound', message: /horizons: 15m, 1h/ },
  ];
  for (const tc of errors) {
    test(`answers ${tc.code} ${tc.reason} for ${tc.name}`, async () => {
      const res = await request(app).get(tc.path).expect(tc.code);
      expect(res.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: tc.code, reason: tc.reason });
      expect(res.body.message).toMatch(tc.message);
    });
  }

  test('answers 503 with Retry-After once the snapshot is older than snapshot.maxAge', async () => {
    clock.advance(110); // 120 s old: still served
    await request(app).get('/keda/metrics?queue=orders').expect(200);
    clock.advance(1);
    const res = await request(app).get('/keda/metrics?queue=orders').expect(503);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    expect(res.body.message).toContain('older than snapshot.maxAge (2m)');
    expect(res.headers['retry-after']).toBe(String(config.scaling.monitoringInterval));
  });

  test('answers 503 before the first cycle', async () => {
    const empty = express().use(buildKedaRouter({ store: new SnapshotStore({ historyRetentionSeconds: 60 }), clock, config: () => config }));
    const res = await request(empty).get('/keda/metrics?queue=orders').expect(503);
    expect(res.body.message).toBe('no forecast yet: the first reconcile cycle has not completed');
  });

  test('refuses other methods with 405 and follows keda.metricsApi.enabled on every request', async () => {
    const post = await request(app).post('/keda/metrics?queue=orders').expect(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    config = configFromYaml(`${baseYaml}\nkeda: { metricsApi: { enabled: false } }`);
    const off = await request(app).get('/keda/metrics?queue=orders').expect(404);
    expect(off.body.message).toContain('keda.metricsApi.enabled');
  });

  test('counts requests by outcome in the catalog counter', async () => {
    await request(app).get('/keda/metrics?queue=orders').expect(200);
    await request(app).get('/keda/metrics?queue=orders').expect(200);
    await request(app).get('/keda/metrics?queue=payments').expect(404);
    await request(app).get('/keda/metrics').expect(400);
    const text = await registry.metrics();
    const count = (outcome: string) => Number(new RegExp(`^foresight_keda_requests_total\\{surface="metrics_api",method="metrics",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    expect({ ok: count('ok'), not_found: count('not_found'), invalid_argument: count('invalid_argument'), unavailable: count('unavailable') }).toEqual({
      ok: 2,
      not_found: 1,
      invalid_argument: 1,
      unavailable: 0,
    });
  });
});
