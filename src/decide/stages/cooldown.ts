import type { DecisionPolicy } from '../policy.js';
import type { ResourceMemory } from '../state.js';
import { type Draft, held } from './draft.js';

const within = (lastMs: number | undefined, nowMs: number, seconds: number): boolean => lastMs !== undefined && nowMs - lastMs < seconds * 1000;

/**
 * Stage 5, cooldowns. A scale-up waits `scaleUpSeconds` after the last scale-up; an emergency
 * scale-up waits only `emergencySeconds` after the last emergency (and says when it jumped the
 * normal cooldown); a scale-down waits `scaleDownSeconds` after any scaling event. A held change
 * stays at the previous recommendation.
 */
export function applyCooldowns(draft: Draft, memory: ResourceMemory, policy: DecisionPolicy, nowMs: number): Draft {
  const { cooldowns } = policy;
  if (draft.replicas > draft.baseline) {
    if (draft.emergency) {
      if (within(memory.lastEmergencyMs, nowMs, cooldowns.emergencySeconds)) return held(draft, 'cooldown_emergency');
      if (within(memory.lastScaleUpMs, nowMs, cooldowns.scaleUpSeconds)) return { ...draft, reasons: [...draft.reasons, 'emergency_bypassed_cooldown'] };
      return draft;
    }
    return within(memory.lastScaleUpMs, nowMs, cooldowns.scaleUpSeconds) ? held(draft, 'cooldown_scale_up') : draft;
  }
  if (draft.replicas < draft.baseline) {
    const lastAny = Math.max(memory.lastScaleUpMs ?? Number.NEGATIVE_INFINITY, memory.lastScaleDownMs ?? Number.NEGATIVE_INFINITY);
    return within(Number.isFinite(lastAny) ? lastAny : undefined, nowMs, cooldowns.scaleDownSeconds) ? held(draft, 'cooldown_scale_down') : draft;
  }
  return draft;
}
