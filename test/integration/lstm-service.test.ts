import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/core/index.js';
import { ModelStore } from '../../src/training/index.js';
import { FakeSource } from '../support/fake-source.js';
import { ManualClock } from '../support/manual-clock.js';
import { buildService, configFromYaml } from '../support/service.js';

const key = 'queue/orders/depth';
const SEASON_MS = 4 * 3_600_000;

/**
 * A tiny LSTM (one 8-unit layer, 3 epochs) on two days of 5-minute history: trains in a few seconds.
 * The models run in the model process, as in production: the LSTM's weights travel there to be compared.
 */
const yaml = (modelPath: string) => `
queues: [{ name: orders, threshold: 500 }]
forecast: { model: holt_winters, step: 5m, season: 4h, history: 2d, horizons: [15m], refitInterval: 30m, modelProcess: true }
scaling: { modelPath: ${JSON.stringify(modelPath)}, modelRetrainInterval: 24h }
ml:
  lstm: { enabled: true, lookbackSteps: 24, units: [8], denseUnits: 4, epochs: 3, batchSize: 32, maxWindows: 256, learningRate: 0.01, features: [value, growth, hour_sin, hour_cos], backend: wasm }
`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the service with learned models', () => {
  it('trains in a child process from a cycle, stays responsive, compares on unseen data, and reloads the stored model after a restart', async () => {
    const modelPath = mkdtempSync(join(tmpdir(), 'foresight-models-'));
    dirs.push(modelPath);
    const config = configFromYaml(yaml(modelPath));
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
    const samples: Sample[] = [];
    for (let t = clock.nowMs() - 3 * 86_400_000; t <= clock.nowMs() + 86_400_000; t += 300_000) {
      samples.push({ timestampMs: t, value: 200 + 80 * Math.sin((2 * Math.PI * t) / SEASON_MS) });
    }
    const service = buildService(config, { clock, source: new FakeSource().set({ kind: 'queue', queue: 'orders', metric: 'depth' }, samples) });
    let trainedAtMs = Number.NaN;
    try {
      const first = await service.reconciler.runCycle();
      trainedAtMs = first.startedAtMs;
      // The cycle returned while training runs in the background; the baseline serves meanwhile.
      expect(first.learnedModels?.find((s) => s.seriesKey === key)?.state).toBe('training');
      expect(first.forecasts.find((f) => f.seriesKey === key)?.model).not.toBe('lstm');

      // While the worker trains, the HTTP API answers and says so (events, not durations:
      // docs/testing.md). A few answers show it; asking without pause until the end would take the
      // CPU the low-priority training child needs, and on busy cores make it train for minutes.
      const idle = service.models.whenIdle();
      let answeredWhileTraining = 0;
      let done = false;
      void idle.then(() => (done = true));
      while (!done && answeredWhileTraining < 3) {
        const res = await request(service.api).get('/scaling/ml/accuracy');
        expect(res.status).toBe(200);
        if (res.body.learnedModels?.series?.[0]?.state === 'training') answeredWhileTraining += 1;
      }
      await idle;
      expect(answeredWhileTraining).toBeGreaterThan(1);

      clock.advance(300);
      const second = await service.reconciler.runCycle();
      const fresh = second.learnedModels?.find((s) => s.seriesKey === key);
      expect(fresh, JSON.stringify(second.learnedModels)).toMatchObject({ model: 'lstm', state: 'serving' });
      expect(fresh?.trainedAtMs).toBe(first.startedAtMs);
      // The global model never trained on its held-out newest origins: those are all it can be judged on yet.
      if (fresh?.servesForecasts !== true) expect(fresh?.notServingReason).toMatch(/^only \d+ origins after the learned model's training data|better or equal/);

      // 11 hours later (a refit later): 129 five-minute origins it never saw, enough to compare on.
      clock.advance(11 * 3600);
      // That cycle finds the baseline's refit due and queues it; the model process refits in the
      // background, and the cycle after serves the new fit and compares the learned model with it.
      await service.reconciler.runCycle();
      await service.modelHost.refitsDone();
      const third = await service.reconciler.runCycle();
      const status = third.learnedModels?.find((s) => s.seriesKey === key);
      expect(typeof status?.servesForecasts).toBe('boolean');
      expect(Number.isFinite(status?.validationMase)).toBe(true);
      expect(Number.isFinite(status?.baselineValidationMase)).toBe(true);
      expect(third.accuracy.find((a) => a.seriesKey === key && a.model === 'lstm')?.points).toBeGreaterThanOrEqual(11 * 12 - 3);
      const served = third.forecasts.find((f) => f.seriesKey === key)!;
      // The LSTM is one more candidate of the baseline's per-series selection (forecast.model, `auto` by
      // default): it serves only where it won on validation, and says so.
      expect(served.model).toBe(status?.servesForecasts === true ? 'lstm' : config.forecast.model);
      expect(served.selection?.why === 'learned_beats_baseline').toBe(status?.servesForecasts === true);
      if (status?.servesForecasts !== true) expect(status?.notServingReason).toMatch(/better or equal/);

      // Stored under scaling.modelPath.
      // One global model for every series, in <modelPath>/global/lstm/.
      const dir = new ModelStore(modelPath).seriesDir('global');
      expect(existsSync(dir)).toBe(true);
      const files = readdirSync(dir, { recursive: true }).map(String);
      expect(files.some((f) => f.endsWith('model.json'))).toBe(true);
      expect(files.some((f) => f.endsWith('meta.json'))).toBe(true);

      const api = await request(service.api).get('/scaling/ml/accuracy');
      expect(api.body.learnedModels).toMatchObject({ enabled: true, series: [{ series: key, model: 'lstm', state: 'serving' }] });
      const metrics = await request(service.api).get('/metrics');
      expect(metrics.text).toMatch(new RegExp(`foresight_model_trained_timestamp_seconds\\{series="${key.replaceAll('/', '\\/')}",model="lstm"\\} ${first.startedAtMs / 1000}`));
      expect(metrics.text).toMatch(/foresight_model_training_duration_seconds_count\{model="lstm"\} 1/);
      // The service holds the lifecycle's restored model; the model process holds one only while it serves forecasts.
      expect(metrics.text).toMatch(/foresight_tfjs_tensors\{process="service"\} [1-9]/);
      const modelTensors = Number(/foresight_tfjs_tensors\{process="model"\} (\d+)/.exec(metrics.text)?.[1]);
      if (status?.servesForecasts === true) expect(modelTensors).toBeGreaterThan(0);
      else expect(modelTensors).toBe(0);
    } finally {
      await service.stop();
    }

    // A restart: the stored model is loaded (not retrained) and its training time is published again.
    const restarted = buildService(config, { clock, source: new FakeSource().set({ kind: 'queue', queue: 'orders', metric: 'depth' }, samples) });
    try {
      const cycle = await restarted.reconciler.runCycle();
      expect(cycle.learnedModels?.find((s) => s.seriesKey === key)).toMatchObject({ state: 'serving', trainedAtMs: trainedAtMs });
      const metrics = await request(restarted.api).get('/metrics');
      expect(metrics.text).toMatch(new RegExp(`foresight_model_trained_timestamp_seconds\\{series="${key.replaceAll('/', '\\/')}",model="lstm"\\} ${trainedAtMs / 1000}`));
      expect(metrics.text).not.toMatch(/foresight_model_training_duration_seconds_count\{model="lstm"\} [1-9]/);
    } finally {
      await restarted.stop();
    }
  });
});
