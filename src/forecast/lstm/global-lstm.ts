import type * as Tf from '@tensorflow/tfjs';
import { err, ok } from '../../core/index.js';
import type { Result, SeriesValues } from '../../core/index.js';
import { applyNormalization, buildFeatureColumns, buildWindows, carryForward, fitNormalization, targetScaleOf, windowOrigins } from '../features/index.js';
import type { FeatureInputs, FeatureNormalization } from '../features/index.js';
import type { FitFailure, ForecastSpec } from '../forecaster.js';
import type { ShadowResult } from '../lifecycle.js';
import { sampleInOrder, seededRandom } from '../seeded-random.js';
import { specProblem } from '../spec.js';
import { defaultLstmOptions, lstmFormat, lstmOptionsProblem } from './lstm-types.js';
import type { LstmArtifacts, LstmMeta, LstmOptions, LstmRestoreFailure, LstmTrainHooks, TrainedLstm } from './lstm-types.js';
import { buildModel, fitNetwork, heldOutScores, loadNetwork, minWindows, predictScaled, shuffleInPlace, trainedFrom } from './network.js';
import { loadTensorFlow } from './tf-runtime.js';
import type { TfBackendName, TfBackendPreference, TfModule } from './tf-runtime.js';

/** The format tag of a saved global LSTM. */
export const globalLstmFormat = 'foresight-lstm-global/1';

/** One series of a global training: its key and its inputs (target and covariates on one grid). */
export interface GlobalSeriesInput {
  readonly key: string;
  readonly inputs: FeatureInputs;
}

/** What the global network knows about one series: how its inputs and outputs are scaled, and how it scored. */
export interface GlobalSeriesMeta {
  /** Per-series, per-feature normalisation: the network sees every series in its own units. */
  readonly normalization: FeatureNormalization;
  /** Targets of this series are (y(t+h) − level(t)) / targetScale. */
  readonly targetScale: number;
  /** The data of this series at training time and how many of its windows were trained on. */
  readonly trainingWindow: { readonly startMs: number; readonly endMs: number; readonly points: number; readonly windows: number };
  /**
   * Time (unix ms) of the newest target the network trained on for this series: origins whose
   * target is later were never trained on (the held-out window, and everything after training).
   */
  readonly trainedThroughMs: number;
  /** Scores on this series' held-out newest origins (never trained on), as for a per-series LSTM. */
  readonly validation: LstmMeta['validation'];
}

/** Everything needed to use a global LSTM again besides its weights (saved as meta.json). */
export interface GlobalLstmMeta {
  readonly format: typeof globalLstmFormat;
  readonly model: 'lstm';
  readonly spec: ForecastSpec;
  readonly options: LstmOptions;
  readonly series: Readonly<Record<string, GlobalSeriesMeta>>;
  /** Series given but not trained on, and why (too little history, no data). */
  readonly skipped: Readonly<Record<string, string>>;
  /** `scratch`: new weights; `fine_tune`: continued from the previous model on the data since. */
  readonly mode: 'scratch' | 'fine_tune';
  /** Fine-tunes since the last training from scratch. */
  readonly fineTunes: number;
  /** Windows × epochs of this run (its cost). */
  readonly windowPasses: number;
  /** Final training loss (mean absolute error of the scaled targets). */
  readonly finalLoss: number;
  readonly backend: TfBackendName;
}

/** A trained global LSTM: one network, a forecaster view per series it knows. */
export interface TrainedGlobalLstm {
  readonly meta: GlobalLstmMeta;
  /** The network as a per-series LSTM (sharing the weights; its `dispose` is a no-op), or undefined for a series it does not know. */
  forSeries(key: string): TrainedLstm | undefined;
  /** Mean absolute error (series units) of the h-step forecasts at `origins` of a series it knows (NaN otherwise). */
  maeAt(key: string, inputs: FeatureInputs, origins: Int32Array): number;
  exportArtifacts(): Promise<LstmArtifacts>;
  /** Frees the network; the views must not be used afterwards. */
  dispose(): void;
}

/** How to continue from a trained model instead of training from scratch. */
export interface FineTune {
  readonly base: { readonly artifacts: LstmArtifacts; readonly meta: GlobalLstmMeta };
  /** Passes over the fine-tuning windows. */
  readonly epochs: number;
  /** Most windows: half new (targets after the base's training), half replayed from older data so that it does not forget. */
  readonly maxWindows: number;
}

