import { Script } from 'node:vm';
import { pino } from 'pino';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../../src/api/index.js';
import { buildQueueSeries } from '../../../src/api/web-view.js';
import type { AnomalyState, ResourceDecision, Snapshot } from '../../../src/engine/index.js';
import { SnapshotStore } from '../../../src/engine/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';

const config = configFromYaml(`
queues:
  - { name: orders, threshold: 100, resource: worker_processes }
  - { name: refunds, threshold: 1000 }
forecast: { step: 1m, season: 1h, history: 3h, horizons: [15m, 30m] }
snapshot: { maxAge: 2m, historyRetention: 2h }
scaling: { monitoringInterval: 30s }
`);

function anomaly(overrides: Partial<AnomalyState>): AnomalyState {
  return { metric: 'queue_depth', queue: 'orders', seriesKey: 'queue/orders/depth', detector: 'robust', score: 0.9, isAnomaly: true, severity: 'warning', confidence: 0.8, value: 0, ...overrides };
}

/** A verdict about a metric that belongs to no queue (cpu, memory, ...). */
function withoutQueue(a: AnomalyState): AnomalyState {
  const { queue: _queue, ...rest } = a;
  return rest;
}

const decision: ResourceDecision = {
  resource: 'worker_processes',
  currentReplicas: 3,
  recommendedReplicas: 5,
  direction: 'up',
  reasons: ['predicted_queue_over_threshold', 'cooldown_clear'],
  confidence: 0.82,
  rule: 'queue_depth_high',
};

/** A snapshot completed at `atMs` whose orders depth is `depth` and whose forecasts sit above it. */
function snapshotAt(cycle: number, atMs: number, depth: number, anomalies: readonly AnomalyState[] = [], decisions: readonly ResourceDecision[] = []): Snapshot {
  const forecast = (queue: string, horizonSeconds: number, value: number) => ({
    seriesKey: `queue/${queue}/depth`,
    input: { kind: 'queue', queue, metric: 'depth' } as const,
    horizonSeconds,
    originMs: atMs,
    model: 'holt_winters',
    value,
    p10: value - 10,
    p90: value + 10,
  });
  const ordersForecasts = [forecast('orders', 900, depth + 20), forecast('orders', 1800, depth + 40)];
  const refundsForecasts = [forecast('refunds', 900, 50), forecast('refunds', 1800, 60)];
  return {
    cycle,
    startedAtMs: atMs - 100,
    completedAtMs: atMs,
    durationSeconds: 0.1,
    inputs: [],
    queues: [
      { queue: 'orders', threshold: 100, resource: 'worker_processes', current: { depth }, depthForecasts: ordersForecasts },
      { queue: 'refunds', threshold: 1000, resource: 'worker_processes', current: { depth: 40 }, depthForecasts: refundsForecasts },
    ],
    forecasts: [...ordersForecasts, ...refundsForecasts],
    accuracy: [],
    maturedAccuracy: [],
    anomalies,
    decisions,
    problems: [],
  };
}

function expectStatus(body: unknown, code: number, message: RegExp): void {
  expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, message: expect.stringMatching(message) });
}

