import { type Draft, moved } from './draft.js';

/**
 * Stage 7, reactive floor: never recommend less than the observed load needs now, whatever the
 * rules, the forecast, the cooldowns or the damping said (what every production predictive
 * scaler keeps beside its model).
 */
export function applyReactiveFloor(draft: Draft, enabled: boolean): Draft {
  const need = draft.demand.observed;
  if (!enabled || !Number.isFinite(need) || draft.replicas >= need) return draft;
  return moved(draft, need, 'reactive_floor', { confidence: 1 });
}
