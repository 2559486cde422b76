import type { Resource } from '../../core/index.js';
import type { DemandView } from '../decision.js';
import type { ReasonCode } from '../reasons.js';
import type { ScalingRule } from '../rules.js';

/** A decision while the stages work on it. Each stage returns a new draft. */
export interface Draft {
  readonly resource: Resource;
  /** The observed current replicas: what rule factors multiply. */
  readonly current: number;
  /**
   * The previous recommendation (the current replicas on the first cycle): what "hold" keeps and
   * what up, down, cooldowns and tolerance are measured against, so that a recommendation the
   * cluster has not caught up with yet is not mistaken for a change.
   */
  readonly baseline: number;
  /** The recommendation so far. */
  readonly replicas: number;
  readonly reasons: readonly ReasonCode[];
  readonly rule: ScalingRule | undefined;
  readonly emergency: boolean;
  readonly confidence: number;
  readonly demand: DemandView;
}

/** The draft with `replicas` set and `reason` appended. */
export function moved(draft: Draft, replicas: number, reason: ReasonCode, patch: Partial<Draft> = {}): Draft {
  return { ...draft, ...patch, replicas, reasons: [...draft.reasons, reason] };
}

/** The draft held at its baseline (the previous recommendation), with the reason. */
export function held(draft: Draft, reason: ReasonCode): Draft {
  return moved(draft, draft.baseline, reason);
}

/** Rounds a replica need up, forgiving floating-point noise (3.0000000001 needs 3, not 4). */
export function replicasFor(need: number): number {
  return Number.isFinite(need) ? Math.max(0, Math.ceil(need - 1e-9)) : Number.NaN;
}
