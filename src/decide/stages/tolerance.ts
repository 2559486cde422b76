import { type Draft, held } from './draft.js';

/**
 * Stage 6b, tolerance (the HPA's 0.1): a change of at most `tolerance` × the previous recommendation is not
 * worth a rollout. Emergencies always go ahead.
 */
export function applyTolerance(draft: Draft, tolerance: number): Draft {
  if (draft.emergency || draft.replicas === draft.baseline || draft.baseline <= 0) return draft;
  return Math.abs(draft.replicas - draft.baseline) <= tolerance * draft.baseline ? held(draft, 'within_tolerance') : draft;
}