describe('web view', () => {
  let clock: ManualClock;
  let store: SnapshotStore;
  let api: ReturnType<typeof request>;

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 0));
    store = new SnapshotStore({ historyRetentionSeconds: config.snapshot.historyRetention });
    const app = buildApi({
      store,
      exposition: { contentType: 'text/plain', body: async () => [], text: async () => '' },
      clock,
      config: () => config,
      evaluate: () => Promise.reject(new Error('not in this test')),
      build: { version: '1.2.3-<rc>' },
      logger: pino({ level: 'silent' }),
    });
    api = request(app);
  });

  /** Publishes cycles every 30 s with depths 10, 20, 30, ...; the clock ends at the last one. */
  function publishCycles(count: number, extras: (i: number) => { anomalies?: AnomalyState[]; decisions?: ResourceDecision[] } = () => ({})): void {
    for (let i = 0; i < count; i++) {
      const { anomalies = [], decisions = [] } = extras(i);
      store.publish(snapshotAt(i + 1, clock.nowMs(), 10 * (i + 1), anomalies, decisions));
      if (i < count - 1) clock.advance(30);
    }
  }

  it('serves the page with a strict CSP, the version escaped and its own two assets', async () => {
    const page = await api.get('/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.text).toContain('1.2.3-&#60;rc&#62;');
    expect(page.text).not.toContain('<rc>');
    expect(page.text).toContain('<script src="/web/app.js" defer></script>');
    expect(page.text).toContain('data-refresh-seconds="30"');
    // No inline script: the CSP would block it.
    expect(page.text.match(/<script/g)).toHaveLength(1);
    // Window choices stop at the history retention (2 h).
    expect([...page.text.matchAll(/<option value="([\d.]+)"/g)].map((m) => m[1])).toEqual(['1', '2']);
    const script = await api.get('/web/app.js').expect(200);
    expect(script.headers['content-type']).toMatch(/^application\/javascript/);
    // Compiles as a browser script (compiled only, never run here).
    expect(() => new Script(script.text, { filename: 'app.js' })).not.toThrow();
    const styles = await api.get('/web/app.css').expect(200);
    expect(styles.headers['content-type']).toMatch(/^text\/css/);
    expectStatus((await api.get('/?x=1').expect(400)).body, 400, /unknown query parameter "x"/);
  });

  it('answers 503 before the first cycle, and the page still loads', async () => {
    await api.get('/').expect(200);
    expectStatus((await api.get('/scaling/series').expect(503)).body, 503, /first reconcile cycle/);
    expectStatus((await api.get('/scaling/recommendations').expect(503)).body, 503, /first reconcile cycle/);
  });

  it('GET /scaling/series gives observed depth, past forecasts at their target time and the latest forecasts', async () => {
    publishCycles(4);
    const res = await api.get('/scaling/series').expect(200);
    expect(res.body.hours).toBe(2);
    expect(res.body.nowMs).toBe(clock.nowMs());
    expect(res.body.snapshot).toMatchObject({ cycle: 4, stale: false });
    expect(res.body.queues.map((q: { queue: string }) => q.queue)).toEqual(['orders', 'refunds']);
    const orders = res.body.queues[0];
    const startMs = clock.nowMs() - 90_000;
    expect(orders.actual).toEqual([10, 20, 30, 40].map((value, i) => ({ timestampMs: startMs + i * 30_000, value })));
    expect(orders.forecasts.map((f: { horizon: string }) => f.horizon)).toEqual(['15m', '30m']);
    expect(orders.forecasts[0].points[1]).toEqual({ originMs: startMs + 30_000, targetMs: startMs + 30_000 + 900_000, value: 40, p10: 30, p90: 50 });
    expect(orders.forecasts[1].points[3].targetMs).toBe(clock.nowMs() + 1_800_000);
    expect(orders.latest[0]).toMatchObject({ horizon: '15m', value: 60, model: 'holt_winters', targetMs: clock.nowMs() + 900_000 });
    // 40 + 20 = 60 and 40 + 40 = 80 (p90 90) are below the threshold of 100.
    expect(orders).toMatchObject({ threshold: 100, resource: 'worker_processes', predictedOverload: false, overThresholdWithinHorizon: false, current: { depth: 40 } });
  });

  it('flags a predicted overload and marks anomalies on their queue only', async () => {
    publishCycles(7, (i) => ({
      anomalies: i === 2 ? [anomaly({ value: 30, expected: 12, severity: 'critical' }), withoutQueue(anomaly({ metric: 'cpu', seriesKey: 'system/cpu_percent', value: 97 }))] : [],
    }));
    const res = await api.get('/scaling/series?queue=orders').expect(200);
    expect(res.body.queues).toHaveLength(1);
    const [orders] = res.body.queues;
    // Depth 70: the 30 m point forecast is 110 > 100, the 15 m p90 is 100 (not above).
    expect(orders.predictedOverload).toBe(true);
    expect(orders.overThresholdWithinHorizon).toBe(true);
    expect(orders.anomalies).toEqual([{ timestampMs: clock.nowMs() - 4 * 30_000, metric: 'queue_depth', severity: 'critical', score: 0.9, value: 30, expected: 12 }]);
    const refunds = (await api.get('/scaling/series?queue=refunds').expect(200)).body.queues[0];
    expect(refunds.anomalies).toEqual([]);
    expect(refunds.predictedOverload).toBe(false);
  });

  it('keeps only the cycles inside the window', async () => {
    publishCycles(2);
    clock.advance(3600);
    store.publish(snapshotAt(3, clock.nowMs(), 99));
    const res = await api.get('/scaling/series?hours=0.5&queue=orders').expect(200);
    expect(res.body.queues[0].actual.map((p: { value: number }) => p.value)).toEqual([99]);
    const all = await api.get('/scaling/series?hours=2&queue=orders').expect(200);
    expect(all.body.queues[0].actual.map((p: { value: number }) => p.value)).toEqual([10, 20, 99]);
  });

  it('refuses bad parameters and unknown queues with a Status', async () => {
    publishCycles(1);
    const cases: readonly [string, number, RegExp][] = [
      ['queue=nope', 404, /could not find the queue "nope"; known queues: orders, refunds/],
      ['hours=abc', 400, /"hours" must be a positive number, got "abc"/],
      ['hours=0', 400, /greater than 0 and at most 2/],
      ['hours=3', 400, /at most 2 \(snapshot.historyRetention\), got 3/],
      ['queue=orders&queue=refunds', 400, /"queue" must be given once/],
      ['q=orders', 400, /unknown query parameter "q"; allowed: queue, hours/],
    ];
    for (const [query, code, message] of cases) expectStatus((await api.get(`/scaling/series?${query}`).expect(code)).body, code, message);
    expectStatus((await api.get('/scaling/recommendations?all=1').expect(400)).body, 400, /unknown query parameter "all"/);
  });

  it('GET /scaling/recommendations gives the latest decisions with reasons and the current anomalies', async () => {
    publishCycles(1, () => ({ decisions: [decision], anomalies: [anomaly({}), withoutQueue(anomaly({ metric: 'memory', isAnomaly: false, severity: 'none' }))] }));
    const res = await api.get('/scaling/recommendations').expect(200);
    expect(res.body).toMatchObject({ scalingEnabled: true, anomalyDetectionEnabled: true, snapshot: { cycle: 1 } });
    expect(res.body.decisions).toEqual([decision]);
    // Verdicts that are not anomalies are not listed.
    expect(res.body.anomalies.map((a: AnomalyState) => a.metric)).toEqual(['queue_depth']);
  });

  it('thins a long history to at most maxPoints per series, keeping the newest point', () => {
    const entries = Array.from({ length: 2000 }, (_, i) => ({
      cycle: i + 1,
      completedAtMs: i * 30_000,
      queues: [{ queue: 'orders', depth: i, predicted: [{ horizonSeconds: 900, originMs: i * 30_000, value: i, p10: i, p90: i }] }],
      decisions: [],
      anomalies: i === 1001 ? [anomaly({ value: 5 })] : [],
    }));
    const [orders] = buildQueueSeries(snapshotAt(2000, 1999 * 30_000, 1999), entries, 720);
    expect(orders!.actual.length).toBeLessThanOrEqual(721);
    expect(orders!.actual.length).toBeGreaterThan(600);
    expect(orders!.actual.at(-1)).toEqual({ timestampMs: 1999 * 30_000, value: 1999 });
    expect(orders!.forecasts[0]!.points).toHaveLength(orders!.actual.length);
    // An anomaly in a thinned-out cycle is still marked.
    expect(orders!.anomalies).toHaveLength(1);
  });
});