/**
 * Held-out origins scored per series: enough for a stable MAE and band (25 residuals beyond each of
 * p10 and p90), few enough to stay cheap. Every scored origin is a forward pass (about 370 per
 * CPU-second for the design network on wasm), paid once by every training and again by the shadow
 * evaluation: at 1,024 per series, the demo's 13 series cost a fine-tune about 70 s, over its 60 s budget.
 */
const validationOriginsPerSeries = 256;

/** One series ready to train on. */
interface Prepared {
  readonly key: string;
  readonly inputs: FeatureInputs;
  readonly values: SeriesValues;
  readonly levels: Float64Array;
  readonly columns: Float32Array[];
  readonly normalization: FeatureNormalization;
  readonly targetScale: number;
  readonly trainOrigins: Int32Array;
  readonly validationOrigins: Int32Array;
  readonly lastTrainTarget: number;
}

/**
 * The origins of a series split like the per-series LSTM: the newest `validationFraction` held out,
 * separated from the training targets by the horizon, so that no training target is a held-out one.
 */
function splitOrigins(values: SeriesValues, levels: Float64Array, spec: ForecastSpec, o: LstmOptions): { trainOrigins: Int32Array; validationOrigins: Int32Array; lastTrainTarget: number } {
  const h = spec.horizonSteps;
  const all = windowOrigins(values, levels, o.lookbackSteps, h, values.length - 1 - h);
  const trainEnd = all.length - Math.floor(all.length * o.validationFraction);
  const lastTrainTarget = trainEnd > 0 ? all[trainEnd - 1]! + h : -1;
  return { trainOrigins: all.subarray(0, trainEnd), validationOrigins: all.subarray(trainEnd).filter((t) => t > lastTrainTarget), lastTrainTarget };
}

/** The held-out origins a series is scored on (validation and shadow evaluation alike): a time-ordered sample. */
function scoredOrigins(validationOrigins: Int32Array, seed: number): Int32Array {
  return sampleInOrder(validationOrigins, validationOriginsPerSeries, seededRandom(seed));
}

/** Time (unix ms) of grid index i of a series. */
function timeOf(inputs: FeatureInputs, index: number): number {
  return inputs.target.startMs + index * inputs.target.stepSeconds * 1000;
}

/**
 * Splits one series like the per-series LSTM (the newest `validationFraction` of its origins held
 * out, separated by the horizon) and scales it: with the base model's normalisation when it knows
 * the series (its weights were learned on those scales), else fitted on the training rows.
 */
function prepare(item: GlobalSeriesInput, spec: ForecastSpec, o: LstmOptions, base: GlobalSeriesMeta | undefined): Prepared | string {
  const values = item.inputs.target.values;
  const n = values.length;
  const h = spec.horizonSteps;
  if (item.inputs.target.stepSeconds !== spec.stepSeconds) return `step ${item.inputs.target.stepSeconds}s is not the model's ${spec.stepSeconds}s`;
  if (!values.some(Number.isFinite)) return 'no finite value';
  const needed = 2 * spec.seasonSteps + h + 1;
  if (n < needed) return `needs two seasons of history plus the horizon (${needed} points), got ${n}`;
  const levels = carryForward(values);
  const { trainOrigins, validationOrigins, lastTrainTarget } = splitOrigins(values, levels, spec, o);
  if (trainOrigins.length < minWindows) return `needs ${minWindows} training windows of ${o.lookbackSteps} steps, got ${trainOrigins.length}`;
  const raw = buildFeatureColumns(item.inputs, o.features);
  const sameFeatures = base !== undefined && base.normalization.names.join() === o.features.join();
  const normalization = sameFeatures
    ? base.normalization
    : fitNormalization(
        o.features,
        raw,
        Int32Array.from({ length: trainOrigins[trainOrigins.length - 1]! + 1 }, (_, i) => i),
      );
  const targetScale = sameFeatures ? base.targetScale : targetScaleOf(values, levels, trainOrigins, h);
  return { key: item.key, inputs: item.inputs, values, levels, columns: applyNormalization(raw, normalization), normalization, targetScale, trainOrigins, validationOrigins, lastTrainTarget };
}

