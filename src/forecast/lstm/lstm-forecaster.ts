import type * as Tf from '@tensorflow/tfjs';
import { err, ok } from '../../core/index.js';
import type { RegularSeries, Result } from '../../core/index.js';
import {
  applyNormalization,
  buildFeatureColumns,
  buildWindows,
  carryForward,
  defaultFeatureNames,
  fitNormalization,
  isFeatureName,
  targetScaleOf,
  windowOrigins,
  windowTargets,
} from '../features/index.js';
import type { FeatureInputs, FeatureName, FeatureNormalization } from '../features/index.js';
import type { EachOriginForecasts, FitFailure, FittedForecaster, ForecastSpec, PointForecast } from '../forecaster.js';
import { maseScale } from '../accuracy.js';
import { quantileOfSorted } from '../residual-bands.js';
import { sampleInOrder, seededRandom } from '../seeded-random.js';
import type { RandomSource } from '../seeded-random.js';
import { specProblem } from '../spec.js';
import { loadTensorFlow } from './tf-runtime.js';
import { buildModel, halfSplitCoverage, minWindows, predictScaled, shuffleInPlace, trainedFrom } from './network.js';
import type { TfBackendName, TfBackendPreference, TfModule } from './tf-runtime.js';

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

/**
 * Trains an LSTM that forecasts `spec.horizonSteps` ahead of each origin from the `lookbackSteps`
 * feature rows ending there. It learns the scaled change (y(t+h) − level(t)) / targetScale with an
 * absolute-error loss. The latest `validationFraction` of the origins is held out (never trained
 * on, separated by the horizon so that no training target lies in it) and gives the validation
 * MAE and the p10/p90 band. Needs two seasons of history plus the horizon; fails with
 * `insufficient_history` otherwise, so the caller falls back to a baseline with that reason.
 * Deterministic for a given seed on a given backend. Never throws for data reasons.
 */
export async function trainLstm(
  inputs: FeatureInputs,
  spec: ForecastSpec,
  options: Partial<LstmOptions> = {},
  hooks: LstmTrainHooks = {},
): Promise<Result<TrainedLstm, FitFailure>> {
  const o: LstmOptions = { ...defaultLstmOptions, ...options };
  const bad = specProblem(spec);
  if (bad !== undefined) return err(bad);
  const optionProblem = lstmOptionsProblem(o);
  if (optionProblem !== undefined) return err({ reason: 'invalid_spec', message: `lstm: ${optionProblem}` });
  const values = inputs.target.values;
  const n = values.length;
  const h = spec.horizonSteps;
  const needed = 2 * spec.seasonSteps + h + 1;
  if (!values.some(Number.isFinite)) return err({ reason: 'no_data', message: 'lstm: the training series has no finite value' });
  if (n < needed) {
    return err({ reason: 'insufficient_history', message: `lstm needs two seasons of history plus the horizon (${needed} points at a ${spec.stepSeconds}s step), got ${n}` });
  }
  const levels = carryForward(values);
  const all = windowOrigins(values, levels, o.lookbackSteps, h, n - 1 - h);
  const validationCount = Math.floor(all.length * o.validationFraction);
  const trainEnd = all.length - validationCount;
  // The last training origin's target is at origin + h; validation starts after it, so no training
  // target is a validation target.
  const lastTrainTarget = trainEnd > 0 ? all[trainEnd - 1]! + h : -1;
  const trainOrigins = all.subarray(0, trainEnd);
  const validationOrigins = all.subarray(trainEnd).filter((t) => t > lastTrainTarget);
  if (trainOrigins.length < minWindows) {
    return err({ reason: 'insufficient_history', message: `lstm needs ${minWindows} training windows of ${o.lookbackSteps} steps, got ${trainOrigins.length}` });
  }
  const rawColumns = buildFeatureColumns(inputs, o.features);
  const rowsUsed = Int32Array.from({ length: trainOrigins[trainOrigins.length - 1]! + 1 }, (_, i) => i);
  const normalization = fitNormalization(o.features, rawColumns, rowsUsed);
  const columns = applyNormalization(rawColumns, normalization);
  const targetScale = targetScaleOf(values, levels, trainOrigins, h);
  const random = seededRandom(o.seed);
  const sample = Int32Array.from(sampleInOrder(trainOrigins, o.maxWindows, random));
  shuffleInPlace(sample, random);

  const { tf, backend } = await loadTensorFlow(hooks.backend);
  const model = buildModel(tf, o);
  let finalLoss = Number.NaN;
  const x = tf.tensor3d(buildWindows(columns, sample, o.lookbackSteps), [sample.length, o.lookbackSteps, o.features.length]);
  const y = tf.tensor2d(windowTargets(values, levels, sample, h, targetScale), [sample.length, 1]);
  try {
    await model.fit(x, y, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      shuffle: false,
      verbose: 0,
      callbacks: {
        onEpochEnd: async (epoch: number, logs?: Tf.Logs) => {
          finalLoss = logs?.['loss'] ?? Number.NaN;
          hooks.onProgress?.({ epoch: epoch + 1, epochs: o.epochs, loss: finalLoss, windows: sample.length });
        },
      },
    });
  } catch (error) {
    model.dispose();
    return err({ reason: 'invalid_spec', message: `lstm: training failed: ${error instanceof Error ? error.message : String(error)}` });
  } finally {
    x.dispose();
    y.dispose();
    // Adam keeps two moments per weight; inference never needs them, and model.dispose() leaves them behind.
    model.optimizer?.dispose();
  }

  const scoredValidation = sampleInOrder(validationOrigins, o.maxWindows, seededRandom(o.seed + 1));
  const residuals: number[] = [];
  let actualSum = 0;
  if (scoredValidation.length > 0) {
    const scaled = predictScaled(tf, model, columns, scoredValidation, o.lookbackSteps);
    for (let k = 0; k < scoredValidation.length; k++) {
      const t = scoredValidation[k]!;
      const r = values[t + h]! - (levels[t]! + scaled[k]! * targetScale);
      if (Number.isFinite(r)) {
        residuals.push(r);
        actualSum += Math.abs(values[t + h]!);
      }
    }
  }
  const sorted = Float64Array.from(residuals).sort();
  const absoluteSum = residuals.reduce((a, r) => a + Math.abs(r), 0);
  const mae = residuals.length > 0 ? absoluteSum / residuals.length : Number.NaN;
  const scale = maseScale(values.subarray(0, lastTrainTarget + 1), spec.seasonSteps);
  const coverage = halfSplitCoverage(residuals);
  const meta: LstmMeta = {
    format: lstmFormat,
    model: 'lstm',
    spec,
    options: { ...o, features: [...o.features], units: [...o.units] },
    normalization,
    targetScale,
    trainingWindow: {
      startMs: inputs.target.startMs,
      endMs: inputs.target.startMs + (n - 1) * inputs.target.stepSeconds * 1000,
      points: n,
      windows: sample.length,
    },
    validation: {
      mae,
      wape: actualSum > 0 ? absoluteSum / actualSum : Number.NaN,
      mase: mae / scale.scale,
      coverage,
      count: residuals.length,
      q10: residuals.length > 0 ? quantileOfSorted(sorted, 0.1) : 0,
      q90: residuals.length > 0 ? quantileOfSorted(sorted, 0.9) : 0,
      firstOrigin: validationOrigins[0] ?? n,
    },
    finalLoss,
    backend,
  };
  return ok(trainedFrom({ tf, model, meta }));
}

