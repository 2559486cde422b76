import type * as Tf from '@tensorflow/tfjs';
import { err, messageOf, ok, type RegularSeries, type Result, type SeriesValues } from '../../core/index.js';
import { applyNormalization, buildFeatureColumns, buildWindows, carryForward, windowOrigins } from '../features/index.js';
import type { FeatureInputs } from '../features/index.js';
import { maseScale } from '../accuracy.js';
import type { EachOriginForecasts, FitFailure, ForecastSpec, PointForecast } from '../forecaster.js';
import { quantileOfSorted } from '../residual-bands.js';
import type { RandomSource } from '../seeded-random.js';
import type { TfModule } from './tf-runtime.js';
import type { LstmArtifacts, LstmMeta, LstmOptions, LstmRestoreFailure, LstmTrainHooks, TrainedLstm } from './lstm-types.js';

// The network shared by the per-series and the global LSTM: building, predicting in batches, and
// wrapping a restored network as a TrainedLstm. Internal to forecast/lstm (not exported by index.ts).
/** Fewest training windows worth training on. */
export const minWindows = 64;
/** Windows per predict call: big enough to amortise per-op dispatch, small enough to bound memory. */
export const predictBatch = 1024;

export function buildModel(tf: TfModule, options: LstmOptions): Tf.LayersModel {
  const model = tf.sequential();
  const seed = options.seed;
  options.units.forEach((units, i) => {
    model.add(
      tf.layers.lstm({
        units,
        returnSequences: i < options.units.length - 1,
        ...(i === 0 ? { inputShape: [options.lookbackSteps, options.features.length] } : {}),
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 10 * i }),
        // Glorot, not Keras' orthogonal default: tfjs computes orthogonal matrices slowly in JS and warns on every layer of this size.
        recurrentInitializer: tf.initializers.glorotUniform({ seed: seed + 10 * i + 1 }),
      }),
    );
    // TensorFlow.js draws a seeded dropout mask from the same seed at every call, so the mask is
    // fixed (a random pruning of connections) rather than redrawn per batch: the price of determinism.
    if (options.dropout > 0) model.add(tf.layers.dropout({ rate: options.dropout, seed: seed + 10 * i + 2 }));
  });
  model.add(tf.layers.dense({ units: options.denseUnits, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 101 }) }));
  model.add(tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 102 }) }));
  model.compile({ optimizer: tf.train.adam(options.learningRate), loss: 'meanAbsoluteError' });
  return model;
}

/** Training windows laid out row by row: `windows` × `lookbackSteps` × `features` inputs and one scaled target each. */
export interface TrainingData {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly windows: number;
}

/**
 * Fits `model` on the windows (in the order given: the caller shuffles with its seed) and reports
 * progress after every epoch. The training tensors and Adam's moments are always freed (inference
 * never needs them, and `model.dispose()` leaves the optimizer's behind); a model whose training
 * throws is freed too, and the failure returned. Resolves with the last epoch's loss.
 */
export async function fitNetwork(
  tf: TfModule,
  model: Tf.LayersModel,
  data: TrainingData,
  o: Pick<LstmOptions, 'lookbackSteps' | 'features' | 'batchSize'>,
  epochs: number,
  hooks: LstmTrainHooks,
): Promise<Result<number, FitFailure>> {
  let finalLoss = Number.NaN;
  const x = tf.tensor3d(data.x, [data.windows, o.lookbackSteps, o.features.length]);
  const y = tf.tensor2d(data.y, [data.windows, 1]);
  try {
    await model.fit(x, y, {
      epochs,
      batchSize: o.batchSize,
      shuffle: false,
      verbose: 0,
      callbacks: {
        onEpochEnd: async (epoch: number, logs?: Tf.Logs) => {
          finalLoss = logs?.['loss'] ?? Number.NaN;
          hooks.onProgress?.({ epoch: epoch + 1, epochs, loss: finalLoss, windows: data.windows });
        },
      },
    });
  } catch (error) {
    model.dispose();
    return err({ reason: 'invalid_spec', message: `lstm: training failed: ${messageOf(error)}` });
  } finally {
    x.dispose();
    y.dispose();
    model.optimizer?.dispose();
  }
  return ok(finalLoss);
}