/**
 * The windows of one series to train on. From scratch: an even share of the budget, sampled in
 * time order over its training origins. Fine-tuning: the origins whose target came after the base
 * model's training (new data), and as many older ones replayed (so the network keeps what it knew).
 */
function windowsOf(p: Prepared, share: number, spec: ForecastSpec, fineTune: FineTune | undefined, random: () => number): Int32Array {
  if (fineTune === undefined) return Int32Array.from(sampleInOrder(p.trainOrigins, share, random));
  const through = fineTune.base.meta.series[p.key]?.trainedThroughMs ?? Number.NEGATIVE_INFINITY;
  const fresh = p.trainOrigins.filter((t) => timeOf(p.inputs, t + spec.horizonSteps) > through);
  const old = p.trainOrigins.filter((t) => timeOf(p.inputs, t + spec.horizonSteps) <= through);
  const newPart = sampleInOrder(fresh, Math.ceil(share / 2), random);
  const replay = sampleInOrder(old, newPart.length, random);
  return Int32Array.from([...replay, ...newPart]);
}

/** Scores a network on a series' held-out origins: the per-series LstmMeta validation block. */
function validate(tf: TfModule, model: Tf.LayersModel, p: Prepared, spec: ForecastSpec, o: LstmOptions, seed: number): LstmMeta['validation'] {
  return heldOutScores(tf, model, p, scoredOrigins(p.validationOrigins, seed), {
    spec,
    lookbackSteps: o.lookbackSteps,
    lastTrainTarget: p.lastTrainTarget,
    firstOrigin: p.validationOrigins[0] ?? p.values.length,
  });
}

/** The per-series LstmMeta of a series of a global model: what a per-series view (and `restoreLstm`) uses. */
export function seriesLstmMeta(meta: GlobalLstmMeta, key: string): LstmMeta | undefined {
  const s = meta.series[key];
  if (s === undefined) return undefined;
  return {
    format: lstmFormat,
    model: 'lstm',
    spec: meta.spec,
    options: meta.options,
    normalization: s.normalization,
    targetScale: s.targetScale,
    // The engine compares a learned model with the baseline only on origins after this: for a
    // global model that is its training targets' end, so its held-out window counts as unseen.
    trainingWindow: { ...s.trainingWindow, endMs: s.trainedThroughMs },
    validation: s.validation,
    finalLoss: meta.finalLoss,
    backend: meta.backend,
  };
}

function globalFrom(tf: TfModule, model: Tf.LayersModel, meta: GlobalLstmMeta): TrainedGlobalLstm {
  const views = new Map<string, TrainedLstm>();
  const whole = trainedFrom({ tf, model, meta: seriesLstmMeta(meta, Object.keys(meta.series)[0]!)! });
  return {
    meta,
    forSeries(key) {
      let view = views.get(key);
      if (view === undefined) {
        const seriesMeta = seriesLstmMeta(meta, key);
        if (seriesMeta === undefined) return undefined;
        // Views share the network: only the global model frees it.
        view = { ...trainedFrom({ tf, model, meta: seriesMeta }), dispose: () => undefined };
        views.set(key, view);
      }
      return view;
    },
    maeAt(key, inputs, origins) {
      const s = meta.series[key];
      if (s === undefined || origins.length === 0) return Number.NaN;
      const values = inputs.target.values;
      const levels = carryForward(values);
      const columns = applyNormalization(buildFeatureColumns(inputs, meta.options.features), s.normalization);
      const scaled = predictScaled(tf, model, columns, origins, meta.options.lookbackSteps);
      let sum = 0;
      let count = 0;
      origins.forEach((t, k) => {
        const error = Math.abs(values[t + meta.spec.horizonSteps]! - (levels[t]! + scaled[k]! * s.targetScale));
        if (Number.isFinite(error)) {
          sum += error;
          count++;
        }
      });
      return count > 0 ? sum / count : Number.NaN;
    },
    exportArtifacts: () => whole.exportArtifacts(),
    dispose: () => whole.dispose(),
  };
}

/**
 * Trains one network across every series given (a global model): each series is normalised in its
 * own units (per-series feature means and deviations, and target scale, stored with the model), its
 * newest origins are held out as for a per-series LSTM, and the window budget (`maxWindows` per
 * epoch) is shared evenly between the series. With `fineTune`, continues from the base model's
 * weights (and its normalisation for the series it knows) on the windows whose targets are new
 * since it trained, plus as many replayed older ones. Deterministic for a seed on a backend.
 * Series that cannot be trained on are listed in `meta.skipped`; fails only when none can.
 */
