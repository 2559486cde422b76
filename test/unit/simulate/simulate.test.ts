import { describe, expect, it } from 'vitest';
import { type AutoscalingPolicy, arrivalsBetween, kedaPolicy, loadTraceFromRows, type Observation, oraclePolicy, simulate, type SimulationOptions } from '../../../src/simulate/index.js';

const rows = (valuesPerMinute: readonly number[]) =>
  loadTraceFromRows(
    Float64Array.from(valuesPerMinute, (_, i) => 1_700_000_000 + 60 * i),
    Float64Array.from(valuesPerMinute),
    60,
  );

const fixed = (replicas: (o: Observation) => number, periodSeconds = 15): AutoscalingPolicy => ({ name: 'fixed', periodSeconds, decide: replicas });

const options = (patch: Partial<SimulationOptions> = {}): SimulationOptions => ({
  capacityPerReplicaPerSecond: 1,
  startupDelaySeconds: 0,
  minReplicas: 1,
  maxReplicas: 50,
  sloWaitSeconds: 40,
  tickSeconds: 15,
  ...patch,
});

describe('load traces', () => {
  it('spread each row evenly over its step', () => {
    const trace = rows([600, 0, 120]);
    expect(arrivalsBetween(trace, trace.series.startMs, trace.series.startMs + 15_000)).toBeCloseTo(150, 9);
    expect(arrivalsBetween(trace, trace.series.startMs + 30_000, trace.series.startMs + 150_000)).toBeCloseTo(300 + 0 + 60, 9);
    expect(arrivalsBetween(trace, trace.series.startMs - 60_000, trace.endMs + 60_000)).toBe(720);
  });
});

