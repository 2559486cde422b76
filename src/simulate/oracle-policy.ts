import { arrivalsBetween, type LoadTrace } from './trace.js';
import type { AutoscalingPolicy, Observation } from './policy.js';

/** How the oracle is set up. */
export interface OraclePolicyOptions {
  readonly trace: LoadTrace;
  readonly capacityPerReplicaPerSecond: number;
  readonly startupDelaySeconds: number;
  /** The simulator's tick, seconds (the oracle acts every tick). */
  readonly tickSeconds: number;
}

/**
 * The oracle: knows the future demand, and keeps provisioned the most any tick needs from now
 * until a replica started now would be ready, so supply is ready exactly when demand arrives and
 * is released as soon as no upcoming tick needs it. The lower bound of cost at zero shortage.
 */
export function oraclePolicy(options: OraclePolicyOptions): AutoscalingPolicy {
  const { trace, capacityPerReplicaPerSecond: capacity, startupDelaySeconds, tickSeconds } = options;
  const tickMs = tickSeconds * 1000;
  const lookaheadTicks = Math.ceil(startupDelaySeconds / tickSeconds);
  return {
    name: 'oracle',
    periodSeconds: tickSeconds,
    decide: (o: Observation) => {
      let need = 0;
      for (let k = 0; k <= lookaheadTicks; k++) {
        const fromMs = o.nowMs + k * tickMs;
        need = Math.max(need, demandReplicas(arrivalsBetween(trace, fromMs, fromMs + tickMs) / tickSeconds, capacity));
      }
      return need;
    },
  };
}

/** d_t: replicas the arrival rate needs, ceil(rate / capacity), forgiving floating-point noise. */
export function demandReplicas(ratePerSecond: number, capacityPerReplicaPerSecond: number): number {
  return Math.max(0, Math.ceil(ratePerSecond / capacityPerReplicaPerSecond - 1e-9));
}
