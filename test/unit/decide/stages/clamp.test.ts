import { describe, expect, it } from 'vitest';
import { clampToRange } from '../../../../src/decide/stages/clamp.js';
import { draft } from './helpers.js';

describe('clamp stage', () => {
  it.each([
    [1, 2, 'clamped_to_min'],
    [2, 2, undefined],
    [20, 20, undefined],
    [21, 20, 'clamped_to_max'],
    [0, 2, 'clamped_to_min'],
  ] as const)('%i in 2–20 gives %i', (replicas, expected, reason) => {
    const out = clampToRange(draft({ replicas }), { min: 2, max: 20 });
    expect(out.replicas).toBe(expected);
    expect(out.reasons.at(-1)).toBe(reason);
  });
});
