import type { RegularSeries } from '../core/index.js';
import type { FittedForecaster } from './forecaster.js';

/** Why a learned model is (re)trained now, or why not. */
export type RetrainReason = 'no_model' | 'interval_elapsed' | 'accuracy_below_threshold' | 'not_due' | 'training_in_progress';

/** What {@link retrainDecision} looks at. */
export interface RetrainInputs {
  readonly nowMs: number;
  /** When the serving model was trained (undefined: there is none, or it failed to load). */
  readonly trainedAtMs: number | undefined;
  /** scaling.modelRetrainInterval. */
  readonly retrainIntervalSeconds: number;
  /** Matured-forecast accuracy of the serving model (accuracy.ts predictionAccuracyPercent); undefined until enough forecasts matured. */
  readonly accuracyPercent: number | undefined;
  /** Retrain below this accuracy (percent). */
  readonly accuracyThresholdPercent: number;
  /** When the last retraining for accuracy started: accuracy retrains are spaced by `minRetrainGapSeconds`. */
  readonly lastAccuracyRetrainAtMs?: number;
  /** Least time between two accuracy-triggered retrains (default: a tenth of the interval). */
  readonly minRetrainGapSeconds?: number;
  readonly trainingInProgress: boolean;
}

/** Whether to start training now, and the reason code (logged and shown by /scaling/ml/accuracy). */
export interface RetrainDecision {
  readonly retrain: boolean;
  readonly reason: RetrainReason;
}

/**
 * The retraining rule of the lifecycle: train when there is no model, when the retrain interval
 * has elapsed since the serving model was trained, or when its matured-forecast accuracy fell
 * under the threshold (at most once per `minRetrainGapSeconds`, so a model that stays bad on
 * unforecastable data does not retrain in a loop). Never while a training runs. Pure.
 */
export function retrainDecision(inputs: RetrainInputs): RetrainDecision {
  if (inputs.trainingInProgress) return { retrain: false, reason: 'training_in_progress' };
  if (inputs.trainedAtMs === undefined) return { retrain: true, reason: 'no_model' };
  if (inputs.nowMs - inputs.trainedAtMs >= inputs.retrainIntervalSeconds * 1000) return { retrain: true, reason: 'interval_elapsed' };
  const gapMs = (inputs.minRetrainGapSeconds ?? inputs.retrainIntervalSeconds / 10) * 1000;
  const lastRetrain = Math.max(inputs.trainedAtMs, inputs.lastAccuracyRetrainAtMs ?? Number.NEGATIVE_INFINITY);
  if (inputs.accuracyPercent !== undefined && inputs.accuracyPercent < inputs.accuracyThresholdPercent && inputs.nowMs - lastRetrain >= gapMs) {
    return { retrain: true, reason: 'accuracy_below_threshold' };
  }
  return { retrain: false, reason: 'not_due' };
}

/** The outcome of a shadow evaluation. */
export interface ShadowResult {
  /** True when the candidate should replace the current model. */
  readonly deploy: boolean;
  readonly reason: 'no_current_model' | 'candidate_better' | 'current_better_or_equal' | 'candidate_cannot_forecast' | 'nothing_to_score';
  /** MAE of each on the held-out window (NaN when it could not be scored). */
  readonly candidateMae: number;
  readonly currentMae: number;
  /** Origins scored (both models forecast, actual known). */
  readonly points: number;
}

/**
 * Shadow evaluation: both models forecast every origin of the held-out window
 * (`fromOrigin`..end, targets inside the series) from the same history, and the candidate is
 * deployed only if its MAE is lower by more than `minImprovement` (a ratio, default 0). The window
 * must be data the candidate was not trained on (the LSTM's own held-out tail). Pure.
 */
export function shadowEvaluate(current: FittedForecaster | undefined, candidate: FittedForecaster, series: RegularSeries, fromOrigin: number, minImprovement = 0): ShadowResult {
  const h = candidate.spec.horizonSteps;
  const values = series.values;
  const candidateEach = candidate.forecastEachOrigin(series).value;
  const currentEach = current?.forecastEachOrigin(series).value;
  let candidateSum = 0;
  let currentSum = 0;
  let points = 0;
  let candidatePoints = 0;
  for (let t = Math.max(0, fromOrigin); t + h < values.length; t++) {
    const actual = values[t + h]!;
    const c = candidateEach[t]!;
    if (!Number.isFinite(actual) || !Number.isFinite(c)) continue;
    candidatePoints++;
    if (currentEach === undefined) {
      candidateSum += Math.abs(actual - c);
      points++;
      continue;
    }
    const k = currentEach[t]!;
    if (!Number.isFinite(k)) continue;
    candidateSum += Math.abs(actual - c);
    currentSum += Math.abs(actual - k);
    points++;
  }
  const candidateMae = points > 0 ? candidateSum / points : Number.NaN;
  const currentMae = currentEach !== undefined && points > 0 ? currentSum / points : Number.NaN;
  if (candidatePoints === 0) return { deploy: false, reason: 'candidate_cannot_forecast', candidateMae, currentMae, points };
  if (current === undefined) return { deploy: true, reason: 'no_current_model', candidateMae, currentMae, points };
  if (points === 0) return { deploy: false, reason: 'nothing_to_score', candidateMae, currentMae, points };
  return candidateMae < currentMae * (1 - minImprovement)
    ? { deploy: true, reason: 'candidate_better', candidateMae, currentMae, points }
    : { deploy: false, reason: 'current_better_or_equal', candidateMae, currentMae, points };
}
