// The protocol between the engine and where its models run (this process or a model process):
// the requests, the answers and the port. The models themselves are in model-host.ts.
import type { Config } from '../config/index.js';
import type { RegularSeries, Resource } from '../core/index.js';
import type {
  EachOriginForecasts,
  FeatureInputs,
  LstmArtifacts,
  LstmMeta,
  ModelEvaluation,
  ModelSelection,
  PointForecast,
  ResourceObservation,
  ResourceRecommendation,
  ServingModelName,
  TfBackendPreference,
} from '../forecast/index.js';
import type { SeriesToSend } from './series-transfer.js';

/** The forecast settings a host fits with (the `forecast` config section, in seconds). */
export interface HostForecastSettings {
  readonly model: ServingModelName;
  readonly stepSeconds: number;
  readonly seasonSeconds: number;
  readonly horizonsSeconds: readonly number[];
  readonly refitIntervalSeconds: number;
  /** How often `auto` chooses again (`forecast.selectionInterval`); refits in between refit the chosen members. */
  readonly selectionIntervalSeconds: number;
}

/** One cycle's forecasting work: every series with data, on the same grid. */
export interface HostForecastRequest {
  /**
   * Bumped by the engine whenever the configuration changes: a host seeing a new generation drops
   * every fit and optimizer model, because model settings, horizons or thresholds may have changed.
   */
  readonly generation: number;
  readonly nowMs: number;
  readonly settings: HostForecastSettings;
  /** Each series with what changed in it since the last request, when the engine knows (series-transfer.ts). */
  readonly series: readonly SeriesToSend[];
  /**
   * Answer only after every due refit is done, as one synchronous step (an in-process host, tests).
   * By default the host answers from the fits it holds and refits in the background.
   */
  readonly waitForRefits?: boolean;
}

/** One horizon's point forecast from the serving baseline. */
export interface HostPointForecast {
  readonly horizonSeconds: number;
  /** The model that made it. */
  readonly model: string;
  /** Set when the configured model could not be used and a simpler one stood in. */
  readonly fallbackReason?: string;
  /** Which model (or combination) serves, why, and the runner-up on validation. */
  readonly selection?: ModelSelection;
  readonly value: number;
  readonly p10: number;
  readonly p90: number;
}

/** A backtest score of one model, as /scaling/ml/accuracy shows it (a fit failure travels as naive's score). */
export type HostModelScore = Omit<ModelEvaluation, 'fitFailure'>;

/** What a host answers for one series. */
export interface HostSeriesReply {
  readonly key: string;
  /** When the serving fit was made (unix ms); the same for every cycle until the next refit. */
  readonly fittedAtMs: number;
  /** In-sample seasonal-naive MAE of the fit's history: the scale of matured-forecast MASE. */
  readonly maseScale: number;
  /** Every configured horizon the serving model could forecast. */
  readonly forecasts: readonly HostPointForecast[];
  /** Set on the cycle that refitted: each horizon's fit and how long it took. */
  readonly fits?: readonly { readonly horizonSeconds: number; readonly model: string; readonly seconds: number }[];
  /** Set on the cycle that refitted: every baseline's backtest at the first horizon. */
  readonly scores?: readonly HostModelScore[];
}

/** A learned model as it travels to the model process: what `restoreLstm` needs. */
export interface LearnedArtifacts {
  readonly artifacts: LstmArtifacts;
  readonly meta: LstmMeta;
}

/** Backtests of the serving model that a learned model is compared against. */
export interface HostValidateRequest {
  readonly settings: HostForecastSettings;
  /** Per item: the series, the horizon, and the first origin scored (the model is fitted on the points before it). */
  readonly items: readonly { readonly key: string; readonly series: RegularSeries; readonly horizonSeconds: number; readonly fromIndex: number }[];
}

/** The latest forecast of each series' learned model, by the id the caller gave it. */
export interface HostLearnedPointsRequest {
  /** The TensorFlow.js backend to restore models on (`ml.lstm.backend`). */
  readonly backend?: TfBackendPreference;
  /**
   * Per series: the model's id (a new id replaces the series' model), the history, and the
   * weights — needed only the first time the host sees an id (it answers `missing` otherwise).
   */
  readonly items: readonly { readonly key: string; readonly id: string; readonly series: RegularSeries; readonly covariates?: FeatureInputs['covariates']; readonly learned?: LearnedArtifacts }[];
}

