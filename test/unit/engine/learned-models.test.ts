import { describe, expect, it } from 'vitest';
import type { InputRef, RegularSeries, Sample } from '../../../src/core/index.js';
import { type LearnedModels, type LearnedModelStatus, type LearnedServing, type Recorder, Reconciler, SnapshotStore } from '../../../src/engine/index.js';
import type { CovariateName, EachOriginForecasts, FeatureInputs, FittedForecaster, ForecastSpec, PointForecast } from '../../../src/forecast/index.js';
import { FakeSource } from '../../support/fake-source.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';

const HOUR_MS = 3_600_000;
const depth: InputRef = { kind: 'queue', queue: 'orders', metric: 'depth' };
const key = 'queue/orders/depth';
/** An hourly cycle with a half-hour ripple: neither the baseline nor a constant gets it exactly. */
const truth = (t: number) => 100 + 30 * Math.sin((2 * Math.PI * t) / HOUR_MS) + 10 * Math.sin((4 * Math.PI * t) / (0.7 * HOUR_MS));

const yaml = `
queues: [{ name: orders, threshold: 150 }]
# These tests are about the learned model against one baseline; Holt-Winters keeps them fast (the default auto is tested elsewhere).
forecast: { model: holt_winters, step: 1m, season: 1h, history: 10h, horizons: [5m, 15m], refitInterval: 30m }
ml: { lstm: { enabled: true } }
`;

/** A stand-in learned model: forecasts `valueAt(target time)` from any history, for the given spec. */
function fakeModel(spec: ForecastSpec, valueAt: (t: number) => number): FittedForecaster {
  const at = (series: RegularSeries, origin: number): PointForecast => {
    const v = valueAt(series.startMs + (origin + spec.horizonSteps) * series.stepSeconds * 1000);
    return { value: v, p10: v - 1, p90: v + 1 };
  };
  return {
    model: 'lstm',
    spec,
    forecast: (history) => at(history, history.values.length - 1),
    forecastEachOrigin: (series): EachOriginForecasts => {
      const n = series.values.length;
      const out = { value: new Float64Array(n), p10: new Float64Array(n), p90: new Float64Array(n) };
      for (let t = 0; t < n; t++) {
        const p = at(series, t);
        out.value[t] = p.value;
        out.p10[t] = p.p10;
        out.p90[t] = p.p90;
      }
      return out;
    },
  };
}

class FakeLearned implements LearnedModels {
  readonly loads: string[] = [];
  readonly ticks: { key: string; spec: ForecastSpec; points: number; covariates: Partial<Record<CovariateName, RegularSeries>>; accuracyPercent?: number }[] = [];
  /** By default the model was trained on data older than any buffer: every validation origin is unseen. */
  constructor(
    private readonly model: (spec: ForecastSpec) => FittedForecaster | undefined,
    private readonly trainedThroughMs = 0,
  ) {}
  async load(seriesKey: string): Promise<void> {
    this.loads.push(seriesKey);
  }
  tick(series: readonly { seriesKey: string; inputs: FeatureInputs }[], spec: ForecastSpec, _nowMs: number, accuracy: ReadonlyMap<string, number>): void {
    for (const { seriesKey, inputs } of series) {
      const accuracyPercent = accuracy.get(seriesKey);
      this.ticks.push({ key: seriesKey, spec, points: inputs.target.values.length, covariates: { ...inputs.covariates }, ...(accuracyPercent === undefined ? {} : { accuracyPercent }) });
    }
  }
  serving(seriesKey: string): LearnedServing | undefined {
    const model = seriesKey === key ? this.model({ stepSeconds: 60, seasonSteps: 60, horizonSteps: 5 }) : undefined;
    if (model === undefined) return undefined;
    return {
      model,
      trainedThroughMs: this.trainedThroughMs,
      // Like the LSTM's: NaN before the first origin asked for.
      forecastsFrom: async (series, fromIndex) => {
        const all = model.forecastEachOrigin(series);
        for (const band of [all.value, all.p10, all.p90]) band.fill(Number.NaN, 0, fromIndex);
        return all;
      },
    };
  }
  async latest(items: readonly { seriesKey: string; series: RegularSeries }[]): Promise<(PointForecast | undefined)[]> {
    return items.map(({ seriesKey, series }) => this.serving(seriesKey)?.model.forecast(series));
  }
  status(): readonly LearnedModelStatus[] {
    return [{ seriesKey: key, model: 'lstm', state: 'serving', trainedAtMs: 1 }];
  }
}

