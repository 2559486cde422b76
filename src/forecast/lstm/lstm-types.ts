import { defaultFeatureNames, isFeatureName } from '../features/index.js';
import type { FeatureInputs, FeatureName, FeatureNormalization } from '../features/index.js';
import type { EachOriginForecasts, FittedForecaster, ForecastSpec, PointForecast } from '../forecaster.js';
import type { TfBackendName, TfBackendPreference } from './tf-runtime.js';

// The LSTM's options, meta and artifacts, shared by the per-series and the global LSTM and by the
// network helpers (a file of its own so that those import it without a cycle).

/** The shape and training of an LSTM forecaster. Defaults: the design's network. */
export interface LstmOptions {
  /** Steps of history each forecast sees. Default 60. */
  readonly lookbackSteps: number;
  /** Per-step input features (default: the design's 8, see `defaultFeatureNames`). */
  readonly features: readonly FeatureName[];
  /** Units of the stacked LSTM layers, first to last. Default [64, 32]. */
  readonly units: readonly number[];
  /** Dropout after each LSTM layer. Default 0.2. */
  readonly dropout: number;
  /** Units of the ReLU dense layer before the output. Default 16. */
  readonly denseUnits: number;
  /** Passes over the training windows. Default 20. */
  readonly epochs: number;
  /** Windows per gradient step. Default 64. */
  readonly batchSize: number;
  /** Adam learning rate. Default 0.001. */
  readonly learningRate: number;
  /** Most training windows (a random, time-ordered sample above it). Default 4096. */
  readonly maxWindows: number;
  /** Share of the latest training origins held out to measure the model and size its band. Default 0.2. */
  readonly validationFraction: number;
  /** Seed of the weights, the window sample and its order. Default 1. */
  readonly seed: number;
}

/** The design's network: LSTM 64 → dropout → LSTM 32 → dropout → dense 16 ReLU → dense 1, over 60 steps × 8 features. */
export const defaultLstmOptions: LstmOptions = Object.freeze({
  lookbackSteps: 60,
  features: defaultFeatureNames,
  units: Object.freeze([64, 32]),
  dropout: 0.2,
  denseUnits: 16,
  epochs: 20,
  batchSize: 64,
  learningRate: 0.001,
  maxWindows: 4096,
  validationFraction: 0.2,
  seed: 1,
});

/** The format tag of a saved LSTM; a model saved in another format is incompatible. */
export const lstmFormat = 'foresight-lstm/1';

/** Everything needed to use a trained LSTM again besides its weights (saved as meta.json). */
export interface LstmMeta {
  readonly format: typeof lstmFormat;
  readonly model: 'lstm';
  readonly spec: ForecastSpec;
  readonly options: LstmOptions;
  /** Per-feature normalisation, fitted on the training windows. */
  readonly normalization: FeatureNormalization;
  /** Targets are (y(t+h) − level(t)) / targetScale. */
  readonly targetScale: number;
  /** The data the model was trained on (grid times, unix ms) and how many windows it used. */
  readonly trainingWindow: { readonly startMs: number; readonly endMs: number; readonly points: number; readonly windows: number };
  /**
   * Scores on the held-out latest origins (never trained on): MAE in series units, WAPE (ratio),
   * MASE (scaled by the in-sample seasonal-naive MAE of the training part), the residual quantiles
   * that make the band, and the coverage of a band built from the first half of those residuals
   * on the second half (an honest check of the band's calibration).
   */
  readonly validation: {
    readonly mae: number;
    readonly wape: number;
    readonly mase: number;
    readonly coverage: number;
    readonly count: number;
    readonly q10: number;
    readonly q90: number;
    /** Index (in the training series) of the first held-out origin: the shadow-evaluation window starts here. */
    readonly firstOrigin: number;
  };
  /** Final training loss (mean absolute error of the scaled targets). */
  readonly finalLoss: number;
  readonly backend: TfBackendName;
}

/** A trained model as bytes and JSON: what the model store writes (model.json + weights.bin). */
export interface LstmArtifacts {
  /** The Keras-style topology (model.json's `modelTopology`). */
  readonly modelTopology: unknown;
  /** The weight manifest entries (name, shape, dtype) of `weightData`. */
  readonly weightSpecs: readonly unknown[];
  /** All weights, concatenated in the order of `weightSpecs`. */
  readonly weightData: ArrayBuffer;
}

/** Progress of a training run, reported after every epoch. */
export interface LstmProgress {
  readonly epoch: number;
  readonly epochs: number;
  /** Training loss of the epoch (MAE of scaled targets). */
  readonly loss: number;
  readonly windows: number;
}

/** A trained LSTM: a FittedForecaster (target-only features) that can also use covariates, be saved, and be freed. */
export interface TrainedLstm extends FittedForecaster {
  readonly meta: LstmMeta;
  /** The forecast from inputs with covariates (the engine's path): the h-step forecast after the last point. */
  forecastInputs(inputs: FeatureInputs): PointForecast;
  /**
   * Each-origin forecasts from inputs with covariates; with `fromOrigin`, only origins from there
   * on are computed (the rest are NaN), which bounds the cost of scoring a recent window.
   */
  forecastInputsEachOrigin(inputs: FeatureInputs, fromOrigin?: number): EachOriginForecasts;
  /** The weights and topology, for the model store. */
  exportArtifacts(): Promise<LstmArtifacts>;
  /** Frees the model's tensors. The model must not be used afterwards. */
  dispose(): void;
}

/** Why a saved model could not be used. */
export interface LstmRestoreFailure {
  readonly reason: 'incompatible' | 'corrupt';
  readonly message: string;
}

/** Options for one training run. */
export interface LstmTrainHooks {
  /** Called after every epoch. */
  readonly onProgress?: (progress: LstmProgress) => void;
  /** The backend preference (default: tfjs-node if installed, else wasm). */
  readonly backend?: TfBackendPreference;
}

/** Checks option values that would make training meaningless or impossible. */
export function lstmOptionsProblem(options: LstmOptions): string | undefined {
  const positiveInt = (n: number) => Number.isInteger(n) && n >= 1;
  if (!positiveInt(options.lookbackSteps)) return `lookbackSteps must be a whole number >= 1, got ${options.lookbackSteps}`;
  if (options.features.length === 0) return 'features must name at least one feature';
  const unknown = options.features.filter((f) => !isFeatureName(f));
  if (unknown.length > 0) return `unknown feature(s): ${unknown.join(', ')}`;
  if (options.units.length === 0 || !options.units.every(positiveInt)) return `units must be a non-empty list of whole numbers >= 1, got [${options.units.join(', ')}]`;
  if (!(options.dropout >= 0 && options.dropout < 1)) return `dropout must be in [0, 1), got ${options.dropout}`;
  if (!positiveInt(options.denseUnits)) return `denseUnits must be a whole number >= 1, got ${options.denseUnits}`;
  if (!positiveInt(options.epochs)) return `epochs must be a whole number >= 1, got ${options.epochs}`;
  if (!positiveInt(options.batchSize)) return `batchSize must be a whole number >= 1, got ${options.batchSize}`;
  if (!(options.learningRate > 0)) return `learningRate must be > 0, got ${options.learningRate}`;
  if (!positiveInt(options.maxWindows)) return `maxWindows must be a whole number >= 1, got ${options.maxWindows}`;
  if (!(options.validationFraction > 0 && options.validationFraction < 1)) return `validationFraction must be in (0, 1), got ${options.validationFraction}`;
  if (!Number.isInteger(options.seed)) return `seed must be a whole number, got ${options.seed}`;
  return undefined;
}
