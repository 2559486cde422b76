import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import type { InputRef, Sample } from '../../../src/core/index.js';
import { loadDecisionPolicy, type Recorder, Reconciler, SnapshotStore } from '../../../src/engine/index.js';
import { FakeSource } from '../../support/fake-source.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';

const HOUR_MS = 3_600_000;
const depth = (queue: string): InputRef => ({ kind: 'queue', queue, metric: 'depth' });
const cpu: InputRef = { kind: 'system', metric: 'cpu_percent' };

/** An hourly cycle, so that a three-hour window holds the two seasons Holt-Winters needs. */
const hourly = (t: number, level: number) => level + 0.3 * level * Math.sin((2 * Math.PI * (t % HOUR_MS)) / HOUR_MS);

function samples(fromMs: number, toMs: number, valueAt: (t: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let t = fromMs; t <= toMs; t += 60_000) out.push({ timestampMs: t, value: valueAt(t) });
  return out;
}

const baseYaml = `
queues:
  - { name: orders, threshold: 150 }
  - { name: refunds, threshold: 50 }
forecast: { step: 1m, season: 1h, history: 3h, horizons: [5m, 15m], refitInterval: 30m }
scaling: { monitoringInterval: 30s }
`;

class CountingRecorder implements Recorder {
  readonly cycles: string[] = [];
  readonly problems: string[] = [];
  fits = 0;
  cycleFinished(outcome: 'success' | 'failure'): void {
    this.cycles.push(outcome);
  }
  sourceProblem(reason: string): void {
    this.problems.push(reason);
  }
  modelFitted(): void {
    this.fits += 1;
  }
  decided(): void {}
  anomaliesScored(): void {}
}

function setup(yaml = baseYaml, dataStartMs?: number) {
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
  let config: Config = configFromYaml(yaml);
  const from = dataStartMs ?? clock.nowMs() - 6 * HOUR_MS;
  const to = clock.nowMs() + 6 * HOUR_MS;
  // The fake serves only what is at or before the asked time, so future samples never leak.
  const source = new FakeSource()
    .set(
      depth('orders'),
      samples(from, to, (t) => hourly(t, 100)),
    )
    .set(
      depth('refunds'),
      samples(from, to, (t) => hourly(t, 20)),
    )
    .set(
      cpu,
      samples(from, to, (t) => hourly(t, 50)),
    )
    .set({ kind: 'queue', queue: 'orders', metric: 'consumers' }, new Error('bad_data: parse error at char 7'));
  const store = new SnapshotStore({ historyRetentionSeconds: 3600 });
  const recorder = new CountingRecorder();
  const reconciler = new Reconciler({ source, clock, store, recorder, config: () => config });
  return { clock, source, store, recorder, reconciler, setConfig: (c: Config) => (config = c) };
}

