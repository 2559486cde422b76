import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import type { InputRef, Sample } from '../../../src/core/index.js';
import { ModelHost, type Recorder, Reconciler, SnapshotStore } from '../../../src/engine/index.js';
import type { ResourceObservation } from '../../../src/forecast/index.js';
import { FakeSource } from '../../support/fake-source.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';

// Settings of the `ml` section that the engine passes on: ml.accuracyWindow, ml.randomForest; and
// what it forgets of a series that is no longer read.

const HOUR_MS = 3_600_000;
const depth = (queue: string): InputRef => ({ kind: 'queue', queue, metric: 'depth' });
const silent: Recorder = { cycleFinished() {}, sourceProblem() {}, modelFitted() {}, decided() {}, anomaliesScored() {} };

function samples(fromMs: number, toMs: number, valueAt: (t: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let t = fromMs; t <= toMs; t += 60_000) out.push({ timestampMs: t, value: valueAt(t) });
  return out;
}

// A cheap model (the default `auto` fits every candidate), one horizon.
const yaml = (extra = '', queues = ['orders', 'refunds']) => `
queues:
${queues.map((q) => `  - { name: ${q}, threshold: 100 }`).join('\n')}
forecast: { model: seasonal_naive, step: 1m, season: 1h, history: 3h, horizons: [2m], refitInterval: 30m }
scaling: { monitoringInterval: 60s }
${extra}
`;

function setup(initial: Config) {
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
  let config = initial;
  const from = clock.nowMs() - 6 * HOUR_MS;
  const to = clock.nowMs() + 6 * HOUR_MS;
  const source = new FakeSource().set(
    depth('orders'),
    samples(from, to, (t) => 100 + (t % HOUR_MS) / 60_000),
  );
  source.set(
    depth('refunds'),
    samples(from, to, (t) => 20 + (t % HOUR_MS) / 300_000),
  );
  const reconciler = new Reconciler({ source, clock, store: new SnapshotStore({ historyRetentionSeconds: 3600 }), recorder: silent, config: () => config });
  return { clock, reconciler, setConfig: (c: Config) => (config = c) };
}

/** Matured points of queue/orders/depth at 2 minutes after `minutes` one-minute cycles. */
async function maturedPoints(config: Config, minutes: number): Promise<number> {
  const { clock, reconciler } = setup(config);
  let snapshot = await reconciler.runCycle();
  for (let i = 0; i < minutes; i++) {
    clock.advance(60);
    snapshot = await reconciler.runCycle();
  }
  return snapshot.maturedAccuracy.find((m) => m.seriesKey === 'queue/orders/depth' && m.horizonSeconds === 120)?.points ?? 0;
}

describe('engine settings', () => {
  it('scores matured forecasts over ml.accuracyWindow, not a fixed day', async () => {
    const day = await maturedPoints(configFromYaml(yaml()), 12);
    const threeMinutes = await maturedPoints(configFromYaml(yaml('ml: { accuracyWindow: 3m }')), 12);
    // Forecasts of the first ten minutes have matured: all count in a day, only the newest in 3 minutes.
    expect(day).toBeGreaterThanOrEqual(9);
    expect(threeMinutes).toBeGreaterThan(0);
    expect(threeMinutes).toBeLessThanOrEqual(3);
  });

  it('drops the backtest scores of a queue that a reload removed', async () => {
    const { clock, reconciler, setConfig } = setup(configFromYaml(yaml()));
    const first = await reconciler.runCycle();
    expect(first.accuracy.some((a) => a.seriesKey === 'queue/refunds/depth')).toBe(true);
    setConfig(configFromYaml(yaml('', ['orders'])));
    clock.advance(60);
    const next = await reconciler.runCycle();
    expect(next.accuracy.some((a) => a.seriesKey === 'queue/orders/depth')).toBe(true);
    expect(next.accuracy.filter((a) => a.seriesKey === 'queue/refunds/depth')).toEqual([]);
  });

  it('trains the resource optimizer with ml.randomForest', () => {
    // Every replica busy (work always waiting): each does 10 per second, whatever the count (3 to 6, ten minutes each).
    const observations: ResourceObservation[] = Array.from({ length: 120 }, (_, i) => {
      const replicas = 3 + (Math.floor(i / 10) % 4);
      return { timestampMs: i * 60_000, replicas, load: 70, throughput: replicas * 10, backlog: 50 };
    });
    const recommend = (forest?: { trees: number; seed: number; minSaturatedSamples: number; headroom: number }) =>
      new ModelHost().optimize({
        generation: 1,
        nowMs: 120 * 60_000,
        refitIntervalSeconds: 600,
        ...(forest === undefined ? {} : { forest }),
        resources: [{ resource: 'worker_processes', observations, maxBacklog: 100, recommend: { predictedLoad: 40, range: { min: 1, max: 20 }, confidenceThreshold: 0.5 } }],
      })[0]!.recommendation!;
    const defaults = recommend();
    const roomier = recommend({ trees: 25, seed: 1, minSaturatedSamples: 30, headroom: 1.5 });
    const demanding = recommend({ trees: 25, seed: 1, minSaturatedSamples: 1000, headroom: 1.2 });
    // 40 × 1.2 = 48 per second needs 5 replicas of 10; 40 × 1.5 = 60 needs 6.
    expect(defaults.recommendedReplicas).toBe(5);
    expect(roomier.recommendedReplicas).toBe(6);
    expect(defaults.trusted).toBe(true);
    expect(demanding.trusted).toBe(false);
    expect(demanding.reasons).toContain('few_saturated_samples');
  });
});
