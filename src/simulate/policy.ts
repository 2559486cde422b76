import type { RegularSeries } from '../core/index.js';

/** What an autoscaler can see at a control instant: observations up to `nowMs`, never later. */
export interface Observation {
  readonly nowMs: number;
  /** Messages waiting. */
  readonly queueDepth: number;
  /** Arrivals per second over the last minute (what `rate(...[1m])` would show). */
  readonly arrivalRatePerSecond: number;
  /** Messages served per second over the last minute. */
  readonly serviceRatePerSecond: number;
  /** Age of the oldest waiting message, seconds. */
  readonly oldestWaitSeconds: number;
  /** Average age of the waiting messages, seconds. */
  readonly averageWaitSeconds: number;
  /** Replicas serving now. */
  readonly readyReplicas: number;
  /** Replicas asked for (ready + starting): the Deployment's spec.replicas. */
  readonly provisionedReplicas: number;
  /**
   * The trace's arrivals per step, for the steps that have completed by `nowMs` (later steps are
   * NaN): the history a forecaster may use. Shared between calls; do not modify.
   */
  readonly history: RegularSeries;
  /** Number of completed steps in `history`. */
  readonly completedSteps: number;
}

/** An autoscaling policy under simulation. */
export interface AutoscalingPolicy {
  /** Its name in reports. */
  readonly name: string;
  /** How often it is asked, seconds (HPA: 15, Foresight: 30). */
  readonly periodSeconds: number;
  /** The replicas it wants provisioned now (the simulator clamps to the range). */
  decide(observation: Observation): number;
}
