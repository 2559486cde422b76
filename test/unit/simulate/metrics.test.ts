import { describe, expect, it } from 'vitest';
import { elasticityMetrics } from '../../../src/simulate/index.js';

describe('SPEC elasticity metrics (hand-computed)', () => {
  it('five one-minute steps', () => {
    // d: 2 2 3 3 1, s: 2 1 1 3 2.
    // under at t1 (1/2) and t2 (2/3); over at t4 (1/1).
    // Δs signs: − 0 + −; Δd signs: 0 + 0 −: they differ at 3 of 4 steps.
    // E_S = 3, E_D = 2, T = 5 min = 1/12 h.
    const m = elasticityMetrics([2, 2, 3, 3, 1], [2, 1, 1, 3, 2], 60);
    expect(m.thetaUPercent).toBeCloseTo((100 * (1 / 2 + 2 / 3)) / 5, 12);
    expect(m.thetaOPercent).toBeCloseTo(20, 12);
    expect(m.tauUPercent).toBeCloseTo(40, 12);
    expect(m.tauOPercent).toBeCloseTo(20, 12);
    expect(m.instabilityPercent).toBeCloseTo(75, 12);
    expect(m.supplyChanges).toBe(3);
    expect(m.demandChanges).toBe(2);
    expect(m.jitterPerHour).toBeCloseTo(12, 12);
  });

  it('a perfect supply scores zero everywhere', () => {
    const d = [1, 3, 3, 2, 5];
    const m = elasticityMetrics(d, d, 15);
    expect([m.thetaUPercent, m.thetaOPercent, m.tauUPercent, m.tauOPercent, m.instabilityPercent, m.jitterPerHour]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('divides by one replica where demand is zero', () => {
    const m = elasticityMetrics([0, 0], [2, 0], 60);
    expect(m.thetaOPercent).toBeCloseTo(100, 12);
    expect(m.thetaUPercent).toBe(0);
    expect(m.tauOPercent).toBe(50);
  });

  it('is sluggish (negative jitter) when supply ignores demand changes', () => {
    const m = elasticityMetrics([1, 2, 1, 2], [2, 2, 2, 2], 900);
    expect(m.jitterPerHour).toBeCloseTo(-3, 12);
    expect(m.instabilityPercent).toBeCloseTo(100, 12);
  });
});
