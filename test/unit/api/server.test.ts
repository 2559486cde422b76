import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Service } from '../../../src/app/index.js';
import type { Sample } from '../../../src/core/index.js';
import { FakeSource } from '../../support/fake-source.js';
import { ManualClock } from '../../support/manual-clock.js';
import { buildService, configFromYaml } from '../../support/service.js';

const HOUR_MS = 3_600_000;
const hourly = (t: number, level: number) => level + 0.3 * level * Math.sin((2 * Math.PI * (t % HOUR_MS)) / HOUR_MS);
function samples(fromMs: number, toMs: number, valueAt: (t: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let t = fromMs; t <= toMs; t += 60_000) out.push({ timestampMs: t, value: valueAt(t) });
  return out;
}

const yaml = `
queues:
  - { name: orders, threshold: 110, resource: worker_processes }
  - { name: refunds, threshold: 1000 }
forecast: { step: 1m, season: 1h, history: 3h, horizons: [15m] }
snapshot: { maxAge: 2m, historyRetention: 2h }
scaling: { monitoringInterval: 30s }
`;

/** Every error answer must be a Kubernetes Status with the answer's own code. */
function expectStatus(body: unknown, code: number, message: RegExp): void {
  expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, message: expect.stringMatching(message) });
}

describe('HTTP API', () => {
  let clock: ManualClock;
  let source: FakeSource;
  let service: Service;

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
    const from = clock.nowMs() - 6 * HOUR_MS;
    const to = clock.nowMs() + 6 * HOUR_MS;
    source = new FakeSource()
      .set(
        { kind: 'queue', queue: 'orders', metric: 'depth' },
        samples(from, to, (t) => hourly(t, 100)),
      )
      .set(
        { kind: 'queue', queue: 'orders', metric: 'consumers' },
        samples(from, to, () => 3),
      )
      .set(
        { kind: 'queue', queue: 'refunds', metric: 'depth' },
        samples(from, to, (t) => hourly(t, 10)),
      )
      .set(
        { kind: 'system', metric: 'cpu_percent' },
        samples(from, to, (t) => hourly(t, 40)),
      )
      .set(
        { kind: 'replicas', resource: 'worker_processes' },
        samples(from, to, () => 4),
      )
      .set({ kind: 'performance', metric: 'error_rate_percent' }, []);
    service = buildService(configFromYaml(yaml), { clock, source });
  });

  it('is alive and ready before the first cycle (ready means "can serve"); data routes answer 503 until then', async () => {
    const api = request(service.api);
    await api.get('/healthz').expect(200, { status: 'ok' });
    await api.get('/livez').expect(200);
    const early = await api.get('/readyz').expect(200);
    expect(early.body).toMatchObject({ status: 'ok', firstCycleCompleted: false, snapshot: { cycle: null, stale: true } });
    expectStatus((await api.get('/scaling/status').expect(503)).body, 503, /first reconcile cycle/);
    await service.reconciler.runCycle();
    const ready = await api.get('/readyz').expect(200);
    expect(ready.body).toMatchObject({ firstCycleCompleted: true, snapshot: { cycle: 1 } });
  });

  it('GET /scaling/status shows queues, forecasts, inputs, problems and freshness', async () => {
    await service.reconciler.runCycle();
    clock.advance(10);
    const res = await request(service.api).get('/scaling/status').expect(200);
    expect(res.body.source).toBe('replay');
    expect(res.body.snapshot).toMatchObject({ cycle: 1, stale: false, ageSeconds: 10, maxAgeSeconds: 120, lastError: null });
    const orders = res.body.queues.find((q: { queue: string }) => q.queue === 'orders');
    expect(orders.current).toMatchObject({ consumers: 3 });
    expect(orders.forecasts).toHaveLength(1);
    expect(orders.forecasts[0]).toMatchObject({ series: 'queue/orders/depth', horizon: '15m', horizonSeconds: 900, model: 'auto' });
    expect(orders.forecasts[0].p10).toBeLessThanOrEqual(orders.forecasts[0].value);
    // The threshold sits inside the hourly swing (70–130), so the pessimistic band must cross it at some
    // time of the hour; at this origin the answer must agree with the band the API itself reports.
    expect(orders.overThresholdWithinHorizon).toBe(orders.forecasts[0].p90 > 110);
    expect(res.body.system).toMatchObject({ cpu_percent: expect.any(Number) });
    expect(res.body.replicas).toEqual({ worker_processes: 4 });
    expect(res.body.problems).toEqual([{ inputKey: 'performance/error_rate_percent', reason: 'empty', message: expect.any(String) }]);
  });

  it('GET /scaling/queues/metrics lists every configured queue', async () => {
    await service.reconciler.runCycle();
    const res = await request(service.api).get('/scaling/queues/metrics').expect(200);
    expect(res.body.queues.map((q: { queue: string }) => q.queue)).toEqual(['orders', 'refunds']);
    expect(res.body.queues[1].threshold).toBe(1000);
  });

  it('GET /scaling/history returns the cycles inside the window and validates hours', async () => {
    for (let i = 0; i < 4; i++) {
      await service.reconciler.runCycle();
      clock.advance(30 * 60);
    }
    const api = request(service.api);
    const all = await api.get('/scaling/history?hours=2').expect(200);
    expect(all.body.entries.map((e: { cycle: number }) => e.cycle)).toEqual([1, 2, 3, 4]);
    expect(all.body.entries[0].queues[0]).toMatchObject({ queue: 'orders', depth: expect.any(Number), predicted: [expect.objectContaining({ horizonSeconds: 900 })] });
    const recent = await api.get('/scaling/history?hours=0.75').expect(200);
    expect(recent.body.entries.map((e: { cycle: number }) => e.cycle)).toEqual([4]);
    const cases: readonly [string, RegExp][] = [
      ['hours=abc', /"hours" must be a positive number, got "abc"/],
      ['hours=-1', /"hours" must be a positive number/],
      ['hours=0', /greater than 0 and at most 2/],
      ['hours=3', /at most 2 \(snapshot.historyRetention\), got 3/],
      ['hours=1&hours=2', /"hours" must be a positive number/],
      ['hour=1', /unknown query parameter "hour"; allowed: hours/],
    ];
    for (const [query, message] of cases) expectStatus((await api.get(`/scaling/history?${query}`).expect(400)).body, 400, message);
  });

  it('GET /scaling/ml/accuracy reports every baseline per series with accuracy = 100 × (1 − WAPE)', async () => {
    await service.reconciler.runCycle();
    const res = await request(service.api).get('/scaling/ml/accuracy').expect(200);
    const orders = res.body.series.find((s: { series: string }) => s.series === 'queue/orders/depth');
    // The default selects per series on validation: what won, why and the runner-up are shown.
    expect(orders.servingModel).toBe('auto');
    expect(orders.selection).toMatchObject({ why: 'lowest_validation_mae', served: expect.any(String), runnerUp: expect.any(String) });
    expect(orders.selection.validationMae).toBeLessThanOrEqual(orders.selection.naiveValidationMae);
    expect(orders.models.map((m: { model: string }) => m.model).sort()).toEqual(['auto', 'holt_winters', 'linear_trend', 'naive', 'seasonal_mean', 'seasonal_naive']);
    for (const m of orders.models) {
      // On a busy series the accuracy is 100 × (1 − WAPE) (each point weighs |y|, well above the seasonal-naive MAE).
      expect(m.accuracyPercent).toBeCloseTo(Math.max(0, 100 * (1 - m.wape)), 6);
      expect(m.points).toBeGreaterThan(0);
    }
    // On a clean hourly cycle the seasonal models beat naive; the list is sorted best first.
    const mases = orders.models.map((m: { mase: number }) => m.mase);
    expect([...mases].sort((a, b) => a - b)).toEqual(mases);
    expect(orders.models[0].model).not.toBe('naive');
  });

  it('POST /scaling/evaluate runs a cycle now and returns it; an outage gives 503', async () => {
    const api = request(service.api);
    const first = await api.post('/scaling/evaluate').expect(200);
    expect(first.body.snapshot.cycle).toBe(1);
    const second = await api.post('/scaling/evaluate').expect(200);
    expect(second.body.snapshot.cycle).toBe(2);
    source.failAll();
    expectStatus((await api.post('/scaling/evaluate').expect(503)).body, 503, /reconcile cycle failed: fake source: Prometheus is unreachable/);
    // The previous snapshot is still served, with the failure reported.
    const status = await api.get('/scaling/status').expect(200);
    expect(status.body.snapshot).toMatchObject({ cycle: 2, consecutiveFailures: 1, lastError: 'fake source: Prometheus is unreachable' });
    clock.advance(180);
    expect((await api.get('/scaling/status').expect(200)).body.snapshot.stale).toBe(true);
  });

  it('answers unknown paths, methods and parameters with a 4xx Status', async () => {
    const api = request(service.api);
    expectStatus((await api.get('/nope').expect(404)).body, 404, /GET \/nope/);
    expectStatus((await api.delete('/scaling/status').expect(404)).body, 404, /DELETE/);
    expectStatus((await api.get('/scaling/status?verbose=1').expect(400)).body, 400, /unknown query parameter "verbose"/);
    expectStatus((await api.post('/scaling/evaluate').set('content-type', 'application/json').send('{bad').expect(400)).body, 400, /./);
  });

  it('serves /metrics in the Prometheus text format', async () => {
    await service.reconciler.runCycle();
    const res = await request(service.api).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^predicted_queue_depth\{queue="orders",horizon="15m",quantile="0\.5"\} \d/m);
    expect(res.text).toMatch(/^queue_depth_threshold\{queue="refunds"\} 1000$/m);
    expect(res.text).toMatch(/^current_replicas\{resource="worker_processes"\} 4$/m);
    expect(res.text).toMatch(/^foresight_source_problems_total\{reason="empty"\} 1$/m);
    expect(res.text).toMatch(/^foresight_build_info\{version="0\.0\.0-test",revision="test",nodejs_version="v20/m);
  });
});
