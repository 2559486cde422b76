import { describe, expect, it } from 'vitest';
import { defaultForecastQuantile, loadTraceFromRows, enginePolicy, predictiveForecasts, predictiveHorizonSteps, simulate, simulationRulesText } from '../../../src/simulate/index.js';

/**
 * Three days at 5-minute steps of a workload that jumps from 60 to 600 messages per step every
 * day at the same time and stays there for two hours: a seasonal forecaster sees the jump coming
 * from the second day on; a reactive engine always meets it late.
 */
function dailyJumps() {
  const n = 3 * 288;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    timestamps[i] = 1_700_000_000 + 300 * i;
    values[i] = i % 288 >= 100 && i % 288 < 124 ? 600 : 60;
  }
  return loadTraceFromRows(timestamps, values, 300);
}

const trace = dailyJumps();
const system = { capacityPerReplicaPerSecond: 0.2, startupDelaySeconds: 120, minReplicas: 1, maxReplicas: 50, sloWaitSeconds: 60, tickSeconds: 15 };
const lastDay = (values: ArrayLike<number>) => Array.from(values).slice((2 * 288 * 300) / 15);

function run(forecasts: boolean) {
  const policy = enginePolicy({ trace, ...system, model: 'seasonal_naive', forecasts });
  if (!policy.ok) throw new Error(policy.error.join('\n'));
  const result = simulate(trace, policy.value, system);
  const demand = lastDay(result.series!.demand);
  const supply = lastDay(result.series!.supply);
  const shortTicks = demand.filter((d, i) => d > supply[i]!).length;
  return { result, shortTicks, description: policy.value.describe() };
}

describe('the predictive policy (Foresight engine in the simulator)', () => {
  const predictive = run(true);
  const reactive = run(false);

  it('has supply ready for a daily jump it has seen before, where the reactive engine is late', () => {
    // The jump is 540 messages per step above the base: 9 replicas more, known a day ahead.
    expect(reactive.shortTicks).toBeGreaterThan(0);
    expect(predictive.shortTicks).toBeLessThan(reactive.shortTicks);
    expect(predictive.description.reasonCounts['forecast_scale_up'] ?? 0).toBeGreaterThan(0);
    expect(reactive.description.reasonCounts['forecasts_disabled'] ?? 0).toBeGreaterThan(0);
  });

  it('uses the model it was given and the built-in rules with the simulator constants', () => {
    expect(predictive.description.models).toEqual(['seasonal_naive']);
    expect(predictive.description.policy.rules.constants.get('capacity_per_replica')).toBe(0.2);
    expect(predictive.description.policy.rules.constants.get('slo_wait_seconds')).toBe(60);
    expect(predictive.description.policy.ranges.worker_processes).toEqual({ min: 1, max: 50 });
  });

  it('refuses a broken rules text, naming the place', () => {
    const bad = enginePolicy({ trace, ...system, rulesText: simulationRulesText.replace('enqueue_rate_per_second +', 'enqueue_rate +'), rulesFile: 'my.rules.yaml' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.join('\n')).toMatch(/^my\.rules\.yaml:\d+:\d+: .*unknown variable "enqueue_rate"/m);
  });
});

describe('the engine with a calibrated upper quantile', () => {
  // Two noisy days at 5-minute steps, so that the forecasts have a band.
  const noisy = loadTraceFromRows(
    Float64Array.from({ length: 576 }, (_, i) => 1_700_000_000 + 300 * i),
    Float64Array.from({ length: 576 }, (_, i) => 300 + 200 * Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 13) * 15),
    300,
  );
  it("sees median + c · band as the forecast's upper value: a larger multiplier provisions more", () => {
    const provisioned = (multiplier: number | undefined) => {
      const policy = enginePolicy({
        trace: noisy,
        ...system,
        model: 'naive',
        settings: { minForecastConfidence: 0 },
        shared: { ...predictiveForecasts(noisy, { model: 'naive', maxHorizonSteps: 2 }), calibration: { multiplier: () => multiplier } },
        forecastQuantile: 0.9,
      });
      if (!policy.ok) throw new Error(policy.error.join('\n'));
      return simulate(noisy, policy.value, { ...system, keepSeries: false }).replicaMinutes;
    };
    // 3 bands above the median is above the model's p90, and 0 bands (the median) below it.
    expect(provisioned(3)).toBeGreaterThan(provisioned(undefined));
    expect(provisioned(0)).toBeLessThan(provisioned(undefined));
  });
});

describe('the default decision path (the engine at the calibrated quantile)', () => {
  const days = 4;
  const steps = (days * 86_400) / 300;
  const base = Array.from({ length: steps }, (_, i) => 300 + 200 * Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 13) * 10);
  const make = (values: readonly number[]) =>
    loadTraceFromRows(
      Float64Array.from(values, (_, i) => 1_700_000_000 + 300 * i),
      Float64Array.from(values),
      300,
    );
  const provisioned = (t: ReturnType<typeof make>, options: Partial<Parameters<typeof enginePolicy>[0]> = {}) => {
    const policy = enginePolicy({ trace: t, ...system, startupDelaySeconds: 300, model: 'seasonal_naive', ...options });
    if (!policy.ok) throw new Error(policy.error.join('\n'));
    expect(policy.value.describe().forecastQuantile).toBe(options.forecastQuantile ?? defaultForecastQuantile);
    return simulate(t, policy.value, { ...system, startupDelaySeconds: 300 }).series!.provisioned;
  };

  it('never looks ahead: changing the trace after a moment changes no decision before it', () => {
    const cut = Math.floor(steps * 0.75);
    const changed = base.map((v, i) => (i >= cut ? v * 3 + (i % 5 === 0 ? 2000 : 0) : v));
    const a = provisioned(make(base));
    const b = provisioned(make(changed));
    const cutTick = (cut * 300) / 15;
    expect(Array.from(b.subarray(0, cutTick))).toEqual(Array.from(a.subarray(0, cutTick)));
    expect(Array.from(b.subarray(cutTick))).not.toEqual(Array.from(a.subarray(cutTick)));
  });

  it('keeps a burst reserve that follows the band: a wider band gives more reserve', () => {
    const t = make(base);
    const shared = predictiveForecasts(t, { model: 'seasonal_naive', maxHorizonSteps: predictiveHorizonSteps(300, 300) });
    // The same medians, the band scaled, the calibrated multiplier fixed at 1.
    const widened = (factor: number) => ({
      feed: {
        ...shared.feed,
        accuracy: (o: number) => shared.feed.accuracy(o),
        models: shared.feed.models,
        forecast: (o: number, h: number) => {
          const f = shared.feed.forecast(o, h);
          return f === undefined ? undefined : { value: f.value, p10: f.value - 20 * factor, p90: f.value + 20 * factor };
        },
      },
      calibration: { multiplier: () => 1 },
    });
    const total = (values: ArrayLike<number>) => Array.from(values).reduce((s, v) => s + v, 0);
    const narrow = total(provisioned(t, { shared: widened(1) }));
    const wide = total(provisioned(t, { shared: widened(4) }));
    expect(wide).toBeGreaterThan(narrow);
  });
});
