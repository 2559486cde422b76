import type { Resource } from '../core/index.js';
import type { ReasonCode } from './reasons.js';
import type { QueueTrend } from './trend.js';

/** Direction of a decision, relative to the observed current replicas. */
export type DecisionDirection = 'up' | 'down' | 'hold';

/** What the load needs, in replicas (rounded up), as the decision saw it; NaN where unknown. */
export interface DemandView {
  readonly observed: number;
  /** At the quantile scale-ups use (the 90th percentile when configured, else the median). */
  readonly forecast: number;
  /** At the 90th percentile: what a scale-down must respect. */
  readonly forecastUpper: number;
}

/**
 * The recommendation for one resource. Structurally a superset of the engine's `ResourceDecision`
 * (src/engine/snapshot.ts), so the engine can publish it as is; the extra fields explain it.
 */
export interface Decision {
  readonly resource: Resource;
  /** Observed replicas (pool size for db_connections); null when not known. */
  readonly currentReplicas: number | null;
  /** The recommendation after rules, cooldowns, damping, floor and clamps. */
  readonly recommendedReplicas: number;
  readonly direction: DecisionDirection;
  /** In the order the stages added them. */
  readonly reasons: readonly ReasonCode[];
  /** 0–1: 1 for decisions on observed inputs, the forecast's confidence for decisions on forecasts, 0 with no inputs. */
  readonly confidence: number;
  /** The rule that won, if one fired. */
  readonly rule?: string;
  /** True when the winning rule is an emergency rule. */
  readonly emergency?: boolean;
  /**
   * What changes are measured against: the previous recommendation (the current replicas on a
   * resource's first cycle); null when neither is known.
   */
  readonly baselineReplicas: number | null;
  /** True when the recommendation differs from the baseline: a scaling event (count these, not non-hold directions). */
  readonly changed: boolean;
  /** What the rules alone proposed, before cooldowns and damping. */
  readonly proposedReplicas: number;
  readonly demand: DemandView;
  /** The trend of the resource's queues (summed), when it has queues. */
  readonly queueTrend?: QueueTrend;
}
