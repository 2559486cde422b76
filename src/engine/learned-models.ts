import type { RegularSeries } from '../core/index.js';
import type { EachOriginForecasts, FeatureInputs, FittedForecaster, ForecastSpec, PointForecast } from '../forecast/index.js';

/** The state of one series' learned model, as the engine publishes it in the snapshot. */
export interface LearnedModelStatus {
  readonly seriesKey: string;
  /** The learned model's name ("lstm"). */
  readonly model: string;
  /** When the serving model was trained (unix ms); absent while there is none. */
  readonly trainedAtMs?: number;
  /** `serving`: a model exists; `training`: a run is in progress; `unavailable`: neither (see `reason`). */
  readonly state: 'serving' | 'training' | 'unavailable';
  /** Why there is no model, or why the last run deployed nothing. */
  readonly reason?: string;
  /** Set by the engine: whether the learned model serves the forecasts of its horizon. */
  readonly servesForecasts?: boolean;
  /** Set by the engine: the learned model's MASE on the newest 30 % of the buffer (only origins after its training data). */
  readonly validationMase?: number;
  /** Set by the engine: the serving baseline's MASE on the same origins (fitted on the data before them). */
  readonly baselineValidationMase?: number;
  /** Set by the engine: why the learned model does not serve (baseline better, spec mismatch). */
  readonly notServingReason?: string;
}

/** A series' serving learned model, as the engine uses it. */
export interface LearnedServing {
  /** The model (its name and spec; its forecasts come through `latest` and `forecastsFrom`). */
  readonly model: FittedForecaster;
  /** The end of the data it was trained on (unix ms): it is compared with the baseline only on later origins, which it never saw. */
  readonly trainedThroughMs: number;
  /**
   * Its forecasts at every origin of `series` (with its covariates) from `fromIndex` on (NaN before): the comparison with
   * the baseline. Seconds of work for an LSTM, so the service runs it in the model process.
   */
  forecastsFrom(series: RegularSeries, fromIndex: number, covariates?: FeatureInputs['covariates']): Promise<EachOriginForecasts>;
}

/**
 * The engine's view of the learned-model lifecycle (loading, background retraining, serving).
 * A port: the engine may not import the training module, so the composition root adapts
 * training's ModelLifecycle onto this. Every method returns at once or with the store's I/O
 * only; training never runs on the cycle's path.
 */
export interface LearnedModels {
  /** Loads the stored model (once) and registers the series; never throws (an unusable model is retrained). */
  load(seriesKey: string): Promise<void>;
  /**
   * One cycle, after its forecasts, with every forecast series and its covariates: may start a
   * background training (the first one, or a fine-tune on the data since) for `spec`.
   * `accuracyPercent` holds the matured-forecast accuracy of the series that have one.
   */
  tick(series: readonly { readonly seriesKey: string; readonly inputs: FeatureInputs }[], spec: ForecastSpec, nowMs: number, accuracyPercent: ReadonlyMap<string, number>): void;
  /**
   * The model serving a series, if there is one.
   */
  serving(seriesKey: string): LearnedServing | undefined;
  /**
   * The latest forecast of the serving model of each series listed (undefined where it cannot be
   * made). Called once per cycle with every series whose learned model serves, so an
   * implementation may free the models of series no longer listed.
   */
  latest(items: readonly { readonly seriesKey: string; readonly series: RegularSeries; readonly covariates?: FeatureInputs['covariates'] }[]): Promise<(PointForecast | undefined)[]>;
  /** The state of every series seen. */
  status(): readonly LearnedModelStatus[];
}
