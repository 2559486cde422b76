import { describe, expect, it } from 'vitest';
import { externalAverageValueReplicas, HpaController, scaleDownLimit, scaleUpLimit, defaultHpaBehavior } from '../../../src/simulate/index.js';

describe('HPA replica calculator (External, AverageValue)', () => {
  it.each([
    // [usage, target per replica, status replicas, expected]
    [100, 10, 10, 10],
    [109, 10, 10, 10],
    // |1 − 1.1| is 0.10000000000000009 in float64, above the tolerance: the controller (Go) scales too.
    [110, 10, 10, 11],
    [105, 10, 10, 10],
    [111, 10, 10, 12],
    [91, 10, 10, 10],
    [89, 10, 10, 9],
    [0, 10, 10, 0],
    [35, 10, 0, 4],
    [0.1234, 0.01, 1, 13],
  ])('usage %d, target %d, %i replicas → %i', (usage, target, replicas, expected) => {
    expect(externalAverageValueReplicas(usage, target, replicas, 0.1)).toBe(expected);
  });
});

describe('HPA behavior rate limits (defaults)', () => {
  const t = 1_000_000;
  it.each([
    // [current, ups in the period, expected up limit]: max(4 pods, 100 %) per 15 s from the period start.
    [2, [], 6],
    [10, [], 20],
    [6, [{ atMs: t - 5_000, change: 4 }], 6],
    [6, [{ atMs: t - 15_000, change: 4 }], 12],
  ] as const)('up from %i', (current, ups, expected) => {
    expect(scaleUpLimit(current, ups, [], defaultHpaBehavior.scaleUp, t)).toBe(expected);
  });

  it('allows scaling down to zero in one period (100 % per 15 s), from the period start', () => {
    expect(scaleDownLimit(10, [], [], defaultHpaBehavior.scaleDown, t)).toBe(0);
    expect(scaleDownLimit(5, [], [{ atMs: t - 1000, change: 5 }], defaultHpaBehavior.scaleDown, t)).toBe(0);
  });
});

describe('HPA controller', () => {
  const sync = 15_000;

  it('scales up at most max(4 pods, 100 %) per 15 s', () => {
    const hpa = new HpaController({ minReplicas: 1, maxReplicas: 100 });
    let replicas = 2;
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      replicas = hpa.reconcile(replicas, 400, 10, i * sync);
      seen.push(replicas);
    }
    expect(seen).toEqual([6, 12, 24, 40]);
  });

  it('scales down only after the 5-minute stabilization window', () => {
    const hpa = new HpaController({ minReplicas: 1, maxReplicas: 100 });
    let replicas = hpa.reconcile(10, 100, 10, 0);
    expect(replicas).toBe(10);
    const seen: number[] = [];
    for (let i = 1; i <= 21; i++) {
      replicas = hpa.reconcile(replicas, 20, 10, i * sync);
      seen.push(replicas);
    }
    // The recommendation of 10 at t = 0 is in the window until t = 300 s (i = 20) exclusive.
    expect(seen.slice(0, 19)).toEqual(Array(19).fill(10));
    expect(seen[19]).toBe(2);
    expect(seen[20]).toBe(2);
  });

  it('holds inside the tolerance and clamps to the range', () => {
    const hpa = new HpaController({ minReplicas: 2, maxReplicas: 5 });
    expect(hpa.reconcile(4, 43, 10, 0)).toBe(4);
    expect(hpa.reconcile(4, 200, 10, sync)).toBe(5);
    expect(hpa.reconcile(1, 0, 10, 2 * sync)).toBe(2);
    expect(hpa.reconcile(9, 0, 10, 3 * sync)).toBe(5);
  });
});