export async function trainGlobalLstm(
  series: readonly GlobalSeriesInput[],
  spec: ForecastSpec,
  options: Partial<LstmOptions> = {},
  hooks: LstmTrainHooks = {},
  fineTune?: FineTune,
): Promise<Result<TrainedGlobalLstm, FitFailure>> {
  const o: LstmOptions = fineTune === undefined ? { ...defaultLstmOptions, ...options } : fineTune.base.meta.options;
  const bad = specProblem(spec);
  if (bad !== undefined) return err(bad);
  const optionProblem = lstmOptionsProblem(o);
  if (optionProblem !== undefined) return err({ reason: 'invalid_spec', message: `lstm: ${optionProblem}` });
  if (fineTune !== undefined && JSON.stringify(fineTune.base.meta.spec) !== JSON.stringify(spec)) {
    return err({ reason: 'invalid_spec', message: 'lstm: cannot fine-tune a model trained for another step, season or horizon' });
  }
  const prepared: Prepared[] = [];
  const skipped: Record<string, string> = {};
  for (const item of series) {
    const p = prepare(item, spec, o, fineTune?.base.meta.series[item.key]);
    if (typeof p === 'string') skipped[item.key] = p;
    else prepared.push(p);
  }
  if (prepared.length === 0) {
    const reasons = Object.entries(skipped).map(([key, why]) => `${key}: ${why}`);
    return err({ reason: 'insufficient_history', message: `lstm: no series to train on${reasons.length > 0 ? ` (${reasons.slice(0, 3).join('; ')})` : ''}` });
  }
  const random = seededRandom(o.seed);
  const budget = fineTune?.maxWindows ?? o.maxWindows;
  const share = Math.max(1, Math.ceil(budget / prepared.length));
  const samples = prepared.map((p) => windowsOf(p, share, spec, fineTune, random));
  // One (series, origin) pair per window, shuffled across series so that every batch mixes them.
  const seriesOf = Int32Array.from(samples.flatMap((s, i) => Array.from(s, () => i)));
  const originOf = Int32Array.from(samples.flatMap((s) => Array.from(s)));
  const total = seriesOf.length;
  if (total === 0) return err({ reason: 'insufficient_history', message: 'lstm: no new data since the last training' });
  const order = Int32Array.from({ length: total }, (_, i) => i);
  shuffleInPlace(order, random);
  const L = o.lookbackSteps;
  const F = o.features.length;
  const xData = new Float32Array(total * L * F);
  const yData = new Float32Array(total);
  order.forEach((k, row) => {
    const p = prepared[seriesOf[k]!]!;
    const t = originOf[k]!;
    xData.set(buildWindows(p.columns, Int32Array.of(t), L), row * L * F);
    yData[row] = (p.values[t + spec.horizonSteps]! - p.levels[t]!) / p.targetScale;
  });

  const { tf, backend } = await loadTensorFlow(hooks.backend);
  let model: Tf.LayersModel;
  if (fineTune === undefined) model = buildModel(tf, o);
  else {
    const restored = await loadNetwork(tf, fineTune.base.artifacts, o);
    if (!restored.ok) return err({ reason: 'invalid_spec', message: `lstm: the model to fine-tune does not load: ${restored.error.message}` });
    model = restored.value;
    model.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'meanAbsoluteError' });
  }
  const epochs = fineTune?.epochs ?? o.epochs;
  const fitted = await fitNetwork(tf, model, { x: xData, y: yData, windows: total }, o, epochs, hooks);
  if (!fitted.ok) return fitted;
  const finalLoss = fitted.value;

  const seriesMeta: Record<string, GlobalSeriesMeta> = {};
  prepared.forEach((p, i) => {
    const n = p.values.length;
    const previous = fineTune?.base.meta.series[p.key];
    const trainedThroughMs = Math.max(timeOf(p.inputs, p.lastTrainTarget), previous?.trainedThroughMs ?? Number.NEGATIVE_INFINITY);
    seriesMeta[p.key] = {
      normalization: p.normalization,
      targetScale: p.targetScale,
      trainingWindow: { startMs: p.inputs.target.startMs, endMs: timeOf(p.inputs, n - 1), points: n, windows: samples[i]!.length },
      trainedThroughMs,
      validation: validate(tf, model, p, spec, o, o.seed + 1),
    };
  });
  // A fine-tune keeps what the base knew about series absent this time.
  const carried = Object.fromEntries(Object.entries(fineTune?.base.meta.series ?? {}).filter(([key]) => seriesMeta[key] === undefined));
  const meta: GlobalLstmMeta = {
    format: globalLstmFormat,
    model: 'lstm',
    spec,
    options: { ...o, features: [...o.features], units: [...o.units] },
    series: { ...carried, ...seriesMeta },
    skipped,
    mode: fineTune === undefined ? 'scratch' : 'fine_tune',
    fineTunes: fineTune === undefined ? 0 : fineTune.base.meta.fineTunes + 1,
    windowPasses: total * epochs,
    finalLoss,
    backend,
  };
  return ok(globalFrom(tf, model, meta));
}