describe('simulate (hand-computed runs)', () => {
  it('a backlog built by five replicas under ten replicas of load', () => {
    // One minute at 10 msg/s, then one minute of nothing; five replicas of 1 msg/s throughout.
    // Per 15 s tick: 150 arrive and 75 are served for 4 ticks (backlog 300), then 75 drain per tick.
    // Oldest wait at the end of ticks 0..7: 15, 15, 30, 30, 45, 45, 60, 0 s → over a 40 s SLO at ticks 4, 5, 6.
    const r = simulate(
      rows([600, 0]),
      fixed(() => 5),
      options({ initialReplicas: 5 }),
    );
    expect(r.ticks).toBe(8);
    expect(r.series!.oldestWaitSeconds).toEqual(Float64Array.from([15, 15, 30, 30, 45, 45, 60, 0]));
    expect(r.sloViolationPercent).toBeCloseTo(37.5, 12);
    expect(r.sloViolationMinutes).toBeCloseTo(0.75, 12);
    expect(Array.from(r.series!.demand)).toEqual([10, 10, 10, 10, 0, 0, 0, 0]);
    expect(r.elasticity.thetaUPercent).toBeCloseTo(25, 12);
    expect(r.elasticity.tauUPercent).toBeCloseTo(50, 12);
    expect(r.elasticity.thetaOPercent).toBeCloseTo(250, 12);
    expect(r.elasticity.tauOPercent).toBeCloseTo(50, 12);
    expect(r.elasticity.instabilityPercent).toBeCloseTo(100 / 7, 12);
    expect(r.elasticity.jitterPerHour).toBeCloseTo(-30, 12);
    expect(r.replicaMinutes).toBeCloseTo(10, 12);
    expect(r.maxQueueDepth).toBeCloseTo(300, 9);
    expect(r.arrivals).toBeCloseTo(600, 9);
    expect(r.served).toBeCloseTo(600, 9);
    expect(r.scalingActions.total).toBe(0);
  });

  it('replicas take the start-up delay to serve, and starting ones are paid for', () => {
    // 1 msg/s for 2 minutes, then 10 msg/s for 3; one replica per msg/s; start-up 60 s.
    // The oracle asks for 10 at t = 60 s (the tick at 120 s is in its look-ahead), ready at 120 s.
    const r = simulate(
      rows([60, 60, 600, 600, 600]),
      oraclePolicy({ trace: rows([60, 60, 600, 600, 600]), capacityPerReplicaPerSecond: 1, startupDelaySeconds: 60, tickSeconds: 15 }),
      options({ startupDelaySeconds: 60 }),
    );
    expect(Array.from(r.series!.provisioned.slice(0, 9))).toEqual([1, 1, 1, 1, 10, 10, 10, 10, 10]);
    expect(Array.from(r.series!.supply.slice(0, 9))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 10]);
    expect(r.elasticity.tauUPercent).toBe(0);
    expect(r.elasticity.tauOPercent).toBe(0);
    // Provisioned: 4 ticks × 1 + 16 ticks × 10, ready: 8 × 1 + 12 × 10, in 15 s ticks.
    expect(r.replicaMinutes).toBeCloseTo((4 + 160) / 4, 12);
    expect(r.readyReplicaMinutes).toBeCloseTo((8 + 120) / 4, 12);
    expect(r.demandReplicaMinutes).toBeCloseTo((8 + 120) / 4, 12);
    expect(r.scalingActions).toMatchObject({ up: 1, down: 0 });
  });

  it('a late scale-up is under-provisioned for the start-up delay', () => {
    const late = fixed((o) => (o.nowMs - o.history.startMs >= 120_000 ? 10 : 1));
    const r = simulate(rows([60, 60, 600, 600, 600]), late, options({ startupDelaySeconds: 60 }));
    // Demand 10 from tick 8; supply 10 from tick 12: four of twenty ticks short by 9 of 10.
    expect(r.elasticity.tauUPercent).toBeCloseTo(20, 12);
    expect(r.elasticity.thetaUPercent).toBeCloseTo((100 * 4 * 0.9) / 20, 12);
  });

  it('clamps what a policy asks to the range and stops starting replicas first', () => {
    const asks = [3, 100, 2];
    let call = 0;
    const r = simulate(
      rows([60, 60, 60]),
      fixed(() => asks[Math.min(call++, asks.length - 1)]!, 60),
      options({ startupDelaySeconds: 30, maxReplicas: 8, initialReplicas: 1 }),
    );
    expect(Array.from(r.series!.provisioned.filter((_, i) => i % 4 === 0))).toEqual([3, 8, 2]);
    // Asked at 0 s, 60 s and 120 s; new replicas serve 30 s later; the scale to 2 stops the newest first.
    expect(Array.from(r.series!.supply)).toEqual([1, 1, 3, 3, 3, 3, 8, 8, 2, 2, 2, 2]);
  });

  it('measures from scoreFromMs on, with the run itself unchanged', () => {
    const trace = rows([600, 600, 0, 0, 60, 60]);
    const policy = () => fixed((o) => (o.nowMs < trace.series.startMs + 120_000 ? 5 : 1));
    const whole = simulate(trace, policy(), options());
    const tail = simulate(trace, policy(), options({ scoreFromMs: trace.series.startMs + 120_000 }));
    expect(Array.from(tail.series!.supply)).toEqual(Array.from(whole.series!.supply));
    expect(tail.ticks).toBe(16);
    // Ticks 8..23: one replica; the 10/s minutes are outside, so no under-provisioning is measured.
    expect(whole.elasticity.tauUPercent).toBeGreaterThan(0);
    expect(tail.elasticity.tauUPercent).toBe(0);
    expect(tail.replicaMinutes).toBe(4);
    expect(whole.replicaMinutes).toBe(2 * 5 + 4);
  });

  it('gives policies observations of the past only', () => {
    const seen: Observation[] = [];
    simulate(
      rows([60, 120, 180]),
      fixed((o) => {
        seen.push(o);
        return 2;
      }, 60),
      options(),
    );
    expect(seen.map((o) => o.completedSteps)).toEqual([0, 1, 2]);
    expect(seen.map((o) => Number.isNaN(o.history.values[2]!))).toEqual([true, true, true]);
    // The observed rate is the last minute's arrivals.
    expect(seen.map((o) => o.arrivalRatePerSecond)).toEqual([0, 1, 2]);
  });
});

