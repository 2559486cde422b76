import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { err, messageOf, ok, SmallFileError, writeDurably } from '../core/index.js';
import type { Result } from '../core/index.js';
import type { z } from 'zod';
import type { GlobalLstmMeta, LstmArtifacts, LstmMeta } from '../forecast/index.js';
import { modelJsonSchema, storedGlobalMetaSchema, storedMetaSchema } from './meta-schema.js';
import type { StoredGlobalMeta, StoredMeta } from './meta-schema.js';
import { checkOwnedDir, isPlainName, readOwnedFile } from './owned-file.js';

/** Why a stored model could not be loaded. */
export type StoreFailureReason = 'missing' | 'corrupt' | 'incompatible';

/** A model that could not be loaded: what, where, and why. */
export interface StoreFailure {
  readonly reason: StoreFailureReason;
  /** Names the file and what is wrong with it. */
  readonly message: string;
  /** The version folder (or series folder when there is no version). */
  readonly path: string;
}

/** What every stored meta.json has, whatever the model. */
export interface StoredMetaBase {
  readonly format: string;
  readonly seriesKey: string;
  readonly createdAtMs: number;
  readonly weightsSha256: string;
}

/** What a store holds: the zod schema of its meta.json and the format tag it writes. */
export interface StoreKind<M extends StoredMetaBase> {
  readonly schema: z.ZodType<M, unknown>;
  readonly format: string;
}

/** Per-series LSTMs (`foresight-lstm/1`). */
export const seriesModels: StoreKind<StoredMeta> = { schema: storedMetaSchema, format: storedMetaSchema.shape.format.value };

/** The global LSTM (`foresight-lstm-global/1`), one for every forecast series. */
export const globalModels: StoreKind<StoredGlobalMeta> = { schema: storedGlobalMetaSchema, format: storedGlobalMetaSchema.shape.format.value };

/** A model read back from the store. */
export interface StoredModel<M extends StoredMetaBase = StoredMeta> {
  readonly artifacts: LstmArtifacts;
  readonly meta: M;
  /** The version folder name. */
  readonly version: string;
  /** The version folder. */
  readonly dir: string;
}

/** The meta fields the caller provides (the LSTM's meta and where it came from); the store adds the weights checksum. */
export type MetaToStore = LstmMeta & { readonly seriesKey: string; readonly createdAtMs: number; readonly trainingDurationSeconds: number };

/** The same for the global model. */
export type GlobalMetaToStore = GlobalLstmMeta & { readonly seriesKey: string; readonly createdAtMs: number; readonly trainingDurationSeconds: number };

/** `current` holds a version name (about 25 bytes). */
const maxPointerBytes = 256;
/** meta.json and model.json: a few KB for an LSTM (the global model's meta lists its series: still far below); anything near this is not ours. */
const maxJsonBytes = 4 * 1024 * 1024;
/** Weights of the largest LSTM the settings allow are a few MB; the manifest may not describe more. */
const maxWeightsBytes = 256 * 1024 * 1024;

/** Versions kept besides the current one, so an operator can roll back by editing `current`. */
const keptOldVersions = 2;