describe('Reconciler', () => {
  it('forecasts every queue at every horizon on the first cycle, from two seasons and the largest horizon of history', async () => {
    const { reconciler, source, clock, store } = setup();
    const snapshot = await reconciler.runCycle();
    expect(snapshot.cycle).toBe(1);
    expect(store.latest()).toBe(snapshot);

    const gridEndMs = Math.floor(clock.nowMs() / 60_000) * 60_000;
    const history = source.calls.filter((c) => c.method === 'readHistory');
    // 2 × 1 h + 15 min of the 3 h window; the rest is read by the next cycles (history-window.test.ts).
    expect(history.map((c) => c.method === 'readHistory' && c.range)).toEqual([{ startMs: gridEndMs - 2.25 * HOUR_MS, endMs: gridEndMs, stepSeconds: 60 }]);
    // Seven forecast series (each queue's depth and arrival rate, CPU, memory, p95), 45 minutes of each to come.
    expect(snapshot.history).toEqual({ pendingSeries: 7, pendingPoints: 7 * 45, failedSeries: 0 });

    for (const [queue, level] of [
      ['orders', 100],
      ['refunds', 20],
    ] as const) {
      const state = snapshot.queues.find((q) => q.queue === queue)!;
      expect(state.depthForecasts.map((f) => f.horizonSeconds)).toEqual([300, 900]);
      for (const f of state.depthForecasts) {
        // The default selects per series on validation, and says what won, why, and the runner-up.
        expect(f.model).toBe('auto');
        expect(f.selection).toMatchObject({ why: 'lowest_validation_mae', served: expect.any(String), runnerUp: expect.any(String) });
        expect(f.originMs).toBe(gridEndMs);
        expect(Math.abs(f.value - hourly(gridEndMs + f.horizonSeconds * 1000, level))).toBeLessThan(0.03 * level);
        expect(f.p10).toBeLessThanOrEqual(f.value);
        expect(f.p90).toBeGreaterThanOrEqual(f.value);
      }
    }
    expect(snapshot.forecasts.some((f) => f.seriesKey === 'system/cpu_percent')).toBe(true);
    // Backtest accuracy of every baseline on every forecast series, for /scaling/ml/accuracy: the
    // scores auto validated on (the same newest 30 %; the first pass has the baselines only), reused
    // rather than backtested again.
    const models = new Set(snapshot.accuracy.filter((a) => a.seriesKey === 'queue/orders/depth').map((a) => a.model));
    expect(models).toEqual(new Set(['naive', 'seasonal_naive', 'seasonal_mean', 'linear_trend', 'holt_winters', 'auto']));
  });

  it('counts and skips bad query results without failing the cycle', async () => {
    const { reconciler, recorder } = setup();
    const snapshot = await reconciler.runCycle();
    expect(snapshot.problems).toEqual([{ inputKey: 'queue/orders/consumers', reason: 'query_failed', message: 'bad_data: parse error at char 7' }]);
    expect(recorder.problems).toEqual(['query_failed']);
    expect(snapshot.queues[0]!.current['consumers']).toBeUndefined();
    expect(snapshot.queues[0]!.current['depth']).toBeGreaterThan(0);
  });

  it('reads only the recent past after the first cycle and refits only when due', async () => {
    const { reconciler, source, clock, recorder } = setup();
    await reconciler.runCycle();
    const fitsAfterFirst = recorder.fits;
    expect(fitsAfterFirst).toBe(3 * 2); // three series, two horizons
    clock.advance(30);
    source.calls.length = 0;
    const second = await reconciler.runCycle();
    const history = source.calls.find((c) => c.method === 'readHistory');
    const gridEndMs = Math.floor(clock.nowMs() / 60_000) * 60_000;
    expect(history?.method === 'readHistory' && history.range.startMs).toBeGreaterThanOrEqual(gridEndMs - 6 * 60_000);
    // The first cycle's fit was auto's quick first pass (baselines only): the second makes the full one.
    expect(recorder.fits).toBe(2 * fitsAfterFirst);
    expect(second.queues[0]!.depthForecasts).toHaveLength(2);
    clock.advance(30);
    await reconciler.runCycle();
    expect(recorder.fits).toBe(2 * fitsAfterFirst);
    clock.advance(30 * 60);
    await reconciler.runCycle();
    expect(recorder.fits).toBe(3 * fitsAfterFirst);
  });

  it('keeps the last snapshot through an outage and recovers on the next cycle', async () => {
    const { reconciler, source, store, clock, recorder } = setup();
    const first = await reconciler.runCycle();
    source.failAll();
    clock.advance(30);
    await expect(reconciler.runCycle()).rejects.toThrow(/unreachable/);
    expect(store.latest()).toBe(first);
    expect(store.status()).toMatchObject({ consecutiveFailures: 1, lastError: 'fake source: Prometheus is unreachable' });
    expect(store.ageSeconds(clock.nowMs())).toBeGreaterThanOrEqual(30);
    source.recover();
    clock.advance(30);
    const next = await reconciler.runCycle();
    expect(next.cycle).toBe(2);
    expect(store.status().consecutiveFailures).toBe(0);
    expect(recorder.cycles).toEqual(['success', 'failure', 'success']);
  });

  it('falls back to a simpler model, with a reason, when history is shorter than two seasons', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
    const { reconciler } = setup(baseYaml, clock.nowMs() - 40 * 60_000);
    const snapshot = await reconciler.runCycle();
    const f = snapshot.queues[0]!.depthForecasts[0]!;
    expect(f.model).not.toBe('holt_winters');
    expect(f.fallbackReason).toMatch(/holt_winters/);
  });

  it('never runs two cycles at once, and callers asking while one waits join it', async () => {
    const { reconciler, source } = setup();
    let active = 0;
    let maxActive = 0;
    // Cycle 1's read is held open until b and c have asked: no sleep decides the interleaving.
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const original = source.readLatest.bind(source);
    source.readLatest = async (...args) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      started();
      await released;
      active -= 1;
      return original(...args);
    };
    const a = reconciler.runCycle();
    await running;
    expect(reconciler.cycleWaiting).toBe(false);
    const [b, c] = [reconciler.runCycle(), reconciler.runCycle()];
    expect(reconciler.cycleWaiting).toBe(true);
    release();
    // Asked while cycle 1 runs, b and c share the one cycle that waits for it: it starts after both asked.
    expect((await Promise.all([a, b, c])).map((s) => s.cycle)).toEqual([1, 2, 2]);
    expect(maxActive).toBe(1);
    expect(reconciler.cycleWaiting).toBe(false);
  });

  it('applies a reloaded configuration from the next cycle', async () => {
    const { reconciler, source, clock, setConfig } = setup();
    await reconciler.runCycle();
    source.set(
      depth('audits'),
      samples(clock.nowMs() - 6 * HOUR_MS, clock.nowMs() + HOUR_MS, (t) => hourly(t, 10)),
    );
    setConfig(configFromYaml(baseYaml.replace('  - { name: refunds, threshold: 50 }', '  - { name: refunds, threshold: 50 }\n  - { name: audits, threshold: 5 }')));
    clock.advance(30);
    const snapshot = await reconciler.runCycle();
    expect(snapshot.queues.map((q) => q.queue)).toEqual(['orders', 'refunds', 'audits']);
    expect(snapshot.queues[2]!.depthForecasts).toHaveLength(2);
  });
});