describe('KEDA polling', () => {
  it('reads the queue every 30 s and serves the cached value in between', () => {
    const keda = kedaPolicy({ minReplicas: 1, maxReplicas: 50, queueLengthPerReplica: 10 });
    const base = {
      arrivalRatePerSecond: 0,
      serviceRatePerSecond: 0,
      oldestWaitSeconds: 0,
      averageWaitSeconds: 0,
      readyReplicas: 1,
      provisionedReplicas: 1,
      history: rows([0]).series,
      completedSteps: 0,
    };
    expect(keda.decide({ ...base, nowMs: 0, queueDepth: 40 })).toBe(4);
    // 15 s later the queue holds 80, but KEDA still serves the 40 it polled: the HPA keeps 4.
    expect(keda.decide({ ...base, nowMs: 15_000, queueDepth: 80, provisionedReplicas: 4 })).toBe(4);
    expect(keda.decide({ ...base, nowMs: 30_000, queueDepth: 80, provisionedReplicas: 4 })).toBe(8);
  });

  const observe = { arrivalRatePerSecond: 0, serviceRatePerSecond: 0, oldestWaitSeconds: 0, averageWaitSeconds: 0, readyReplicas: 0, history: rows([0]).series, completedSteps: 0 };

  it('with minReplicaCount 0: activates from zero above the activation threshold, and scales to zero after the cooldown', () => {
    const keda = kedaPolicy({ minReplicas: 0, maxReplicas: 50, queueLengthPerReplica: 10, activationQueueLength: 5, cooldownPeriodSeconds: 300 });
    // At zero, a depth at the activation threshold is not active: the HPA is disabled, nothing moves.
    expect(keda.decide({ ...observe, nowMs: 0, queueDepth: 5, provisionedReplicas: 0 })).toBe(0);
    expect(keda.decide({ ...observe, nowMs: 15_000, queueDepth: 60, provisionedReplicas: 0 })).toBe(0); // cached 5 until the next poll
    // Active at the next poll: KEDA scales 0 → 1; then the HPA takes over (60 / 10 → 6, within its rate limit).
    expect(keda.decide({ ...observe, nowMs: 30_000, queueDepth: 60, provisionedReplicas: 0 })).toBe(1);
    expect(keda.decide({ ...observe, nowMs: 45_000, queueDepth: 60, provisionedReplicas: 1 })).toBe(5);
    // The queue empties: inactive from the poll at 60 s, but the last active poll was at 30 s, so
    // KEDA waits for the cooldown (300 s) before 1 → 0; meanwhile the HPA keeps at least 1.
    expect(keda.decide({ ...observe, nowMs: 60_000, queueDepth: 0, provisionedReplicas: 1 })).toBe(1);
    expect(keda.decide({ ...observe, nowMs: 330_000, queueDepth: 0, provisionedReplicas: 1 })).toBe(1);
    expect(keda.decide({ ...observe, nowMs: 360_000, queueDepth: 0, provisionedReplicas: 1 })).toBe(0);
    expect(keda.decide({ ...observe, nowMs: 375_000, queueDepth: 0, provisionedReplicas: 0 })).toBe(0);
  });

  it('with minReplicaCount ≥ 1 never scales to zero, and the HPA it creates keeps that minimum', () => {
    const keda = kedaPolicy({ minReplicas: 2, maxReplicas: 50, queueLengthPerReplica: 10 });
    expect(keda.decide({ ...observe, nowMs: 0, queueDepth: 0, provisionedReplicas: 1 })).toBe(2);
    expect(keda.decide({ ...observe, nowMs: 600_000, queueDepth: 0, provisionedReplicas: 2 })).toBe(2);
  });
});
