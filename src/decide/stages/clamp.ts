import type { ReplicaRange } from '../policy.js';
import { type Draft, moved } from './draft.js';

/** Stage 8, clamps: the recommendation stays inside the resource's range. */
export function clampToRange(draft: Draft, range: ReplicaRange): Draft {
  if (draft.replicas < range.min) return moved(draft, range.min, 'clamped_to_min');
  if (draft.replicas > range.max) return moved(draft, range.max, 'clamped_to_max');
  return draft;
}