const silent: Recorder = { cycleFinished() {}, sourceProblem() {}, modelFitted() {}, decided() {}, anomaliesScored() {} };

/**
 * The cycle under test runs at `testAtMs` on a full 10 h window, as the learned choice is meant to
 * see it: a cycle one refit interval (30 min) earlier reads the recent past (two seasons and the
 * largest horizon), and the cycle under test reads the rest of the window and refits the baseline,
 * which makes the learned model be compared again.
 */
function setup(learned: LearnedModels | ((nowMs: number) => LearnedModels), text = yaml) {
  const testAtMs = Date.UTC(2026, 10, 2, 12, 0, 20);
  const clock = new ManualClock(testAtMs - 30 * 60_000);
  const config = configFromYaml(text);
  const samples: Sample[] = [];
  for (let t = testAtMs - 12 * HOUR_MS; t <= testAtMs + 6 * HOUR_MS; t += 60_000) samples.push({ timestampMs: t, value: truth(t) });
  const source = new FakeSource().set(depth, samples);
  const models = typeof learned === 'function' ? learned(testAtMs) : learned;
  const reconciler = new Reconciler({ source, clock, store: new SnapshotStore({ historyRetentionSeconds: 3600 }), recorder: silent, config: () => config, learned: models });
  const runCycle = async () => {
    await reconciler.runCycle();
    clock.advance(30 * 60);
    return reconciler.runCycle();
  };
  return { clock, reconciler, runCycle };
}

