import { err, ok } from '../core/index.js';
import type { RegularSeries, Result } from '../core/index.js';
import { lagFeatureCount, lagFeatureMatrix, lagFeatureRow, lagTrainingOrigins } from './features/index.js';
import type { LagFeatureGrid } from './features/index.js';
import type { EachOriginForecasts, FitFailure, FittedForecaster, ForecastSpec, PointForecast } from './forecaster.js';
import { residualQuantiles } from './residual-bands.js';
import type { ResidualQuantiles } from './residual-bands.js';
import { fitPrecondition } from './spec.js';

/**
 * A fitted direct h-step model on lag features: given the feature row of an origin (relative to
 * the level there), it predicts the change y(t + h) − level(t).
 */
export type ChangePredictor = (row: Float64Array) => number;

/** The training set of a direct model: feature rows and target changes of the chosen origins. */
export interface DirectTrainingSet {
  /** Row-major feature rows of the chosen origins ({@link lagFeatureCount} per row). */
  readonly rows: Float64Array;
  /** Target change of each row. */
  readonly targets: Float64Array;
  /** The origins, in time order. */
  readonly origins: Int32Array;
}

/** The grid a spec and a series give the lag features. */
export function lagGridOf(series: RegularSeries, spec: ForecastSpec): LagFeatureGrid {
  return { startMs: series.startMs, stepSeconds: series.stepSeconds, horizonSteps: spec.horizonSteps, seasonSteps: spec.seasonSteps };
}

/**
 * The training set of a direct model on `train`: every origin whose target lies inside `train`,
 * thinned to at most `maxRows` by an even stride (deterministic; neighbouring origins carry
 * nearly the same information, so thinning costs little accuracy and bounds the fit time).
 */
export function directTrainingSet(train: RegularSeries, spec: ForecastSpec, maxRows: number): DirectTrainingSet {
  const { rows: all, levels } = lagFeatureMatrix(train.values, lagGridOf(train, spec));
  const every = lagTrainingOrigins(train.values, levels, spec.horizonSteps, train.values.length - 1 - spec.horizonSteps);
  const stride = Math.max(1, Math.ceil(every.length / maxRows));
  const count = Math.ceil(every.length / stride);
  const origins = new Int32Array(count);
  const rows = new Float64Array(count * lagFeatureCount);
  const targets = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    // Anchor the stride at the end so that the most recent origin is always used.
    const t = every[every.length - 1 - (count - 1 - k) * stride]!;
    origins[k] = t;
    rows.set(all.subarray(t * lagFeatureCount, (t + 1) * lagFeatureCount), k * lagFeatureCount);
    targets[k] = train.values[t + spec.horizonSteps]! - levels[t]!;
  }
  return { rows, targets, origins };
}

/** Each-origin point forecasts of a direct model: level(t) + predicted change (NaN before any value). */
export function directEachOrigin(series: RegularSeries, spec: ForecastSpec, predict: ChangePredictor): Float64Array {
  const n = series.values.length;
  const { rows, levels } = lagFeatureMatrix(series.values, lagGridOf(series, spec));
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const level = levels[t]!;
    out[t] = Number.isFinite(level) ? level + predict(rows.subarray(t * lagFeatureCount, (t + 1) * lagFeatureCount)) : Number.NaN;
  }
  return out;
}

/** The point forecast of a direct model from a whole history. */
export function directPointForecast(series: RegularSeries, spec: ForecastSpec, predict: ChangePredictor): number {
  const n = series.values.length;
  if (n === 0) return Number.NaN;
  const row = new Float64Array(lagFeatureCount);
  const level = lagFeatureRow(series.values, n - 1, lagGridOf(series, spec), row);
  return Number.isFinite(level) ? level + predict(row) : Number.NaN;
}

const missing: PointForecast = { value: Number.NaN, p10: Number.NaN, p90: Number.NaN };

/**
 * A FittedForecaster for a direct model, with a constant band from residual quantiles. Unlike
 * `bandedForecaster`, it hands the model the whole series (the calendar features need its start
 * time). Histories on another grid step get NaN, as for every model.
 */
export function directForecaster(model: string, spec: ForecastSpec, predict: ChangePredictor, bands: ResidualQuantiles, parameters: Readonly<Record<string, number>>): FittedForecaster {
  return {
    model,
    spec,
    parameters: { ...parameters, residualQ10: bands.q10, residualQ90: bands.q90, residualCount: bands.count },
    forecast(history: RegularSeries): PointForecast {
      if (history.stepSeconds !== spec.stepSeconds) return missing;
      const value = directPointForecast(history, spec, predict);
      return Number.isFinite(value) ? { value, p10: value + bands.q10, p90: value + bands.q90 } : missing;
    },
    forecastEachOrigin(series: RegularSeries): EachOriginForecasts {
      const n = series.values.length;
      const value = series.stepSeconds === spec.stepSeconds ? directEachOrigin(series, spec, predict) : new Float64Array(n).fill(Number.NaN);
      const p10 = new Float64Array(n);
      const p90 = new Float64Array(n);
      for (let t = 0; t < n; t++) {
        p10[t] = value[t]! + bands.q10;
        p90[t] = value[t]! + bands.q90;
      }
      return { value, p10, p90 };
    },
  };
}

/** Residual quantiles of a direct model on its own training series (in-sample h-step errors). */
export function directResidualBands(train: RegularSeries, spec: ForecastSpec, predict: ChangePredictor): ResidualQuantiles {
  return residualQuantiles(train.values, directEachOrigin(train, spec, predict), spec.horizonSteps);
}

/**
 * The training set of a direct lag model, or why there is none: such a model needs two seasons of
 * history (the seasonal features need a season of past to mean anything) plus the horizon, and at
 * least `minRows` origins with a finite target.
 */
export function directTrainingSetFor(name: string, train: RegularSeries, spec: ForecastSpec, maxRows: number, minRows: number): Result<DirectTrainingSet, FitFailure> {
  const need = Math.max(minRows, 2 * spec.seasonSteps) + spec.horizonSteps + 1;
  const problem = fitPrecondition(name, train.values, spec, need, `two seasons (and at least ${minRows} origins) plus the horizon`);
  if (problem !== undefined) return err(problem);
  const set = directTrainingSet(train, spec, maxRows);
  if (set.targets.length < minRows) {
    return err({ reason: 'insufficient_history', message: `${name} needs ${minRows} origins with a finite target, got ${set.targets.length}` });
  }
  return ok(set);
}
