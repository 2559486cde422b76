import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RegularSeries } from '../../../src/core/index.js';
import { restoreLstm, shadowEvaluate, trainLstm } from '../../../src/forecast/index.js';
import type { ForecastSpec, LstmOptions, TrainedLstm } from '../../../src/forecast/index.js';
import { ModelLifecycle, ModelStore, lstmMetaOf, seriesFolderName } from '../../../src/training/index.js';
import type { MetaToStore, StoreFailure, TrainingJob, TrainingOutcome } from '../../../src/training/index.js';

const spec: ForecastSpec = { stepSeconds: 300, seasonSteps: 48, horizonSteps: 3 };
const values = Float64Array.from({ length: 48 * 10 }, (_, i) => 100 + 40 * Math.sin((2 * Math.PI * i) / 48));
const series: RegularSeries = { startMs: 1_700_000_000_000, stepSeconds: 300, values };
const small: Partial<LstmOptions> = { lookbackSteps: 12, units: [8], denseUnits: 4, dropout: 0, epochs: 3, batchSize: 32, learningRate: 0.01, maxWindows: 128, seed: 3 };
const key = 'queue/orders/depth';

let root = '';
let trained: TrainedLstm;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'foresight-models-'));
  const result = await trainLstm({ target: series }, spec, small);
  if (!result.ok) throw new Error(result.error.message);
  trained = result.value;
});
afterAll(async () => {
  trained?.dispose();
  await rm(root, { recursive: true, force: true });
});

const metaOf = (model: TrainedLstm, createdAtMs = 1_700_000_000_000): MetaToStore => ({ ...model.meta, seriesKey: key, createdAtMs, trainingDurationSeconds: 1.5 });

describe('ModelStore', () => {
  it('names folders after series keys safely', () => {
    expect(seriesFolderName('queue/orders/depth')).toBe('queue__orders__depth');
    expect(seriesFolderName('../x')).toBe('%2e%2e__x');
    expect(seriesFolderName('a b/c')).toBe('a%20b__c');
  });

  it('save → load → identical predictions, with model.json + weights.bin + meta.json', async () => {
    const store = new ModelStore(join(root, 'roundtrip'));
    const { dir } = await store.save(key, await trained.exportArtifacts(), metaOf(trained));
    expect((await readdir(dir)).sort()).toEqual(['meta.json', 'model.json', 'weights.bin']);
    const loaded = await store.load(key);
    if (!loaded.ok) throw new Error(loaded.error.message);
    expect(loaded.value.meta.seriesKey).toBe(key);
    expect(loaded.value.meta.createdAtMs).toBe(1_700_000_000_000);
    const restored = await restoreLstm(loaded.value.artifacts, lstmMetaOf(loaded.value.meta));
    if (!restored.ok) throw new Error(restored.error.message);
    try {
      expect(Array.from(restored.value.forecastEachOrigin(series).value)).toEqual(Array.from(trained.forecastEachOrigin(series).value));
    } finally {
      restored.value.dispose();
    }
  });

  it('replaces the current version atomically and keeps two old ones', async () => {
    const store = new ModelStore(join(root, 'versions'));
    const artifacts = await trained.exportArtifacts();
    for (let i = 0; i < 5; i++) await store.save(key, artifacts, metaOf(trained, 1_700_000_000_000 + i));
    const entries = (await readdir(store.seriesDir(key))).sort();
    const versions = entries.filter((e) => /^\d+-[0-9a-f]{8}$/.test(e));
    expect(versions).toHaveLength(3);
    expect(entries.filter((e) => e.startsWith('.tmp-'))).toEqual([]);
    const current = (await readFile(join(store.seriesDir(key), 'current'), 'utf8')).trim();
    expect(current).toBe(versions[versions.length - 1]);
  });

  const corruptions: readonly { name: string; file: string; damage: (text: Buffer) => Buffer | string; reason: StoreFailure['reason']; message: RegExp }[] = [
    { name: 'truncated weights', file: 'weights.bin', damage: (b) => b.subarray(0, 10), reason: 'corrupt', message: /weights\.bin: 10 bytes/ },
    { name: 'altered weights', file: 'weights.bin', damage: (b) => Buffer.from(b.map((x, i) => (i === 0 ? x ^ 1 : x))), reason: 'corrupt', message: /checksum/ },
    { name: 'meta.json not JSON', file: 'meta.json', damage: () => '{"format": ', reason: 'corrupt', message: /meta\.json/ },
    { name: 'meta.json missing a field', file: 'meta.json', damage: (b) => JSON.stringify({ ...JSON.parse(b.toString()), targetScale: undefined }), reason: 'corrupt', message: /targetScale/ },
    { name: 'another format', file: 'meta.json', damage: (b) => JSON.stringify({ ...JSON.parse(b.toString()), format: 'foresight-lstm/0' }), reason: 'incompatible', message: /format/ },
    { name: 'model.json not a layers model', file: 'model.json', damage: () => '{"format":"graph-model"}', reason: 'corrupt', message: /model\.json/ },
  ];
  it.each(corruptions)('reports $name as $reason, naming the file', async ({ file, damage, reason, message }) => {
    const store = new ModelStore(join(root, `corrupt-${file}-${reason}-${Math.random().toString(36).slice(2)}`));
    const { dir } = await store.save(key, await trained.exportArtifacts(), metaOf(trained));
    await writeFile(join(dir, file), damage(await readFile(join(dir, file))));
    const loaded = await store.load(key);
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) {
      expect(loaded.error.reason).toBe(reason);
      expect(loaded.error.message).toMatch(message);
    }
  });

  it('reports a missing model as missing', async () => {
    const loaded = await new ModelStore(join(root, 'empty')).load(key);
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.error.reason).toBe('missing');
  });
});

