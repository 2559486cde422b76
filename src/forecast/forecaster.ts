import type { RegularSeries, Result } from '../core/index.js';

/** What a forecast is asked for, in grid steps of the series it is fitted on. */
export interface ForecastSpec {
  /** The grid step of the series, in seconds. */
  readonly stepSeconds: number;
  /** The length of one season in steps (a day at the series' step by default). */
  readonly seasonSteps: number;
  /** How many steps ahead to forecast (15 minutes at a 60 s step is 15). */
  readonly horizonSteps: number;
}

/** A forecast of the value `horizonSteps` after the last point of the history it was made from. */
export interface PointForecast {
  /** The point forecast (the model's mean or median). */
  readonly value: number;
  /** The 10th percentile of the forecast distribution. */
  readonly p10: number;
  /** The 90th percentile of the forecast distribution. */
  readonly p90: number;
}

/**
 * Why a model could not be fitted: too little history for what the model needs (two seasons for
 * Holt-Winters), no finite value at all, or a spec that makes no sense (a zero horizon).
 */
export interface FitFailure {
  readonly reason: 'insufficient_history' | 'no_data' | 'invalid_spec';
  readonly message: string;
}

/**
 * Forecasts for every origin of a series: element `t` of each array is about index
 * `t + horizonSteps`, made from `values[0..t]` only; NaN where the model cannot forecast yet.
 */
export interface EachOriginForecasts {
  readonly value: Float64Array;
  readonly p10: Float64Array;
  readonly p90: Float64Array;
}

/**
 * A model with its parameters fitted on training data. It forecasts from any history of the same
 * series, including points after the training window, without refitting: that is how the service
 * stays cheap per cycle and how backtests avoid look-ahead.
 */
export interface FittedForecaster {
  /** The model's name, as in the registry ("holt_winters"). */
  readonly model: string;
  /** The spec the model was fitted for (its horizon, season and step). */
  readonly spec: ForecastSpec;
  /** The fitted parameters by name (smoothing weights, window, band quantiles), for logs and reports. */
  readonly parameters?: Readonly<Record<string, number>>;
  /**
   * The forecast made from all of `history`, for the step `spec.horizonSteps` after its last point.
   * All three numbers are NaN when the history does not allow a forecast (no finite value yet, less
   * than the model's warm-up, or a history on another step): the caller falls back, see
   * `withFallback`.
   */
  forecast(history: RegularSeries): PointForecast;
  /**
   * Rolling-origin forecasts over a whole series in one pass: element `t` of each array is the
   * forecast for index `t + horizonSteps`, made from `values[0..t]` only. Equal to calling
   * `forecast` on each prefix, but linear in the series length.
   */
  forecastEachOrigin(series: RegularSeries): EachOriginForecasts;
}

/**
 * The port every forecasting model implements. Implementations are pure (no clock, no I/O, no
 * randomness except through an injected seed) and never throw on short or gappy data: they return
 * a `FitFailure` with a reason instead, and the caller falls back to another model.
 */
export interface Forecaster {
  /** The model's name, as in the registry. */
  readonly name: string;
  /** Fits the model's parameters on `train` (a regular grid; NaN = missing). */
  fit(train: RegularSeries, spec: ForecastSpec): Result<FittedForecaster, FitFailure>;
}
