import { describe, expect, it } from 'vitest';
import { applyTolerance } from '../../../../src/decide/stages/tolerance.js';
import { draft } from './helpers.js';

describe('tolerance stage (0.1)', () => {
  it.each([
    // [baseline, proposal, emergency, expected]
    [20, 22, false, 20],
    [20, 23, false, 23],
    [20, 18, false, 20],
    [20, 17, false, 17],
    [2, 3, false, 3],
    [10, 11, false, 10],
    [10, 11, true, 11],
    [0, 1, false, 1],
  ] as const)('baseline %i → %i (emergency %s) gives %i', (baseline, proposal, emergency, expected) => {
    const out = applyTolerance(draft({ baseline, current: baseline, replicas: proposal, emergency }), 0.1);
    expect(out.replicas).toBe(expected);
    expect(out.reasons.includes('within_tolerance')).toBe(expected !== proposal);
  });
});
