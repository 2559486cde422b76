import type { Resource, Sample } from '../core/index.js';

/** A scaling event: the recommendation moved. */
export interface ScalingEvent {
  readonly atMs: number;
  readonly direction: 'up' | 'down';
}

/** A raw recommendation, kept for the stabilization windows. */
export interface Recommendation {
  readonly atMs: number;
  readonly replicas: number;
}

/** What decide() remembers about one resource between cycles. */
export interface ResourceMemory {
  /** The last recommendation published. */
  readonly lastRecommended: number | undefined;
  readonly lastScaleUpMs: number | undefined;
  readonly lastScaleDownMs: number | undefined;
  readonly lastEmergencyMs: number | undefined;
  /** Raw proposals within the longest stabilization window, oldest first. */
  readonly recommendations: readonly Recommendation[];
  /** The latest scaling events (as many as the oscillation check needs), oldest first. */
  readonly events: readonly ScalingEvent[];
  /** When each rule last caused a scaling event, by rule name. */
  readonly ruleActionsMs: ReadonlyMap<string, number>;
}

/**
 * Everything decide() carries from one cycle to the next. Immutable: decide returns a new state
 * and never changes the one it was given, so the engine can keep or drop it at will (and a test
 * can replay a cycle).
 */
export interface DecisionState {
  readonly resources: ReadonlyMap<Resource, ResourceMemory>;
  /** The latest queue depth measurements per queue, oldest first (for the trend). */
  readonly queueDepths: ReadonlyMap<string, readonly Sample[]>;
  /** The same, summed over the queues of each resource. */
  readonly resourceDepths: ReadonlyMap<Resource, readonly Sample[]>;
}

/** The state before the first cycle. */
export const initialDecisionState: DecisionState = Object.freeze({
  resources: new Map<Resource, ResourceMemory>(),
  queueDepths: new Map<string, readonly Sample[]>(),
  resourceDepths: new Map<Resource, readonly Sample[]>(),
});

/** A resource that has not decided yet. */
export const emptyResourceMemory: ResourceMemory = Object.freeze({
  lastRecommended: undefined,
  lastScaleUpMs: undefined,
  lastScaleDownMs: undefined,
  lastEmergencyMs: undefined,
  recommendations: [],
  events: [],
  ruleActionsMs: new Map<string, number>(),
});
