import type { ImplausibleReason } from '../core/index.js';
import type { ForecastRejection } from '../forecast/index.js';
import type { SourceProblemReason } from '../source/index.js';
import type { AnomalyState, ResourceDecision } from './snapshot.js';

/**
 * The events the engine emits, so that it can be observed without importing prom-client.
 * Implemented in publish/ on top of the metric catalog; a no-op in tests that don't care.
 */
export interface Recorder {
  /** A cycle finished; `outcome` says whether it produced a snapshot. */
  cycleFinished(outcome: 'success' | 'failure', durationSeconds: number): void;
  /** An input produced no usable value in a cycle (counted, then skipped). */
  sourceProblem(reason: SourceProblemReason): void;
  /** Samples of an input were refused before they reached the history (outside its domain, implausible jump). */
  sourceRejected?(inputKey: string, reason: ImplausibleReason, count: number): void;
  /** A model's forecast was replaced by the fallback (forecast sanity). */
  forecastRejected?(seriesKey: string, reason: ForecastRejection): void;
  /** A model was (re)fitted for a series. */
  modelFitted(seriesKey: string, model: string, durationSeconds: number): void;
  /** The decision stage ran; `decisions` holds one decision per resource. */
  decided(decisions: readonly ResourceDecision[], durationSeconds: number): void;
  /** Anomaly detection ran; only verdicts with `isAnomaly` count as detections. */
  anomaliesScored(anomalies: readonly AnomalyState[]): void;
}
