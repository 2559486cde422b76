import { describe, expect, it } from 'vitest';
import { isOscillating, type ScalingEvent } from '../../../../src/decide/index.js';
import { dampOscillation } from '../../../../src/decide/stages/oscillation.js';
import { draft, seconds } from './helpers.js';

const events = (spec: string, everySeconds = 120): ScalingEvent[] => [...spec].map((c, i) => ({ atMs: seconds(i * everySeconds), direction: c === 'u' ? 'up' : 'down' }));

describe('the alternating-pattern check', () => {
  it.each([
    ['udud', 600, true],
    ['dudu', 600, true],
    ['uudu', 600, false],
    ['udd', 600, false],
    ['udu', 600, false],
    ['uuudud', 1000, true],
    // Four alternating events, but the first is older than the 30-minute window.
    ['udud', 2000, false],
  ] as const)('%s seen at %is → %s', (spec, nowS, expected) => {
    expect(isOscillating(events(spec, nowS === 2000 ? 600 : 120), seconds(nowS), 1800, 4)).toBe(expected);
  });
});

describe('oscillation damping', () => {
  const alternating = events('udud');

  it.each([
    ['a reversal while oscillating is held', 6, false, 4, 'oscillation_damped'],
    ['continuing the last direction is allowed', 2, false, 2, undefined],
    ['an emergency reversal goes ahead', 8, true, 8, undefined],
  ] as const)('%s', (_what, proposal, emergency, expected, reason) => {
    const out = dampOscillation(draft({ baseline: 4, replicas: proposal, emergency }), alternating, seconds(600), 1800, 4);
    expect(out.replicas).toBe(expected);
    expect(out.reasons.at(-1)).toBe(reason);
  });

  it('does nothing without oscillation', () => {
    expect(dampOscillation(draft({ replicas: 6 }), events('uu'), seconds(300), 1800, 4).replicas).toBe(6);
  });
});
