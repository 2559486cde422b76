/**
 * The composition root's adapter from training's ModelLifecycle to the engine's LearnedModels port:
 * a stored LSTM is loaded, and its forecasts come from the model process (a real child), which
 * receives its weights once, and again after the process was restarted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { learnedModelsOf } from '../../src/app/index.js';
import type { RegularSeries } from '../../src/core/index.js';
import { ProcessModelHost } from '../../src/engine/index.js';
import { type ForecastSpec, type TrainedGlobalLstm, type TrainedLstm, trainGlobalLstm } from '../../src/forecast/index.js';
import { globalMetaToStore, globalModelKey, globalModels, ModelLifecycle, ModelStore } from '../../src/training/index.js';
import { childPids } from '../support/processes.js';

const key = 'queue/orders/depth';
const spec: ForecastSpec = { stepSeconds: 300, seasonSteps: 48, horizonSteps: 3 };
const series: RegularSeries = { startMs: 1_700_000_000_000, stepSeconds: 300, values: Float64Array.from({ length: 48 * 8 }, (_, i) => 100 + 40 * Math.sin((2 * Math.PI * i) / 48)) };

let root = '';
let global: TrainedGlobalLstm;
let trained: TrainedLstm;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'foresight-adapter-'));
  const result = await trainGlobalLstm([{ key, inputs: { target: series } }], spec, { lookbackSteps: 12, units: [8], denseUnits: 4, epochs: 2, maxWindows: 128, seed: 5 }, { backend: 'wasm' });
  if (!result.ok) throw new Error(result.error.message);
  global = result.value;
  trained = global.forSeries(key)!;
  await new ModelStore(root, globalModels).save(globalModelKey, await global.exportArtifacts(), globalMetaToStore(global.meta, 1_700_000_000_000, 1));
});
afterAll(async () => {
  global?.dispose();
  await rm(root, { recursive: true, force: true });
});

/** The model process's pid (found through the OS: the host does not expose it). */
const modelProcessPid = (): number | undefined => childPids('model-process-entry')[0];

describe('learnedModelsOf (the service adapter)', () => {
  it('forecasts with the stored model in the model process, and sends the weights again after a restart', async () => {
    const lifecycle = new ModelLifecycle({
      store: new ModelStore(root, globalModels),
      lstm: () => ({}),
      fineTune: () => ({ epochs: 1, maxWindows: 64 }),
      retrainIntervalSeconds: () => 86_400,
      accuracyThresholdPercent: () => 0,
      backend: 'wasm',
    });
    // The host says when its process ended: the test waits for that event, not for a time.
    let hostSawExit: () => void = () => undefined;
    const hostNoticedExit = new Promise<void>((resolve) => {
      hostSawExit = resolve;
    });
    const host = new ProcessModelHost({ onExit: () => hostSawExit() });
    try {
      // Counts the host's learnedPoints calls: one per latest() unless the host lacked a model's weights.
      let pointCalls = 0;
      const learnedPoints = host.learnedPoints.bind(host);
      host.learnedPoints = (request) => {
        pointCalls += 1;
        return learnedPoints(request);
      };
      const learned = learnedModelsOf(lifecycle, host, () => 'wasm');
      await learned.load(key);
      const expected = trained.forecast(series);
      expect(await learned.latest([{ seriesKey: key, series }])).toEqual([expected]);
      expect(
        await learned.latest([
          { seriesKey: key, series },
          { seriesKey: 'queue/none/depth', series },
        ]),
      ).toEqual([expected, undefined]);
      // A cycle that lists no learned series frees the model in the host; listed again, its weights
      // go with the first request (the adapter forgot it too), not after a `missing` round trip.
      expect(await learned.latest([])).toEqual([]);
      pointCalls = 0;
      expect(await learned.latest([{ seriesKey: key, series }])).toEqual([expected]);
      expect(pointCalls).toBe(1);
      const pid = modelProcessPid();
      expect(pid).toBeGreaterThan(0);
      process.kill(pid!, 'SIGKILL');
      await hostNoticedExit;
      // A new process holds nothing: it answers `missing`, and the adapter sends the weights again.
      expect(await learned.latest([{ seriesKey: key, series }])).toEqual([expected]);
      expect(modelProcessPid()).not.toBe(pid);
      // The comparison path: forecasts at every origin from 200 on, NaN before.
      const each = await learned.serving(key)!.forecastsFrom(series, 200);
      expect(Number.isNaN(each.value[199]!)).toBe(true);
      expect(Array.from(each.value.slice(200))).toEqual(Array.from(trained.forecastInputsEachOrigin({ target: series }, 200).value.slice(200)));
    } finally {
      await host.close();
      await lifecycle.close();
    }
  });
});