export function shuffleInPlace(items: Int32Array, random: RandomSource): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
}

/** Scaled predictions of the model for `origins` (windows of the normalised columns), in batches. */
export function predictScaled(tf: TfModule, model: Tf.LayersModel, columns: readonly Float32Array[], origins: Int32Array, lookbackSteps: number): Float32Array {
  const out = new Float32Array(origins.length);
  const featureCount = columns.length;
  for (let start = 0; start < origins.length; start += predictBatch) {
    const batch = origins.subarray(start, Math.min(origins.length, start + predictBatch));
    const windows = buildWindows(columns, batch, lookbackSteps);
    const values = tf.tidy(() => {
      const input = tf.tensor3d(windows, [batch.length, lookbackSteps, featureCount]);
      const output = model.predict(input) as Tf.Tensor;
      return output.dataSync() as Float32Array;
    });
    out.set(values, start);
  }
  return out;
}

/** Everything a trained network needs to forecast: the network and how its inputs and outputs are scaled. */
export interface Network {
  readonly tf: TfModule;
  readonly model: Tf.LayersModel;
  readonly meta: LstmMeta;
}

/** Each-origin forecasts of a network on `inputs`: NaN where an origin has no full window or no level. */
export function networkEachOrigin(network: Network, inputs: FeatureInputs, fromOrigin = 0): EachOriginForecasts {
  const { meta } = network;
  const values = inputs.target.values;
  const n = values.length;
  const value = new Float64Array(n).fill(Number.NaN);
  const p10 = new Float64Array(n).fill(Number.NaN);
  const p90 = new Float64Array(n).fill(Number.NaN);
  if (inputs.target.stepSeconds !== meta.spec.stepSeconds) return { value, p10, p90 };
  const levels = carryForward(values);
  const columns = applyNormalization(buildFeatureColumns(inputs, meta.options.features), meta.normalization);
  const origins = windowOrigins(values, levels, meta.options.lookbackSteps, meta.spec.horizonSteps, n - 1, false).filter((t) => t >= fromOrigin);
  const scaled = predictScaled(network.tf, network.model, columns, origins, meta.options.lookbackSteps);
  for (let k = 0; k < origins.length; k++) {
    const t = origins[k]!;
    const v = levels[t]! + scaled[k]! * meta.targetScale;
    value[t] = v;
    p10[t] = v + meta.validation.q10;
    p90[t] = v + meta.validation.q90;
  }
  return { value, p10, p90 };
}

/** The forecast after the last point: only the last window is run through the network. */
export function networkForecast(network: Network, inputs: FeatureInputs): PointForecast {
  const { meta } = network;
  const values = inputs.target.values;
  const n = values.length;
  const missing = { value: Number.NaN, p10: Number.NaN, p90: Number.NaN };
  if (n < meta.options.lookbackSteps || inputs.target.stepSeconds !== meta.spec.stepSeconds) return missing;
  const levels = carryForward(values);
  const level = levels[n - 1]!;
  if (!Number.isFinite(level)) return missing;
  const columns = applyNormalization(buildFeatureColumns(inputs, meta.options.features), meta.normalization);
  const scaled = predictScaled(network.tf, network.model, columns, Int32Array.of(n - 1), meta.options.lookbackSteps)[0]!;
  const value = level + scaled * meta.targetScale;
  return { value, p10: value + meta.validation.q10, p90: value + meta.validation.q90 };
}