describe('Reconciler anomaly scoring', () => {
  const zscoreYaml = `${baseYaml}anomaly: { detector: zscore, baselineWindow: 1h }\n`;

  it('flags a spike in a queue as a critical anomaly and leaves the calm queue alone', async () => {
    const { reconciler, source, clock } = setup(zscoreYaml);
    const gridEndMs = Math.floor(clock.nowMs() / 60_000) * 60_000;
    // Samples fall 20 s after each minute: the last one before the grid end carries the spike.
    const spiky = samples(clock.nowMs() - 6 * HOUR_MS, gridEndMs, (t) => (t > gridEndMs - 60_000 ? 1000 : hourly(t, 100)));
    source.set(depth('orders'), spiky);
    const snapshot = await reconciler.runCycle();
    const orders = snapshot.anomalies.find((a) => a.seriesKey === 'queue/orders/depth');
    expect(orders).toMatchObject({ metric: 'queue_depth', queue: 'orders', detector: 'zscore', isAnomaly: true, severity: 'critical', value: 1000 });
    const refunds = snapshot.anomalies.find((a) => a.seriesKey === 'queue/refunds/depth');
    expect(refunds?.isAnomaly).toBe(false);
    expect(snapshot.anomalies.find((a) => a.seriesKey === 'system/cpu_percent')?.metric).toBe('cpu');
  });

  it('scores nothing when anomaly detection is off', async () => {
    const { reconciler } = setup(`${zscoreYaml}scaling: { monitoringInterval: 30s, anomalyDetectionEnabled: false }\n`.replace('scaling: { monitoringInterval: 30s }\n', ''));
    const snapshot = await reconciler.runCycle();
    expect(snapshot.anomalies).toEqual([]);
  });
});

