import { describe, expect, it } from 'vitest';
import { defaultReactiveGrid, hpaPolicy, kedaPolicy, loadTraceFromRows, reactiveSweep, simulate } from '../../../src/simulate/index.js';

/** A day at 1-minute steps with bursts, so that every configuration scales up and down. */
const minutes = 24 * 60;
const values = Float64Array.from({ length: minutes }, (_, i) => 600 + 400 * Math.sin((2 * Math.PI * i) / 360) + (i % 97 < 5 ? 1500 : 0));
const trace = loadTraceFromRows(
  Float64Array.from(values, (_, i) => 1_700_000_000 + 60 * i),
  values,
  60,
);
const capacity = 2;
const range = { minReplicas: 1, maxReplicas: 50 };
const system = { ...range, capacityPerReplicaPerSecond: capacity, startupDelaySeconds: 120, sloWaitSeconds: 60, tickSeconds: 15, keepSeries: false };

describe('the reactive sweep', () => {
  const sweep = reactiveSweep(capacity, range);

  it("covers the issue's grid: HPA on the rate at 50–90 %, HPA and KEDA on the queue at 5–120 s of work", () => {
    expect(sweep.filter((s) => s.family === 'hpa-rate').map((s) => s.parameters['targetUtilisation'])).toEqual([0.5, 0.6, 0.7, 0.8, 0.9]);
    for (const family of ['hpa-queue', 'keda-queue'] as const) {
      expect(sweep.filter((s) => s.family === family).map((s) => s.parameters['secondsOfWork'])).toEqual(defaultReactiveGrid.queueSeconds);
    }
    expect(new Set(sweep.map((s) => s.label)).size).toBe(sweep.length);
  });

  it('records every parameter, and each configuration is the tested emulation built from them', () => {
    for (const s of sweep) {
      const p = s.parameters;
      expect(p['tolerance']).toBe(0.1);
      expect(p['minReplicas']).toBe(1);
      expect(p['maxReplicas']).toBe(50);
      // Rebuild the emulation from the recorded parameters alone: the runs must be identical.
      const rebuilt =
        s.family === 'keda-queue'
          ? kedaPolicy({
              ...range,
              queueLengthPerReplica: p['queueLength'] as number,
              pollingIntervalSeconds: p['pollingIntervalSeconds'] as number,
              cooldownPeriodSeconds: p['cooldownPeriodSeconds'] as number,
            })
          : hpaPolicy({ ...range, metric: p['metric'] as 'queue_depth' | 'arrival_rate', targetPerReplica: p['targetAverageValue'] as number });
      const a = simulate(trace, s.make(), system);
      const b = simulate(trace, rebuilt, system);
      expect(a.replicaMinutes).toBe(b.replicaMinutes);
      expect(a.elasticity).toEqual(b.elasticity);
      expect(a.scalingActions.total).toBeGreaterThan(2);
      if (s.family === 'hpa-rate') expect(p['targetAverageValue']).toBeCloseTo((p['targetUtilisation'] as number) * capacity, 12);
      else expect(p['targetAverageValue'] ?? p['queueLength']).toBeCloseTo((p['secondsOfWork'] as number) * capacity, 12);
    }
  });

  it('is a cost/quality trade-off: a lower rate target costs more and is under-provisioned less', () => {
    const rate = sweep.filter((s) => s.family === 'hpa-rate').map((s) => simulate(trace, s.make(), system));
    expect(rate[0]!.replicaMinutes).toBeGreaterThan(rate[4]!.replicaMinutes);
    expect(rate[0]!.elasticity.tauUPercent).toBeLessThan(rate[4]!.elasticity.tauUPercent);
  });

  it('gives a fresh policy per run (policies keep state)', () => {
    const s = sweep.find((x) => x.family === 'keda-queue')!;
    expect(simulate(trace, s.make(), system).replicaMinutes).toBe(simulate(trace, s.make(), system).replicaMinutes);
  });
});