/**
 * Rebuilds a saved LSTM from its artifacts and meta. A model whose format, features or shapes do
 * not match its meta is `incompatible`; weights that do not load are `corrupt`. Never throws: the
 * caller reports the failure and retrains.
 */
export async function restoreLstm(artifacts: LstmArtifacts, meta: LstmMeta, backend?: TfBackendPreference): Promise<Result<TrainedLstm, LstmRestoreFailure>> {
  if (meta.format !== lstmFormat) return err({ reason: 'incompatible', message: `model format "${String(meta.format)}" is not ${lstmFormat}` });
  const problem = lstmOptionsProblem(meta.options) ?? specProblem(meta.spec)?.message;
  if (problem !== undefined) return err({ reason: 'incompatible', message: `meta.json: ${problem}` });
  if (meta.normalization.names.length !== meta.options.features.length || meta.normalization.names.some((name, i) => name !== meta.options.features[i])) {
    return err({ reason: 'incompatible', message: 'meta.json: the normalisation does not list the model features in order' });
  }
  const { tf } = await loadTensorFlow(backend);
  let model: Tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: artifacts.modelTopology as Tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: artifacts.weightSpecs as Tf.io.WeightsManifestEntry[],
        weightData: artifacts.weightData,
      }),
    );
  } catch (error) {
    return err({ reason: 'corrupt', message: `the model does not load: ${error instanceof Error ? error.message : String(error)}` });
  }
  const input = model.inputs[0]?.shape ?? [];
  const output = model.outputs[0]?.shape ?? [];
  if (input[1] !== meta.options.lookbackSteps || input[2] !== meta.options.features.length || output[1] !== 1) {
    model.dispose();
    return err({
      reason: 'incompatible',
      message: `the network takes [${input.join(', ')}] → [${output.join(', ')}], but meta.json describes ${meta.options.lookbackSteps} steps × ${meta.options.features.length} features → 1`,
    });
  }
  return ok(trainedFrom({ tf, model, meta }));
}
