import type { DecisionPolicy } from '../policy.js';
import { type Draft, held } from './draft.js';

/**
 * Stage 5b, anomaly guard: while a critical anomaly is active the inputs cannot be trusted to
 * say that load has gone, so a scale-down is held. Scale-ups go ahead.
 */
export function guardAnomalies(draft: Draft, criticalAnomalies: number, policy: DecisionPolicy): Draft {
  if (!policy.holdScaleDownOnCriticalAnomaly || draft.replicas >= draft.baseline || !(criticalAnomalies > 0)) return draft;
  return held(draft, 'anomaly_hold');
}
