import type { Recommendation } from '../state.js';
import { type Draft, moved } from './draft.js';

/**
 * The HPA's stabilization (kubernetes pkg/controller/podautoscaler/horizontal.go,
 * stabilizeRecommendationWithBehaviors): starting from the new recommendation `desired`, take the
 * lowest of it and the past recommendations younger than the scale-up window, and the highest of
 * it and those younger than the scale-down window; then move `current` up to the first at most,
 * and down to the second at most.
 */
export function stabilizedReplicas(
  current: number,
  desired: number,
  past: readonly Recommendation[],
  nowMs: number,
  windows: { readonly scaleUpSeconds: number; readonly scaleDownSeconds: number },
): number {
  let upRecommendation = desired;
  let downRecommendation = desired;
  for (const r of past) {
    const ageMs = nowMs - r.atMs;
    // "After(cutoff)" in the controller: a recommendation exactly a window old is out of it.
    if (ageMs < windows.scaleUpSeconds * 1000) upRecommendation = Math.min(upRecommendation, r.replicas);
    if (ageMs < windows.scaleDownSeconds * 1000) downRecommendation = Math.max(downRecommendation, r.replicas);
  }
  let replicas = current;
  if (replicas < upRecommendation) replicas = upRecommendation;
  if (replicas > downRecommendation) replicas = downRecommendation;
  return replicas;
}

/**
 * Stage 6a, stabilization windows: limits the draft by {@link stabilizedReplicas} over the past
 * raw recommendations, measured from the previous recommendation. Emergencies are not stabilized.
 */
export function stabilize(draft: Draft, proposed: number, past: readonly Recommendation[], nowMs: number, windows: { readonly scaleUpSeconds: number; readonly scaleDownSeconds: number }): Draft {
  if (draft.emergency || draft.replicas === draft.baseline) return draft;
  const stable = stabilizedReplicas(draft.baseline, proposed, past, nowMs, windows);
  if (draft.replicas > draft.baseline && stable < draft.replicas) return moved(draft, Math.max(draft.baseline, stable), 'stabilized_scale_up');
  if (draft.replicas < draft.baseline && stable > draft.replicas) return moved(draft, Math.min(draft.baseline, stable), 'stabilized_scale_down');
  return draft;
}
