import { describe, expect, it } from 'vitest';
import { applyReactiveFloor } from '../../../../src/decide/stages/reactive-floor.js';
import { draft } from './helpers.js';

describe('reactive floor', () => {
  it.each([
    // [proposal, observed need, enabled, expected]
    [4, 7, true, 7],
    [8, 7, true, 8],
    [4, Number.NaN, true, 4],
    [4, 7, false, 4],
  ] as const)('proposal %i with observed need %d (on: %s) gives %i', (replicas, observed, enabled, expected) => {
    const out = applyReactiveFloor(draft({ replicas, confidence: 0.4, demand: { observed, forecast: Number.NaN, forecastUpper: Number.NaN } }), enabled);
    expect(out.replicas).toBe(expected);
    expect(out.reasons.includes('reactive_floor')).toBe(expected !== replicas);
    // Raised to what is observed: nothing uncertain about it.
    if (expected !== replicas) expect(out.confidence).toBe(1);
  });
});
