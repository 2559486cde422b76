import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RegularSeries } from '../../../src/core/index.js';
import { restoreLstm, trainLstm } from '../../../src/forecast/index.js';
import type { ForecastSpec, LstmOptions, TrainedLstm } from '../../../src/forecast/index.js';
import { ModelStore, lstmMetaOf, seriesFolderName } from '../../../src/training/index.js';
import type { MetaToStore, StoreFailure } from '../../../src/training/index.js';

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
