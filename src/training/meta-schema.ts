import { z } from 'zod';
import { featureNames, globalLstmFormat, lstmFormat } from '../forecast/index.js';
import type { GlobalLstmMeta, LstmMeta } from '../forecast/index.js';

/** JSON has no NaN: a number that may be undefined is written as null and read back as NaN. */
const maybeNumber = z
  .number()
  .nullable()
  .transform((value) => (value === null ? Number.NaN : value));

const positiveInt = z.number().int().positive();

const specSchema = z.strictObject({
  stepSeconds: z.number().positive(),
  seasonSteps: positiveInt,
  horizonSteps: positiveInt,
});

const optionsSchema = z.strictObject({
  lookbackSteps: positiveInt,
  features: z.array(z.enum(featureNames)).min(1),
  units: z.array(positiveInt).min(1),
  dropout: z.number().min(0).lt(1),
  denseUnits: positiveInt,
  epochs: positiveInt,
  batchSize: positiveInt,
  learningRate: z.number().positive(),
  maxWindows: positiveInt,
  validationFraction: z.number().gt(0).lt(1),
  seed: z.number().int(),
});

const validationSchema = z.strictObject({
  mae: maybeNumber,
  wape: maybeNumber,
  mase: maybeNumber,
  coverage: maybeNumber,
  count: z.number().int().nonnegative(),
  q10: z.number(),
  q90: z.number(),
  firstOrigin: z.number().int().nonnegative(),
});

const normalizationSchema = z.strictObject({ names: z.array(z.string()), mean: z.array(z.number()), std: z.array(z.number()) });
const trainingWindowSchema = z.strictObject({ startMs: z.number(), endMs: z.number(), points: positiveInt, windows: positiveInt });

/** What every stored LSTM's meta.json has: where it came from, its weights' checksum, its grid and shape. */
const storedFields = {
  model: z.literal('lstm'),
  seriesKey: z.string().min(1),
  createdAtMs: z.number().int().nonnegative(),
  trainingDurationSeconds: z.number().nonnegative(),
  /** SHA-256 of weights.bin, hex: catches a weights file that was cut short or altered. */
  weightsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  spec: specSchema,
  options: optionsSchema,
};

/**
 * meta.json of a stored LSTM: everything `restoreLstm` needs besides the weights, plus where the
 * model came from (series, creation time, training time); `validation` holds its backtest scores
 * on the held-out newest origins it never trained on. Parsed with zod at
 * load time, so a hand-edited or truncated file is reported, never trusted.
 */
export const storedMetaSchema = z.strictObject({
  format: z.literal(lstmFormat),
  ...storedFields,
  normalization: normalizationSchema,
  targetScale: z.number().positive(),
  trainingWindow: trainingWindowSchema,
  validation: validationSchema,
  finalLoss: maybeNumber,
  backend: z.enum(['tensorflow', 'wasm', 'cpu']),
});

/** A parsed meta.json. */
export type StoredMeta = z.output<typeof storedMetaSchema>;

/** The LSTM part of a stored meta (what `restoreLstm` takes). */
export function lstmMetaOf(meta: StoredMeta): LstmMeta {
  return {
    format: meta.format,
    model: meta.model,
    spec: meta.spec,
    options: meta.options,
    normalization: meta.normalization,
    targetScale: meta.targetScale,
    trainingWindow: meta.trainingWindow,
    validation: meta.validation,
    finalLoss: meta.finalLoss,
    backend: meta.backend,
  };
}

/** model.json as TensorFlow.js writes it (a layers model with one weights file). */
export const modelJsonSchema = z.object({
  format: z.literal('layers-model'),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z
    .array(
      z.object({
        paths: z.array(z.string()).length(1),
        weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), dtype: z.enum(['float32', 'int32', 'bool']) }).loose()),
      }),
    )
    .length(1),
});

/**
 * meta.json of the stored global LSTM (one network for every forecast series): the shape, and per
 * series the normalisation, target scale, training window and held-out scores. Stored under the
 * key `globalModelKey`.
 */
export const storedGlobalMetaSchema = z.strictObject({
  format: z.literal(globalLstmFormat),
  ...storedFields,
  series: z.record(
    z.string().min(1),
    z.strictObject({
      normalization: normalizationSchema,
      targetScale: z.number().positive(),
      trainingWindow: trainingWindowSchema,
      trainedThroughMs: z.number(),
      validation: validationSchema,
    }),
  ),
  skipped: z.record(z.string(), z.string()),
  mode: z.enum(['scratch', 'fine_tune']),
  fineTunes: z.number().int().nonnegative(),
  windowPasses: z.number().int().nonnegative(),
  finalLoss: maybeNumber,
  backend: z.enum(['tensorflow', 'wasm', 'cpu']),
});

/** A parsed global meta.json. */
export type StoredGlobalMeta = z.output<typeof storedGlobalMetaSchema>;

/** The store key of the global model (its folder: `<model path>/global/lstm/`). */
export const globalModelKey = 'global';

/** The model part of a stored global meta (what `restoreGlobalLstm` takes). */
export function globalLstmMetaOf(meta: StoredGlobalMeta): GlobalLstmMeta {
  const { seriesKey: _key, createdAtMs: _created, trainingDurationSeconds: _duration, weightsSha256: _sha, ...rest } = meta;
  return rest;
}
