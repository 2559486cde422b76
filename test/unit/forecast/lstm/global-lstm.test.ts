import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegularSeries } from '../../../../src/core/index.js';
import { globalLstmFormat, restoreGlobalLstm, shadowEvaluateGlobal, trainGlobalLstm } from '../../../../src/forecast/index.js';
import type { ForecastSpec, GlobalSeriesInput, LstmOptions, TrainedGlobalLstm } from '../../../../src/forecast/index.js';
import { globalLstmMetaOf, globalMetaToStore, globalModelKey, globalModels, ModelStore } from '../../../../src/training/index.js';
import { horizonMae, seriesOf } from '../series-helpers.js';

// Two periodic series two orders of magnitude apart, on a short "day" (48 steps of 5 minutes):
// one network must forecast both, which it can only do with per-series scaling.
const spec: ForecastSpec = { stepSeconds: 300, seasonSteps: 48, horizonSteps: 3 };
const length = 48 * 10;
const big = (i: number) => 1000 + 400 * Math.sin((2 * Math.PI * i) / 48) + 60 * Math.sin((2 * Math.PI * i) / 7);
const small = (i: number) => 5 + 2 * Math.cos((2 * Math.PI * i) / 48) + 0.3 * Math.sin((2 * Math.PI * i) / 11);
const seriesFor = (n: number, offset = 0): GlobalSeriesInput[] => [
  { key: 'queue/big/depth', inputs: { target: seriesOf(n, (i) => big(i + offset)) } },
  { key: 'queue/small/depth', inputs: { target: seriesOf(n, (i) => small(i + offset)) } },
];
/** Small and quick on two cores (a few seconds on wasm). */
const tiny: Partial<LstmOptions> = { lookbackSteps: 16, units: [16], denseUnits: 8, dropout: 0, epochs: 10, batchSize: 32, learningRate: 0.01, maxWindows: 512, seed: 3 };

