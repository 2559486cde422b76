import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefix } from '../../../../src/core/index.js';
import { type lstmFormat, restoreLstm, tensorCount, tensorFlowBackend, trainLstm } from '../../../../src/forecast/index.js';
import type { ForecastSpec, LstmOptions, TrainedLstm } from '../../../../src/forecast/index.js';
import { horizonMae, seriesOf } from '../series-helpers.js';

// A short daily cycle (48 steps of 5 minutes = 4 h "days" via seasonSteps) keeps the test small:
// the network must learn a periodic series it can only forecast from its window and features.
const spec: ForecastSpec = { stepSeconds: 300, seasonSteps: 48, horizonSteps: 3 };
const period = 48;
const series = seriesOf(48 * 14, (i) => 100 + 40 * Math.sin((2 * Math.PI * i) / period) + 10 * Math.sin((2 * Math.PI * i) / 7));
/** Small and quick on two cores: ~2-4 s of training on wasm. */
const small: Partial<LstmOptions> = { lookbackSteps: 16, units: [32], denseUnits: 8, dropout: 0, epochs: 12, batchSize: 32, learningRate: 0.01, maxWindows: 384, seed: 7 };
const trainLength = 48 * 10;

let trained: TrainedLstm;
beforeAll(async () => {
  const result = await trainLstm({ target: prefix(series, trainLength) }, spec, small);
  if (!result.ok) throw new Error(result.error.message);
  trained = result.value;
});
afterAll(() => trained?.dispose());

/** Naive's h-step MAE on the same origins: the bar any learned model must clear on a periodic series. */
function naiveMae(from: number): number {
  const values = series.values;
  const naive = new Float64Array(values.length);
  for (let t = 0; t < values.length; t++) naive[t] = values[t]!;
  return horizonMae(values, naive, spec.horizonSteps, from).mae;
}

describe('LSTM forecaster', () => {
  it('runs on the wasm backend (or tfjs-node when installed), loaded lazily', () => {
    expect(['wasm', 'tensorflow']).toContain(tensorFlowBackend());
    expect(trained.meta.backend).toBe(tensorFlowBackend());
  });

  it('learns a known periodic series within a few epochs: test MAE well below naive', () => {
    const forecasts = trained.forecastEachOrigin(series).value;
    const { mae, count } = horizonMae(series.values, forecasts, spec.horizonSteps, trainLength);
    expect(count).toBeGreaterThan(100);
    // Naive is off by the change over 3 steps (about 16 here); a network that learned the cycle is far closer.
    expect(mae).toBeLessThan(0.5 * naiveMae(trainLength));
  });

  it('forecast() from a history equals forecastEachOrigin() at that origin', () => {
    const each = trained.forecastEachOrigin(series).value;
    for (const t of [trainLength - 1, trainLength + 50, series.values.length - 1]) {
      expect(trained.forecast(prefix(series, t + 1)).value).toBeCloseTo(each[t]!, 4);
    }
  });

  it('never forecasts before a full window (the caller falls back to naive there)', () => {
    const each = trained.forecastEachOrigin(series).value;
    expect(Number.isNaN(each[small.lookbackSteps! - 2]!)).toBe(true);
    expect(Number.isFinite(each[small.lookbackSteps! - 1]!)).toBe(true);
  });

  it('keeps the tensor count stable across forecast cycles (no leak)', () => {
    trained.forecast(series);
    const before = tensorCount();
    for (let cycle = 0; cycle < 5; cycle++) {
      trained.forecast(prefix(series, trainLength + cycle));
      trained.forecastEachOrigin(prefix(series, trainLength + cycle));
    }
    expect(tensorCount()).toBe(before);
  });

  it('save → load gives identical predictions', async () => {
    const artifacts = await trained.exportArtifacts();
    const copy = { ...artifacts, weightData: artifacts.weightData.slice(0) };
    const restored = await restoreLstm(copy, JSON.parse(JSON.stringify(trained.meta)));
    if (!restored.ok) throw new Error(restored.error.message);
    try {
      const a = trained.forecastEachOrigin(series).value;
      const b = restored.value.forecastEachOrigin(series).value;
      expect(Array.from(b)).toEqual(Array.from(a));
    } finally {
      restored.value.dispose();
    }
  });

  it('refuses a meta that does not match the network, as incompatible', async () => {
    const artifacts = await trained.exportArtifacts();
    const wrongShape = await restoreLstm(artifacts, { ...trained.meta, options: { ...trained.meta.options, lookbackSteps: 30 } });
    expect(wrongShape.ok).toBe(false);
    if (!wrongShape.ok) expect(wrongShape.error.reason).toBe('incompatible');
    const wrongFormat = await restoreLstm(artifacts, { ...trained.meta, format: 'other/9' as typeof lstmFormat });
    expect(wrongFormat.ok).toBe(false);
  });

  it('reports corrupt weights as corrupt, not a crash', async () => {
    const artifacts = await trained.exportArtifacts();
    const truncated = { ...artifacts, weightData: artifacts.weightData.slice(0, 100) };
    const result = await restoreLstm(truncated, trained.meta);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.reason).toBe('corrupt');
  });

  it('falls back with a reason when history is under two seasons', async () => {
    const result = await trainLstm({ target: prefix(series, 2 * spec.seasonSteps) }, spec, small);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.reason).toBe('insufficient_history');
      expect(result.error.message).toMatch(/two seasons/);
    }
  });

  it('frees its tensors on dispose', async () => {
    const before = tensorCount();
    const other = await trainLstm({ target: prefix(series, trainLength) }, spec, { ...small, epochs: 1, maxWindows: 64 });
    if (!other.ok) throw new Error(other.error.message);
    other.value.dispose();
    expect(tensorCount()).toBe(before);
  });
});
