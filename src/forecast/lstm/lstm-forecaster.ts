import { err, ok } from '../../core/index.js';
import type { Result } from '../../core/index.js';
import { applyNormalization, buildFeatureColumns, buildWindows, carryForward, fitNormalization, targetScaleOf, windowOrigins, windowTargets } from '../features/index.js';
import type { FeatureInputs } from '../features/index.js';
import type { FitFailure, ForecastSpec } from '../forecaster.js';
import { sampleInOrder, seededRandom } from '../seeded-random.js';
import { specProblem } from '../spec.js';
import { loadTensorFlow } from './tf-runtime.js';
import { buildModel, fitNetwork, heldOutScores, loadNetwork, minWindows, shuffleInPlace, trainedFrom } from './network.js';
import type { TfBackendPreference } from './tf-runtime.js';

export * from './lstm-types.js';
import { defaultLstmOptions, lstmFormat, lstmOptionsProblem } from './lstm-types.js';
import type { LstmArtifacts, LstmMeta, LstmOptions, LstmRestoreFailure, LstmTrainHooks, TrainedLstm } from './lstm-types.js';

/**
 * Trains an LSTM that forecasts `spec.horizonSteps` ahead of each origin from the `lookbackSteps`
 * feature rows ending there. It learns the scaled change (y(t+h) − level(t)) / targetScale with an
 * absolute-error loss. The latest `validationFraction` of the origins is held out (never trained
 * on, separated by the horizon so that no training target lies in it) and gives the validation
 * MAE and the p10/p90 band. Needs two seasons of history plus the horizon; fails with
 * `insufficient_history` otherwise, so the caller falls back to a baseline with that reason.
 * Deterministic for a given seed on a given backend. Never throws for data reasons.
 */
export async function trainLstm(inputs: FeatureInputs, spec: ForecastSpec, options: Partial<LstmOptions> = {}, hooks: LstmTrainHooks = {}): Promise<Result<TrainedLstm, FitFailure>> {
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
  const fitted = await fitNetwork(
    tf,
    model,
    { x: buildWindows(columns, sample, o.lookbackSteps), y: windowTargets(values, levels, sample, h, targetScale), windows: sample.length },
    o,
    o.epochs,
    hooks,
  );
  if (!fitted.ok) return fitted;
  const finalLoss = fitted.value;

  const scoredValidation = sampleInOrder(validationOrigins, o.maxWindows, seededRandom(o.seed + 1));
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
    validation: heldOutScores(tf, model, { columns, values, levels, targetScale }, scoredValidation, {
      spec,
      lookbackSteps: o.lookbackSteps,
      lastTrainTarget,
      firstOrigin: validationOrigins[0] ?? n,
    }),
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
  const model = await loadNetwork(tf, artifacts, meta.options);
  if (!model.ok) return model;
  return ok(trainedFrom({ tf, model: model.value, meta }));
}