export function trainedFrom(network: Network): TrainedLstm {
  const { tf, model, meta } = network;
  let disposed = false;
  return {
    model: 'lstm',
    spec: meta.spec,
    meta,
    parameters: {
      lookbackSteps: meta.options.lookbackSteps,
      features: meta.options.features.length,
      trainingWindows: meta.trainingWindow.windows,
      validationMae: meta.validation.mae,
      residualQ10: meta.validation.q10,
      residualQ90: meta.validation.q90,
    },
    forecast: (history: RegularSeries) => networkForecast(network, { target: history }),
    forecastEachOrigin: (series: RegularSeries) => networkEachOrigin(network, { target: series }),
    forecastInputs: (inputs: FeatureInputs) => networkForecast(network, inputs),
    forecastInputsEachOrigin: (inputs: FeatureInputs, fromOrigin?: number) => networkEachOrigin(network, inputs, fromOrigin),
    async exportArtifacts(): Promise<LstmArtifacts> {
      let saved: Tf.io.ModelArtifacts | undefined;
      await model.save(
        tf.io.withSaveHandler(async (artifacts) => {
          saved = artifacts;
          // The save handler must describe itself; a fixed date keeps the artifacts free of clock readings.
          return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
        }),
      );
      if (saved === undefined || saved.weightData === undefined) throw new Error('TensorFlow.js returned no weights when saving the LSTM');
      const data = saved.weightData;
      const weightData = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : (data as ArrayBuffer);
      return { modelTopology: saved.modelTopology, weightSpecs: saved.weightSpecs ?? [], weightData };
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      model.dispose();
    },
  };
}

/** One series as a network sees it: normalised feature columns, the raw values, their carried levels and the target scale. */
export interface ScaledSeries {
  readonly columns: readonly Float32Array[];
  readonly values: SeriesValues;
  readonly levels: Float64Array;
  readonly targetScale: number;
}

/**
 * The validation block of an LSTM's meta: its h-step forecasts at the `scored` held-out origins
 * against the actuals (MAE, WAPE, MASE scaled by the seasonal-naive MAE of the rows up to the last
 * training target), the residual quantiles that make its band, and the band's half-split coverage.
 * One function for the per-series and the global LSTM, so both are judged alike.
 */
export function heldOutScores(
  tf: TfModule,
  model: Tf.LayersModel,
  series: ScaledSeries,
  scored: Int32Array,
  at: { readonly spec: ForecastSpec; readonly lookbackSteps: number; readonly lastTrainTarget: number; readonly firstOrigin: number },
): LstmMeta['validation'] {
  const { values, levels, targetScale } = series;
  const h = at.spec.horizonSteps;
  const residuals: number[] = [];
  let actualSum = 0;
  if (scored.length > 0) {
    const scaled = predictScaled(tf, model, series.columns, scored, at.lookbackSteps);
    for (let k = 0; k < scored.length; k++) {
      const t = scored[k]!;
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
  const scale = maseScale(values.subarray(0, at.lastTrainTarget + 1), at.spec.seasonSteps);
  return {
    mae,
    wape: actualSum > 0 ? absoluteSum / actualSum : Number.NaN,
    mase: mae / scale.scale,
    coverage: halfSplitCoverage(residuals),
    count: residuals.length,
    q10: residuals.length > 0 ? quantileOfSorted(sorted, 0.1) : 0,
    q90: residuals.length > 0 ? quantileOfSorted(sorted, 0.9) : 0,
    firstOrigin: at.firstOrigin,
  };
}

/**
 * Coverage of a p10–p90 band sized on the first half of time-ordered residuals, measured on the
 * second half (NaN with fewer than 20 residuals).
 */
export function halfSplitCoverage(residuals: readonly number[]): number {
  if (residuals.length < 20) return Number.NaN;
  const half = residuals.length >> 1;
  const first = Float64Array.from(residuals.slice(0, half)).sort();
  const q10 = quantileOfSorted(first, 0.1);
  const q90 = quantileOfSorted(first, 0.9);
  const second = residuals.slice(half);
  return second.filter((r) => r >= q10 && r <= q90).length / second.length;
}

/** A saved network from its artifacts, checked against the shape its meta describes (steps × features → 1). */
export async function loadNetwork(tf: TfModule, artifacts: LstmArtifacts, o: LstmOptions): Promise<Result<Tf.LayersModel, LstmRestoreFailure>> {
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
    return err({ reason: 'corrupt', message: `the model does not load: ${messageOf(error)}` });
  }
  const input = model.inputs[0]?.shape ?? [];
  const output = model.outputs[0]?.shape ?? [];
  if (input[1] !== o.lookbackSteps || input[2] !== o.features.length || output[1] !== 1) {
    model.dispose();
    return err({
      reason: 'incompatible',
      message: `the network takes [${input.join(', ')}] → [${output.join(', ')}], but meta.json describes ${o.lookbackSteps} steps × ${o.features.length} features → 1`,
    });
  }
  return ok(model);
}