describe('ModelLifecycle', () => {
  /** Trains in-process (the worker path has its own test) and shadow-evaluates like the worker does. */
  const inProcess = async (job: TrainingJob): Promise<TrainingOutcome> => {
    const result = await trainLstm(job.inputs, job.spec, job.options);
    if (!result.ok) return { ok: false, seriesKey: job.seriesKey, failure: result.error, durationSeconds: 0 };
    let current: TrainedLstm | undefined;
    if (job.current !== undefined) {
      const restored = await restoreLstm(job.current.artifacts, job.current.meta);
      if (restored.ok) current = restored.value;
    }
    const shadow = shadowEvaluate(current, result.value, job.inputs.target, result.value.meta.validation.firstOrigin);
    current?.dispose();
    const artifacts = await result.value.exportArtifacts();
    result.value.dispose();
    return { ok: true, seriesKey: job.seriesKey, artifacts, meta: result.value.meta, shadow, durationSeconds: 0.1 };
  };

  it('reports a corrupt model, falls back (no model) and retrains a working one', async () => {
    const store = new ModelStore(join(root, 'lifecycle'));
    const { dir } = await store.save(key, await trained.exportArtifacts(), metaOf(trained));
    await writeFile(join(dir, 'weights.bin'), 'garbage');
    const unusable: string[] = [];
    const finished: boolean[] = [];
    const lifecycle = new ModelLifecycle({
      store,
      lstm: () => small,
      retrainIntervalSeconds: () => 86_400,
      accuracyThresholdPercent: () => 70,
      train: inProcess,
      events: { modelUnusable: (_k, f) => unusable.push(f.reason), trainingFinished: (_k, r) => finished.push(r.deployed) },
    });
    await lifecycle.load(key);
    expect(unusable).toEqual(['corrupt']);
    // No model: the engine serves the baselines, and the reason is visible.
    expect(lifecycle.serving(key)).toBeUndefined();
    expect(lifecycle.status()[0]?.unavailableReason).toMatch(/weights\.bin/);
    expect((await readdir(store.seriesDir(key))).some((e) => e.startsWith('.corrupt-'))).toBe(true);

    const decision = lifecycle.tick(key, { target: series }, spec, 1_800_000_000_000);
    expect(decision).toEqual({ retrain: true, reason: 'no_model' });
    expect(lifecycle.tick(key, { target: series }, spec, 1_800_000_000_000).reason).toBe('training_in_progress');
    await lifecycle.whenIdle();
    expect(finished).toEqual([true]);
    const serving = lifecycle.serving(key);
    expect(serving).toBeDefined();
    expect(Number.isFinite(serving!.forecast(series).value)).toBe(true);
    // The retrained model was saved: a fresh lifecycle loads it.
    const reloaded = await store.load(key);
    expect(reloaded.ok).toBe(true);
    await lifecycle.close();
  });

  it('reports a model restored from disk through modelLoaded (once), and not a corrupt one', async () => {
    const store = new ModelStore(join(root, 'loaded'));
    await store.save(key, await trained.exportArtifacts(), metaOf(trained, 1_700_000_123_000));
    const corruptKey = 'queue/other/depth';
    const { dir } = await store.save(corruptKey, await trained.exportArtifacts(), { ...metaOf(trained), seriesKey: corruptKey });
    await writeFile(join(dir, 'weights.bin'), 'garbage');
    const loaded: { seriesKey: string; trainedAtMs: number; lookbackSteps: number; servingMeta: boolean }[] = [];
    const lifecycle = new ModelLifecycle({
      store,
      lstm: () => small,
      retrainIntervalSeconds: () => 86_400,
      accuracyThresholdPercent: () => 70,
      train: inProcess,
      events: {
        modelLoaded: (seriesKey, meta, trainedAtMs) => loaded.push({ seriesKey, trainedAtMs, lookbackSteps: meta.options.lookbackSteps, servingMeta: meta === lifecycle.serving(seriesKey)?.meta }),
      },
    });
    await lifecycle.load(key);
    await lifecycle.load(key);
    await lifecycle.load(corruptKey);
    expect(loaded).toEqual([{ seriesKey: key, trainedAtMs: 1_700_000_123_000, lookbackSteps: small.lookbackSteps, servingMeta: true }]);
    expect(lifecycle.status().find((s) => s.seriesKey === key)).toMatchObject({ trainedAtMs: 1_700_000_123_000, training: false, queued: false });
    await lifecycle.close();
  });

  it('keeps the serving model when the new one does not beat it on the held-out window', async () => {
    const store = new ModelStore(join(root, 'shadow'));
    await store.save(key, await trained.exportArtifacts(), metaOf(trained));
    const lifecycle = new ModelLifecycle({
      store,
      // One epoch from scratch cannot beat the trained model.
      lstm: () => ({ ...small, epochs: 1, learningRate: 0.0001, seed: 99 }),
      retrainIntervalSeconds: () => 3600,
      accuracyThresholdPercent: () => 70,
      train: inProcess,
    });
    await lifecycle.load(key);
    const before = lifecycle.serving(key);
    expect(before).toBeDefined();
    const decision = lifecycle.tick(key, { target: series }, spec, 1_700_000_000_000 + 2 * 3600 * 1000);
    expect(decision.reason).toBe('interval_elapsed');
    await lifecycle.whenIdle();
    const report = lifecycle.status()[0]!.lastReport!;
    expect(report.deployed).toBe(false);
    expect(report.shadow?.reason).toBe('current_better_or_equal');
    expect(report.shadow!.candidateMae).toBeGreaterThan(report.shadow!.currentMae);
    expect(lifecycle.serving(key)).toBe(before);
    await lifecycle.close();
  });
});