describe('Reconciler with learned models', () => {
  it('serves a learned model that beats the baseline on the newest 30 %, at its horizon only', async () => {
    const oracle = fakeModel({ stepSeconds: 60, seasonSteps: 60, horizonSteps: 5 }, truth);
    const learned = new FakeLearned(() => oracle);
    const snapshot = await setup(learned).runCycle();
    const five = snapshot.forecasts.find((f) => f.seriesKey === key && f.horizonSeconds === 300)!;
    const fifteen = snapshot.forecasts.find((f) => f.seriesKey === key && f.horizonSeconds === 900)!;
    expect(five.model).toBe('lstm');
    expect(five.value).toBeCloseTo(truth(five.originMs + 300_000), 6);
    expect(fifteen.model).toBe('holt_winters');
    const status = snapshot.learnedModels!.find((s) => s.seriesKey === key)!;
    expect(status.servesForecasts).toBe(true);
    expect(status.validationMase!).toBeLessThan(status.baselineValidationMase!);
    // Its validation scores stand beside the baselines' backtests.
    expect(snapshot.accuracy.find((a) => a.seriesKey === key && a.model === 'lstm')?.points).toBeGreaterThan(0);
  });

  it('keeps the baseline when the learned model is worse, and says why', async () => {
    const constant = fakeModel({ stepSeconds: 60, seasonSteps: 60, horizonSteps: 5 }, () => 0);
    const snapshot = await setup(new FakeLearned(() => constant)).runCycle();
    expect(snapshot.forecasts.filter((f) => f.seriesKey === key).map((f) => f.model)).toEqual(['holt_winters', 'holt_winters']);
    const status = snapshot.learnedModels!.find((s) => s.seriesKey === key)!;
    expect(status.servesForecasts).toBe(false);
    expect(status.notServingReason).toMatch(/baseline holt_winters is better or equal/);
    expect(status.validationMase!).toBeGreaterThan(status.baselineValidationMase!);
  });

  it('scores the learned model only on origins after its training data, and waits until there are enough', async () => {
    const oracle = fakeModel({ stepSeconds: 60, seasonSteps: 60, horizonSteps: 5 }, truth);
    // Trained through 2.5 h ago, inside the newest 30 % (3 h) of the 10 h buffer: only later origins are scored,
    // from the first grid point after it to the last one with a matured 5-minute target.
    const recent = await setup((nowMs) => new FakeLearned(() => oracle, nowMs - 2.5 * HOUR_MS)).runCycle();
    const old = await setup(new FakeLearned(() => oracle)).runCycle();
    const lstmPoints = (s: typeof old) => s.accuracy.find((a) => a.seriesKey === key && a.model === 'lstm')!.points;
    // The 30 % window starts 3 h before the grid's end (09:00); the first unseen origin is 09:31 (trained through 09:30:20).
    expect(lstmPoints(old)).toBeGreaterThan(150);
    expect(lstmPoints(recent)).toBe(lstmPoints(old) - 31);
    expect(recent.learnedModels![0]!.servesForecasts).toBe(true);
    // Trained through the cycle itself: nothing unseen, so it does not serve and says why.
    const fresh = await setup((nowMs) => new FakeLearned(() => oracle, nowMs)).runCycle();
    expect(fresh.learnedModels![0]!.servesForecasts).toBe(false);
    expect(fresh.learnedModels![0]!.notServingReason).toMatch(/only 0 origins after the learned model's training data/);
    expect(fresh.forecasts.every((f) => f.model !== 'lstm')).toBe(true);
  });

  it('keeps the baseline, and says why, when the learned model cannot be scored', async () => {
    const oracle = fakeModel({ stepSeconds: 60, seasonSteps: 60, horizonSteps: 5 }, truth);
    const broken = new FakeLearned(() => oracle);
    const serving = broken.serving.bind(broken);
    broken.serving = (k) => {
      const s = serving(k);
      return s === undefined ? undefined : { ...s, forecastsFrom: () => Promise.reject(new Error('weights.bin is truncated')) };
    };
    const snapshot = await setup(broken).runCycle();
    expect(snapshot.learnedModels![0]!.servesForecasts).toBe(false);
    expect(snapshot.learnedModels![0]!.notServingReason).toBe('the learned model could not be scored: weights.bin is truncated');
    expect(snapshot.forecasts.every((f) => f.model !== 'lstm')).toBe(true);
  });

  it('ignores a learned model whose spec matches no horizon', async () => {
    const other = fakeModel({ stepSeconds: 60, seasonSteps: 60, horizonSteps: 7 }, truth);
    const snapshot = await setup(new FakeLearned(() => other)).runCycle();
    expect(snapshot.forecasts.every((f) => f.model !== 'lstm')).toBe(true);
    expect(snapshot.learnedModels![0]!.notServingReason).toMatch(/matches no configured horizon/);
  });

  it('loads each series once, ticks every series every cycle with the first horizon, and passes matured accuracy', async () => {
    const learned = new FakeLearned(() => undefined);
    const { reconciler, clock } = setup(learned);
    await reconciler.runCycle();
    clock.advance(600);
    await reconciler.runCycle();
    expect(learned.loads.filter((k) => k === key)).toHaveLength(1);
    const mine = learned.ticks.filter((t) => t.key === key);
    expect(mine).toHaveLength(2);
    expect(mine[0]!.spec).toEqual({ stepSeconds: 60, seasonSteps: 60, horizonSteps: 5 });
    expect(mine[0]!.accuracyPercent).toBeUndefined();
    // The first cycle's 5-minute forecast has matured by the second.
    expect(mine[1]!.accuracyPercent).toEqual(expect.any(Number));
  });

  it("feeds the LSTM each series' covariates from the source, on the series' grid, each point its own minute's reading", async () => {
    const learned = new FakeLearned(() => undefined);
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
    const config = configFromYaml(yaml);
    const series = (f: (t: number) => number): Sample[] => {
      const out: Sample[] = [];
      // On whole minutes, the grid's points: each grid point holds its own minute's reading.
      for (let t = Math.floor((clock.nowMs() - 12 * HOUR_MS) / 60_000) * 60_000; t <= clock.nowMs(); t += 60_000) out.push({ timestampMs: t, value: f(t) });
      return out;
    };
    // Each covariate a different function of its own minute: a shift by one step, or one covariate
    // read in place of another, fails the check below.
    const minute = (t: number) => t / 60_000;
    const queueCovariates: Partial<Record<CovariateName, (t: number) => number>> = {
      enqueue_rate_per_second: (t) => minute(t) % 1000,
      dequeue_rate_per_second: (t) => (minute(t) % 977) + 0.5,
      // Eighths: exact in the 32-bit floats the history window holds.
      wait_avg_seconds: (t) => (minute(t) % 61) / 8,
      failed_messages: (t) => minute(t) % 7,
    };
    const source = new FakeSource().set(depth, series(truth)).set(
      { kind: 'system', metric: 'cpu_percent' },
      series(() => 42),
    );
    for (const [name, f] of Object.entries(queueCovariates)) source.set({ kind: 'queue', queue: 'orders', metric: name as 'depth' }, series(f));
    const reconciler = new Reconciler({ source, clock, store: new SnapshotStore({ historyRetentionSeconds: 3600 }), recorder: silent, config: () => config, learned });
    // The first cycle reads the recent past; the second, at the same time, the rest of the window.
    await reconciler.runCycle();
    await reconciler.runCycle();
    const tick = learned.ticks.findLast((t) => t.key === key)!;
    for (const [name, f] of Object.entries(queueCovariates) as [CovariateName, (t: number) => number][]) {
      const covariate = tick.covariates[name];
      expect(covariate, name).toBeDefined();
      // Same grid as the target, and each point is the reading of its own minute (no shift either way).
      expect(covariate!.stepSeconds).toBe(60);
      expect(covariate!.values.length).toBe(tick.points);
      let checked = 0;
      for (let i = 0; i < covariate!.values.length; i++) {
        if (!Number.isFinite(covariate!.values[i]!)) continue;
        expect(covariate!.values[i], `${name}[${i}]`).toBe(f(covariate!.startMs + i * 60_000));
        checked++;
      }
      expect(checked, name).toBeGreaterThan(500);
    }
    expect(tick.covariates.cpu_percent!.values.at(-1)).toBe(42);
    // The CPU series is forecast too; it gets the system covariates, not a queue's.
    const cpu = learned.ticks.findLast((t) => t.key === 'system/cpu_percent')!;
    expect(cpu.covariates.enqueue_rate_per_second).toBeUndefined();
    expect(cpu.covariates.dequeue_rate_per_second).toBeUndefined();
  });

  it('keeps the covariates out of the history window when the LSTM is off (they are read only for it)', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
    const config = configFromYaml(yaml.replace('enabled: true', 'enabled: false'));
    const source = new FakeSource().set(depth, [{ timestampMs: clock.nowMs() - 60_000, value: 1 }]);
    const reconciler = new Reconciler({
      source,
      clock,
      store: new SnapshotStore({ historyRetentionSeconds: 3600 }),
      recorder: silent,
      config: () => config,
      learned: new FakeLearned(() => undefined),
    });
    await reconciler.runCycle();
    const asked = source.calls.flatMap((c) => (c.method === 'readHistory' ? c.inputs.map((i) => ('metric' in i ? i.metric : i.kind)) : []));
    expect(asked).toContain('depth');
    expect(asked).not.toContain('dequeue_rate_per_second');
    expect(asked).not.toContain('wait_avg_seconds');
  });

  it('does nothing with learned models when ml.lstm is disabled', async () => {
    const learned = new FakeLearned(() => fakeModel({ stepSeconds: 60, seasonSteps: 60, horizonSteps: 5 }, truth));
    const { reconciler } = setup(learned, yaml.replace('enabled: true', 'enabled: false'));
    const snapshot = await reconciler.runCycle();
    expect(learned.loads).toEqual([]);
    expect(learned.ticks).toEqual([]);
    expect(snapshot.learnedModels).toBeUndefined();
    expect(snapshot.forecasts.every((f) => f.model !== 'lstm')).toBe(true);
  });
});