/** A series key as a folder name: "queue/orders/depth" → "queue__orders__depth"; other unsafe characters are %-escaped. */
export function seriesFolderName(seriesKey: string): string {
  return seriesKey
    .split('/')
    .map((part) => part.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`))
    .join('__')
    .replace(/^\.+/, (dots) => '%2e'.repeat(dots.length));
}

const bytesPerValue: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Trained models on disk, under `root` (SCALING_ML_MODEL_PATH, default `models/`):
 * `<root>/<series>/lstm/<version>/{model.json, weights.bin, meta.json}` and a `current` file naming
 * the version in use. Saving is atomic: a version is written into a temporary folder, flushed and
 * renamed into place, then `current` is replaced by rename, so a reader sees the old model or the
 * new one, never half of one (a crash mid-save leaves only a `.tmp-*` folder, ignored and cleaned
 * up by the next save). Loading validates every file and never throws: a missing, corrupt or
 * incompatible model is a `StoreFailure` naming the file, which the caller reports before
 * retraining.
 */
export class ModelStore<M extends StoredMetaBase = StoredMeta> {
  readonly root: string;
  readonly #kind: StoreKind<M>;

  constructor(root: string, kind?: StoreKind<M>) {
    this.root = root;
    this.#kind = kind ?? (seriesModels as unknown as StoreKind<M>);
  }

  /** The folder of a series' LSTM versions. */
  seriesDir(seriesKey: string): string {
    return join(this.root, seriesFolderName(seriesKey), 'lstm');
  }

  /** Saves a model as the series' new current version; returns the version folder. */
  async save(seriesKey: string, artifacts: LstmArtifacts, meta: MetaToStore | GlobalMetaToStore): Promise<{ readonly version: string; readonly dir: string }> {
    const base = this.seriesDir(seriesKey);
    await mkdir(base, { recursive: true });
    const version = `${meta.createdAtMs}-${randomBytes(4).toString('hex')}`;
    const temporary = join(base, `.tmp-${version}`);
    const final = join(base, version);
    const weights = new Uint8Array(artifacts.weightData);
    const stored = { ...meta, weightsSha256: sha256(weights) };
    const modelJson = {
      format: 'layers-model',
      generatedBy: 'foresight',
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    await mkdir(temporary);
    try {
      await writeDurably(join(temporary, 'weights.bin'), weights);
      await writeDurably(join(temporary, 'model.json'), `${JSON.stringify(modelJson)}\n`);
      await writeDurably(join(temporary, 'meta.json'), `${JSON.stringify(stored, null, 2)}\n`);
      await rename(temporary, final);
    } catch (error) {
      await rm(temporary, { recursive: true, force: true });
      throw error;
    }
    const pointer = join(base, `.current-${version}`);
    await writeDurably(pointer, `${version}\n`);
    await rename(pointer, join(base, 'current'));
    await this.#prune(base, version);
    return { version, dir: final };
  }

  /**
   * Loads the series' current model, or says why it cannot. Every file is read as an owned file
   * (owned-file.ts): plain names only, no symbolic links (nor linked folders below the root), regular
   * files, sizes capped (weights.bin at exactly the size model.json's manifest describes). Messages
   * name the files, never their content.
   */
  async load(seriesKey: string): Promise<Result<StoredModel<M>, StoreFailure>> {
    const base = this.seriesDir(seriesKey);
    let version: string;
    try {
      await checkOwnedDir(this.root, base);
      version = (await readOwnedFile(base, 'current', maxPointerBytes, 'the model pointer')).toString('utf8').trim();
    } catch (error) {
      if (error instanceof SmallFileError && error.missing) return err({ reason: 'missing', message: `no trained model for ${seriesKey} (no ${join(base, 'current')})`, path: base });
      return err({ reason: 'corrupt', message: messageOf(error), path: base });
    }
    // Never quoted: `current` may have been replaced by any file, whose content must not reach the log.
    if (!/^[0-9]+-[0-9a-f]{8}$/.test(version)) return err({ reason: 'corrupt', message: `${join(base, 'current')} does not name a model version (<created ms>-<8 hex digits>)`, path: base });
    const dir = join(base, version);
    const fail = (reason: StoreFailureReason, text: string) => err({ reason, message: text, path: dir });
    const readJson = async (name: string): Promise<unknown> => {
      const text = (await readOwnedFile(dir, name, maxJsonBytes, 'the model file')).toString('utf8');
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // JSON.parse quotes the text it choked on: say only that it is not JSON.
        throw new Error(`${join(dir, name)}: not valid JSON`);
      }
    };
    try {
      await checkOwnedDir(this.root, dir);
    } catch (error) {
      return fail('corrupt', messageOf(error));
    }

    let metaJson: unknown;
    try {
      metaJson = await readJson('meta.json');
    } catch (error) {
      return fail('corrupt', messageOf(error));
    }
    const format = typeof metaJson === 'object' && metaJson !== null ? (metaJson as Record<string, unknown>)['format'] : undefined;
    const parsedMeta = this.#kind.schema.safeParse(metaJson);
    if (!parsedMeta.success) {
      // A model written by another version of Foresight is incompatible, not broken: it is retrained the same way.
      const reason: StoreFailureReason = typeof format === 'string' && format !== this.#kind.format ? 'incompatible' : 'corrupt';
      const first = parsedMeta.error.issues[0];
      return fail(reason, `${join(dir, 'meta.json')}: ${first === undefined ? 'invalid' : `${first.path.join('.') || '(root)'}: ${first.message}`}`);
    }
    const meta = parsedMeta.data;
    if (meta.seriesKey !== seriesKey) return fail('incompatible', `${join(dir, 'meta.json')}: the model is for another series than ${seriesKey}`);

    let modelJson: unknown;
    try {
      modelJson = await readJson('model.json');
    } catch (error) {
      return fail('corrupt', messageOf(error));
    }
    const parsedModel = modelJsonSchema.safeParse(modelJson);
    if (!parsedModel.success) return fail('corrupt', `${join(dir, 'model.json')}: not a TensorFlow.js layers model (${parsedModel.error.issues[0]?.message ?? 'invalid'})`);
    const manifest = parsedModel.data.weightsManifest[0]!;
    const weightsName = manifest.paths[0]!;
    if (!isPlainName(weightsName)) return fail('corrupt', `${join(dir, 'model.json')}: weightsManifest.paths must name a file in the version folder, not a path`);
    const expectedBytes = manifest.weights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * (bytesPerValue[w.dtype] ?? 4), 0);
    if (!Number.isSafeInteger(expectedBytes) || expectedBytes > maxWeightsBytes) {
      return fail('corrupt', `${join(dir, 'model.json')}: the manifest describes ${expectedBytes} bytes of weights, more than the ${maxWeightsBytes} allowed`);
    }

    let weights: Uint8Array;
    try {
      weights = new Uint8Array(await readOwnedFile(dir, weightsName, expectedBytes, 'the model weights'));
    } catch (error) {
      return fail('corrupt', messageOf(error));
    }
    if (weights.byteLength !== expectedBytes) {
      return fail('corrupt', `${join(dir, weightsName)}: ${weights.byteLength} bytes, but model.json describes ${expectedBytes}`);
    }
    if (sha256(weights) !== meta.weightsSha256) return fail('corrupt', `${join(dir, weightsName)}: checksum does not match meta.json (the file was altered or damaged)`);
    const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
    return ok({ artifacts: { modelTopology: parsedModel.data.modelTopology, weightSpecs: manifest.weights, weightData }, meta, version, dir });
  }

  /**
   * Moves a bad version aside (to `.corrupt-<version>`, kept for inspection) and forgets it as
   * current, so that the next load reports `missing` and the caller retrains.
   */
  async quarantine(seriesKey: string, failure: StoreFailure): Promise<void> {
    const base = this.seriesDir(seriesKey);
    await rm(join(base, 'current'), { force: true });
    if (failure.path !== base) {
      const name = failure.path.slice(base.length + 1);
      await rename(failure.path, join(base, `.corrupt-${name}`)).catch(() => undefined);
    }
  }

  /** Removes leftover temporary folders and all but the newest old versions. */
  async #prune(base: string, current: string): Promise<void> {
    const entries = await readdir(base);
    const versions = entries.filter((e) => /^[0-9]+-[0-9a-f]{8}$/.test(e) && e !== current).sort();
    const stale = [...entries.filter((e) => e.startsWith('.tmp-') || e.startsWith('.current-')), ...versions.slice(0, Math.max(0, versions.length - keptOldVersions))];
    await Promise.all(stale.map((e) => rm(join(base, e), { recursive: true, force: true })));
  }
}
