import { describe, expect, it } from 'vitest';
import { applyCooldowns } from '../../../../src/decide/stages/cooldown.js';
import { draft, memory, policy, seconds, t0 } from './helpers.js';

// Defaults: scale-up 180 s, scale-down 600 s after any scaling, emergency 60 s.
const p = policy();

describe('cooldown stage', () => {
  it.each([
    // [what, proposal, emergency, memory, now (s after t0), expected replicas, expected reason]
    ['first scale-up', 6, false, {}, 0, 6, undefined],
    ['scale-up 179 s after a scale-up', 6, false, { lastScaleUpMs: t0 }, 179, 4, 'cooldown_scale_up'],
    ['scale-up 180 s after a scale-up', 6, false, { lastScaleUpMs: t0 }, 180, 6, undefined],
    ['scale-up right after a scale-down', 6, false, { lastScaleDownMs: t0 }, 1, 6, undefined],
    ['emergency inside the scale-up cooldown', 8, true, { lastScaleUpMs: t0 }, 30, 8, 'emergency_bypassed_cooldown'],
    ['emergency 59 s after an emergency', 8, true, { lastScaleUpMs: t0, lastEmergencyMs: t0 }, 59, 4, 'cooldown_emergency'],
    ['emergency 60 s after an emergency', 8, true, { lastScaleUpMs: t0, lastEmergencyMs: t0 }, 60, 8, 'emergency_bypassed_cooldown'],
    ['scale-down 599 s after a scale-up', 2, false, { lastScaleUpMs: t0 }, 599, 4, 'cooldown_scale_down'],
    ['scale-down 599 s after a scale-down', 2, false, { lastScaleDownMs: t0 }, 599, 4, 'cooldown_scale_down'],
    ['scale-down 600 s after any scaling', 2, false, { lastScaleUpMs: t0 - 100_000, lastScaleDownMs: t0 }, 600, 2, undefined],
    ['first scale-down', 2, false, {}, 0, 2, undefined],
    ['no change', 4, false, { lastScaleUpMs: t0 }, 1, 4, undefined],
  ] as const)('%s', (_what, proposal, emergency, mem, nowS, expected, reason) => {
    const out = applyCooldowns(draft({ replicas: proposal, emergency }), memory(mem), p, seconds(nowS));
    expect(out.replicas).toBe(expected);
    expect(out.reasons.at(-1)).toBe(reason);
  });

  it('holds at the previous recommendation, not at lagging current replicas', () => {
    const out = applyCooldowns(draft({ current: 3, baseline: 6, replicas: 8 }), memory({ lastScaleUpMs: t0 }), p, seconds(10));
    expect(out.replicas).toBe(6);
  });

  it('uses the configured cooldowns', () => {
    const short = policy({ cooldowns: { scaleUpSeconds: 10, scaleDownSeconds: 20, emergencySeconds: 5 } });
    expect(applyCooldowns(draft({ replicas: 6 }), memory({ lastScaleUpMs: t0 }), short, seconds(10)).replicas).toBe(6);
    expect(applyCooldowns(draft({ replicas: 2 }), memory({ lastScaleUpMs: t0 }), short, seconds(19)).replicas).toBe(4);
    expect(applyCooldowns(draft({ replicas: 2 }), memory({ lastScaleUpMs: t0 }), short, seconds(20)).replicas).toBe(2);
  });
});