/** Rebuilds a saved global LSTM. Incompatible or corrupt models are reported, never thrown. */
export async function restoreGlobalLstm(artifacts: LstmArtifacts, meta: GlobalLstmMeta, backend?: TfBackendPreference): Promise<Result<TrainedGlobalLstm, LstmRestoreFailure>> {
  if (meta.format !== globalLstmFormat) return err({ reason: 'incompatible', message: `model format "${String(meta.format)}" is not ${globalLstmFormat}` });
  const problem = lstmOptionsProblem(meta.options) ?? specProblem(meta.spec)?.message;
  if (problem !== undefined) return err({ reason: 'incompatible', message: `meta.json: ${problem}` });
  const keys = Object.keys(meta.series);
  if (keys.length === 0) return err({ reason: 'incompatible', message: 'meta.json: the model lists no series' });
  const misnamed = keys.find((key) => meta.series[key]!.normalization.names.join() !== meta.options.features.join());
  if (misnamed !== undefined) return err({ reason: 'incompatible', message: `meta.json: the normalisation of ${misnamed} does not list the model features in order` });
  const { tf } = await loadTensorFlow(backend);
  const model = await loadNetwork(tf, artifacts, meta.options);
  if (!model.ok) return err(model.error);
  return ok(globalFrom(tf, model.value, meta));
}

/**
 * Shadow evaluation of a new global model against the serving one: per series, on the new model's
 * scored held-out origins (data neither trained on: the serving model trained before the new one,
 * on older data), the new model's validation MAE against the serving model's MAE on the same
 * origins, in units of the series' target scale, averaged over the series both know. The new model
 * replaces the serving one only if that average is lower.
 */
export function shadowEvaluateGlobal(current: TrainedGlobalLstm | undefined, candidate: TrainedGlobalLstm, series: readonly GlobalSeriesInput[]): ShadowResult {
  if (current === undefined) return { deploy: true, reason: 'no_current_model', candidateMae: Number.NaN, currentMae: Number.NaN, points: 0 };
  const o = candidate.meta.options;
  let candidateSum = 0;
  let currentSum = 0;
  let compared = 0;
  let points = 0;
  for (const { key, inputs } of series) {
    const next = candidate.meta.series[key];
    if (next === undefined || current.meta.series[key] === undefined || !Number.isFinite(next.validation.mae)) continue;
    const { validationOrigins } = splitOrigins(inputs.target.values, carryForward(inputs.target.values), candidate.meta.spec, o);
    const origins = scoredOrigins(validationOrigins, o.seed + 1);
    const currentMae = current.maeAt(key, inputs, origins);
    if (!Number.isFinite(currentMae)) continue;
    candidateSum += next.validation.mae / next.targetScale;
    currentSum += currentMae / next.targetScale;
    compared++;
    points += origins.length;
  }
  if (compared === 0) return { deploy: true, reason: 'nothing_to_score', candidateMae: Number.NaN, currentMae: Number.NaN, points };
  const candidateMae = candidateSum / compared;
  const currentMae = currentSum / compared;
  const deploy = candidateMae < currentMae;
  return { deploy, reason: deploy ? 'candidate_better' : 'current_better_or_equal', candidateMae, currentMae, points };
}