describe('Reconciler decisions', () => {
  const repoRoot = new URL('../../..', import.meta.url).pathname;

  it('decides every resource with the shipped rules, and scales workers up on a backlog with reasons', async () => {
    const { reconciler, source, clock, setConfig } = setup();
    const config = configFromYaml(baseYaml);
    setConfig(config);
    const loaded = loadDecisionPolicy(config, [repoRoot]);
    if (!loaded.ok) throw new Error(loaded.error);
    const withPolicy = new Reconciler({
      source,
      clock,
      store: new SnapshotStore({ historyRetentionSeconds: 3600 }),
      recorder: new CountingRecorder(),
      config: () => config,
      policy: () => loaded.value,
    });
    const from = clock.nowMs() - 6 * HOUR_MS;
    source.set(
      depth('orders'),
      samples(from, clock.nowMs(), () => 3000),
    );
    source.set(
      { kind: 'replicas', resource: 'worker_processes' },
      samples(from, clock.nowMs(), () => 4),
    );
    const snapshot = await withPolicy.runCycle();
    expect(snapshot.decisions.map((d) => d.resource)).toEqual(['worker_processes', 'api_instances', 'batch_processors', 'ml_workers', 'db_connections']);
    const workers = snapshot.decisions[0]!;
    expect(workers.currentReplicas).toBe(4);
    expect(workers.direction).toBe('up');
    expect(workers.recommendedReplicas).toBeGreaterThan(4);
    expect(workers.recommendedReplicas).toBeLessThanOrEqual(20);
    expect(workers.rule).toBe('queue_backlog');
    expect(workers.reasons.length).toBeGreaterThan(0);
    expect(workers.changed).toBe(true);
    // Without a policy (scaling off, or no rules) there are no decisions; the old reconciler has none.
    expect((await reconciler.runCycle()).decisions).toEqual([]);
  });

  it('makes no decisions when scaling is disabled', async () => {
    const { source, clock } = setup();
    const config = configFromYaml(`${baseYaml.replace('scaling: { monitoringInterval: 30s }', 'scaling: { monitoringInterval: 30s, enabled: false }')}`);
    const loaded = loadDecisionPolicy(config, [repoRoot]);
    if (!loaded.ok) throw new Error(loaded.error);
    const r = new Reconciler({ source, clock, store: new SnapshotStore({ historyRetentionSeconds: 3600 }), recorder: new CountingRecorder(), config: () => config, policy: () => loaded.value });
    expect((await r.runCycle()).decisions).toEqual([]);
  });
});

describe('Reconciler matured-forecast accuracy', () => {
  it('scores published forecasts once their target time has passed: 100 × (1 − WAPE)', async () => {
    const { reconciler, clock } = setup();
    const first = await reconciler.runCycle();
    expect(first.maturedAccuracy.find((m) => m.seriesKey === 'queue/orders/depth' && m.horizonSeconds === 300)).toMatchObject({ points: 0, pending: 1 });
    for (let i = 0; i < 8; i++) {
      clock.advance(60);
      await reconciler.runCycle();
    }
    const snapshot = await reconciler.runCycle();
    const fiveMinutes = snapshot.maturedAccuracy.find((m) => m.seriesKey === 'queue/orders/depth' && m.horizonSeconds === 300)!;
    // Forecasts made in the first four minutes have matured; the rest wait for their actuals.
    expect(fiveMinutes.points).toBeGreaterThanOrEqual(4);
    expect(fiveMinutes.pending).toBeGreaterThan(0);
    expect(fiveMinutes.accuracyPercent).toBeCloseTo(100 * (1 - fiveMinutes.wape), 9);
    // A clean hourly cycle: Holt-Winters is within a few percent.
    expect(fiveMinutes.accuracyPercent).toBeGreaterThan(95);
    // The noiseless cycle repeats exactly, so the seasonal-naive scale is 0 and MASE falls back to lag-1.
    expect(fiveMinutes.mase).toBeGreaterThan(0);
    expect(Number.isFinite(fiveMinutes.mase)).toBe(true);
    const fifteen = snapshot.maturedAccuracy.find((m) => m.seriesKey === 'queue/orders/depth' && m.horizonSeconds === 900)!;
    expect(fifteen.points).toBe(0);
  });
});

describe('Reconciler arrival-rate forecasts', () => {
  it("forecasts each queue's enqueue rate too, without mixing it into the depth forecasts", async () => {
    const { reconciler, source, clock } = setup();
    source.set(
      { kind: 'queue', queue: 'orders', metric: 'enqueue_rate_per_second' },
      samples(clock.nowMs() - 6 * HOUR_MS, clock.nowMs(), (t) => hourly(t, 5)),
    );
    const snapshot = await reconciler.runCycle();
    expect(snapshot.forecasts.filter((f) => f.seriesKey === 'queue/orders/enqueue_rate_per_second').map((f) => f.horizonSeconds)).toEqual([300, 900]);
    for (const q of snapshot.queues) for (const f of q.depthForecasts) expect(f.seriesKey).toBe(`queue/${q.queue}/depth`);
  });
});