const dirs: string[] = [];
let model: TrainedGlobalLstm;
beforeAll(async () => {
  const result = await trainGlobalLstm(seriesFor(length), spec, tiny);
  if (!result.ok) throw new Error(result.error.message);
  model = result.value;
});
afterAll(() => {
  model?.dispose();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The naive h-step MAE (the last value) on the origins from `from`: the bar on a periodic series. */
function naiveMae(series: RegularSeries, from: number): number {
  return horizonMae(series.values, Float64Array.from(series.values), spec.horizonSteps, from).mae;
}

describe('global LSTM', () => {
  it('learns two periodic series of different scales with one network, well below naive on held-out data', () => {
    for (const { key, inputs } of seriesFor(length)) {
      const view = model.forSeries(key)!;
      const from = view.meta.validation.firstOrigin;
      const forecasts = view.forecastInputsEachOrigin(inputs, from).value;
      const { mae, count } = horizonMae(inputs.target.values, forecasts, spec.horizonSteps, from);
      expect(count).toBeGreaterThan(50);
      // Naive is off by the cycle's swing over 3 steps; the network follows the cycle (measured: about 0.5×).
      expect(mae).toBeLessThan(0.7 * naiveMae(inputs.target, from));
    }
    // Each series keeps its own scale: the targets are scaled per series.
    expect(model.meta.series['queue/big/depth']!.targetScale).toBeGreaterThan(50 * model.meta.series['queue/small/depth']!.targetScale);
    expect(model.meta.mode).toBe('scratch');
  });

  it('save → load gives identical predictions', async () => {
    const root = mkdtempSync(join(tmpdir(), 'foresight-global-'));
    dirs.push(root);
    const store = new ModelStore(root, globalModels);
    await store.save(globalModelKey, await model.exportArtifacts(), globalMetaToStore(model.meta, 1_700_000_000_000, 1));
    const loaded = await store.load(globalModelKey);
    if (!loaded.ok) throw new Error(loaded.error.message);
    const restored = await restoreGlobalLstm(loaded.value.artifacts, globalLstmMetaOf(loaded.value.meta));
    if (!restored.ok) throw new Error(restored.error.message);
    try {
      for (const { key, inputs } of seriesFor(length)) {
        const before = model.forSeries(key)!.forecastInputsEachOrigin(inputs, 100).value;
        const after = restored.value.forSeries(key)!.forecastInputsEachOrigin(inputs, 100).value;
        expect(Array.from(after)).toEqual(Array.from(before));
        expect(restored.value.forSeries(key)!.meta).toEqual(model.forSeries(key)!.meta);
      }
    } finally {
      restored.value.dispose();
    }
  });

  it('fine-tuning on new data changes the weights and keeps the format, the shapes and the known scales', async () => {
    const base = { artifacts: await model.exportArtifacts(), meta: model.meta };
    // The same series two "hours" (24 steps) later: the newest origins are new to the model.
    const later = seriesFor(length, 24).map((s) => ({ ...s, inputs: { target: { ...s.inputs.target, startMs: s.inputs.target.startMs + 24 * 300_000 } } }));
    const tuned = await trainGlobalLstm(later, spec, {}, {}, { base, epochs: 2, maxWindows: 128 });
    if (!tuned.ok) throw new Error(tuned.error.message);
    try {
      const next = await tuned.value.exportArtifacts();
      expect(next.weightSpecs).toEqual(base.artifacts.weightSpecs);
      expect(next.weightData.byteLength).toBe(base.artifacts.weightData.byteLength);
      expect(Buffer.from(next.weightData).equals(Buffer.from(base.artifacts.weightData))).toBe(false);
      const meta = tuned.value.meta;
      expect(meta.format).toBe(globalLstmFormat);
      expect(meta.mode).toBe('fine_tune');
      expect(meta.fineTunes).toBe(1);
      expect(meta.options).toEqual(model.meta.options);
      for (const key of Object.keys(model.meta.series)) {
        expect(meta.series[key]!.normalization).toEqual(model.meta.series[key]!.normalization);
        expect(meta.series[key]!.targetScale).toBe(model.meta.series[key]!.targetScale);
        expect(meta.series[key]!.trainedThroughMs).toBeGreaterThan(model.meta.series[key]!.trainedThroughMs);
      }
      // Only new windows and as many replayed ones: far fewer than a training from scratch.
      expect(meta.windowPasses).toBeLessThanOrEqual(2 * 128 + 4);
      // The fine-tuned model is stored and restored like any other.
      const restored = await restoreGlobalLstm(next, meta);
      if (!restored.ok) throw new Error(restored.error.message);
      restored.value.dispose();
      // Shadow evaluation compares the two on the new model's held-out origins.
      const shadow = shadowEvaluateGlobal(model, tuned.value, later);
      expect(shadow.points).toBeGreaterThan(0);
      expect(Number.isFinite(shadow.candidateMae) && Number.isFinite(shadow.currentMae)).toBe(true);
    } finally {
      tuned.value.dispose();
    }
  });

  it('never looks ahead: changing the target and covariates after an origin changes no forecast up to it', () => {
    const [first] = seriesFor(length);
    const inputs = first!.inputs;
    const origin = 300;
    const altered = Float64Array.from(inputs.target.values, (v, i) => (i > origin ? v * 3 + 17 : v));
    const view = model.forSeries(first!.key)!;
    const before = view.forecastInputsEachOrigin(inputs, 200).value;
    const after = view.forecastInputsEachOrigin({ target: { ...inputs.target, values: altered } }, 200).value;
    expect(Array.from(after.subarray(200, origin + 1))).toEqual(Array.from(before.subarray(200, origin + 1)));
    expect(after[origin + 10]).not.toBe(before[origin + 10]);
  });

  it('lists the series it could not train on, and fails only when none can be', async () => {
    const short = { key: 'queue/new/depth', inputs: { target: seriesOf(40, () => 1) } };
    const none = await trainGlobalLstm([short], spec, tiny);
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.error.reason).toBe('insufficient_history');
    expect(model.forSeries('queue/new/depth')).toBeUndefined();
  });
});