/** A learned model's latest forecast, or why there is none. */
export type HostLearnedPoint = PointForecast | { readonly missing: true } | { readonly error: string };

/** A learned model's forecasts at every origin from `fromIndex` on. */
export interface HostLearnedRequest {
  readonly learned: LearnedArtifacts;
  readonly series: RegularSeries;
  /** The series' covariates on its grid (the LSTM's multivariate inputs). */
  readonly covariates?: FeatureInputs['covariates'];
  readonly fromIndex: number;
  /** The TensorFlow.js backend to restore it on (`ml.lstm.backend`). */
  readonly backend?: TfBackendPreference;
}

/** The optimizer work of one cycle: per resource, its observations and the load to size for. */
export interface HostOptimizeRequest {
  readonly generation: number;
  readonly nowMs: number;
  readonly refitIntervalSeconds: number;
  /** The forest's settings (`ml.randomForest`); a change comes with a new generation, so the forest is retrained. */
  readonly forest?: { readonly trees: number; readonly seed: number; readonly minSaturatedSamples: number; readonly headroom: number };
  readonly resources: readonly {
    readonly resource: Resource;
    readonly observations: readonly ResourceObservation[];
    /** The most work that may wait while targets are kept (the sum of the resource's queue thresholds). */
    readonly maxBacklog: number;
    /** What to recommend for; absent when the load is unknown this cycle. */
    readonly recommend?: {
      readonly predictedLoad: number;
      readonly range: { readonly min: number; readonly max: number };
      readonly confidenceThreshold: number;
      readonly cpuPercent?: number;
    };
  }[];
}

/** What a host answers for one resource: the recommendation, once a model could be learned. */
export interface HostOptimizeReply {
  readonly resource: Resource;
  readonly recommendation?: ResourceRecommendation;
}

/**
 * Where a cycle's model work runs: fitting (once per refit bucket), forecasting, backtests, and the
 * resource optimizer. The engine talks to it asynchronously so that the work can run in another
 * process (see model-process.ts) and never hold up the event loop that serves HTTP.
 */
export interface ModelHostPort {
  forecast(request: HostForecastRequest): Promise<HostSeriesReply[]>;
  /** Per item, the serving model's backtest MASE from `fromIndex` on, fitted on the points before (NaN when it cannot be backtested). */
  validate(request: HostValidateRequest): Promise<number[]>;
  /**
   * A learned model's forecasts at every origin from `fromIndex` on (NaN before), to compare it with
   * the baseline: an LSTM over thousands of origins takes seconds, which must not run on the event
   * loop that serves. Rejects when the model cannot be restored.
   */
  learnedForecasts(request: HostLearnedRequest): Promise<EachOriginForecasts>;
  /**
   * The latest forecast of each serving learned model; the host keeps the restored models (one per
   * series), so the service sends the weights once per model and never runs TensorFlow.js itself.
   */
  learnedPoints(request: HostLearnedPointsRequest): Promise<HostLearnedPoint[]>;
  /**
   * TensorFlow.js tensors alive where the models run, as of the last answer; undefined when they run
   * in this process (they are counted with this process's own) or before the first answer.
   */
  tensorCount(): number | undefined;
  /**
   * Series waiting for a background refit, as of the last answer (`foresight_model_refits_queued`);
   * undefined before the first answer. Always 0 in this process, where refits are done inside the request.
   */
  queuedRefits(): number | undefined;
  /** Resolves once no refit is queued (benchmarks and tests: calls made after it wait behind it). */
  refitsDone(): Promise<void>;
  /**
   * CPU seconds the model processes spent, as of their last answers: answering calls (a cycle's
   * share) and refitting in the background. Zero in this process, whose work is the service's own.
   */
  cpuSeconds(): { readonly callsSeconds: number; readonly refitsSeconds: number };
  optimize(request: HostOptimizeRequest): Promise<HostOptimizeReply[]>;
  close(): Promise<void>;
}

/** The `forecast` config section as a host takes it. */
export function hostSettingsOf(config: Config): HostForecastSettings {
  return {
    model: config.forecast.model,
    stepSeconds: config.forecast.step,
    seasonSeconds: config.forecast.season,
    horizonsSeconds: config.forecast.horizons,
    refitIntervalSeconds: config.forecast.refitInterval,
    selectionIntervalSeconds: config.forecast.selectionInterval,
  };
}
