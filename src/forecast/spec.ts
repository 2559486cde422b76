import type { SeriesValues } from '../core/index.js';
import type { FitFailure, ForecastSpec } from './forecaster.js';

/** Seconds in a day: the default season of every model (workloads follow the working day). */
export const secondsPerDay = 86_400;

/**
 * The length of a daily season in grid steps. For steps that do not divide a day (7 min) this is
 * the nearest whole number of steps, so the season drifts by less than half a step per day.
 */
export function seasonStepsFor(stepSeconds: number, seasonSeconds: number = secondsPerDay): number {
  if (!(stepSeconds > 0)) return 1;
  return Math.max(1, Math.round(seasonSeconds / stepSeconds));
}

/** A horizon turned into grid steps, with what it became. */
export interface HorizonSteps {
  /** Whole steps ahead, at least 1. */
  readonly steps: number;
  /** The horizon actually forecast, `steps * stepSeconds`. */
  readonly effectiveSeconds: number;
  /** False when the requested horizon was not a whole number of steps and was rounded. */
  readonly exact: boolean;
}

/**
 * Rounds a horizon to the nearest whole number of grid steps (at least one step), because every
 * model forecasts grid points, not arbitrary instants.
 */
export function horizonStepsFor(horizonSeconds: number, stepSeconds: number): HorizonSteps {
  const steps = Math.max(1, Math.round(horizonSeconds / stepSeconds));
  const effectiveSeconds = steps * stepSeconds;
  return { steps, effectiveSeconds, exact: Math.abs(effectiveSeconds - horizonSeconds) < 1e-9 };
}

/** Why a spec cannot be fitted, or undefined when it is sound. */
export function specProblem(spec: ForecastSpec): FitFailure | undefined {
  const positiveInteger = (n: number): boolean => Number.isInteger(n) && n >= 1;
  if (!(spec.stepSeconds > 0) || !Number.isFinite(spec.stepSeconds)) {
    return { reason: 'invalid_spec', message: `stepSeconds must be a positive number, got ${spec.stepSeconds}` };
  }
  if (!positiveInteger(spec.horizonSteps)) {
    return { reason: 'invalid_spec', message: `horizonSteps must be a whole number >= 1, got ${spec.horizonSteps}` };
  }
  if (!positiveInteger(spec.seasonSteps)) {
    return { reason: 'invalid_spec', message: `seasonSteps must be a whole number >= 1, got ${spec.seasonSteps}` };
  }
  return undefined;
}

/** Index of the first finite value, or -1 when there is none. */
export function firstFiniteIndex(values: SeriesValues): number {
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) return i;
  return -1;
}

/** Number of finite values. */
export function countFinite(values: SeriesValues): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) count++;
  return count;
}

/**
 * The common fit preconditions: a sound spec, at least one finite value, and at least
 * `minLength` grid points (what the model needs, named in `need` for the message).
 */
export function fitPrecondition(model: string, values: SeriesValues, spec: ForecastSpec, minLength: number, need: string): FitFailure | undefined {
  const bad = specProblem(spec);
  if (bad !== undefined) return bad;
  if (countFinite(values) === 0) return { reason: 'no_data', message: `${model}: the training series has no finite value` };
  if (values.length < minLength) {
    return {
      reason: 'insufficient_history',
      message: `${model} needs ${need} (${minLength} points at a ${spec.stepSeconds}s step), got ${values.length}`,
    };
  }
  return undefined;
}
