import { describe, expect, it } from 'vitest';
import { childPids } from '../support/processes.js';
import type { RegularSeries } from '../../src/core/index.js';
import { restoreGlobalLstm } from '../../src/forecast/index.js';
import type { ForecastSpec, LstmProgress } from '../../src/forecast/index.js';
import { runTrainingInWorker } from '../../src/training/index.js';

const spec: ForecastSpec = { stepSeconds: 300, seasonSteps: 48, horizonSteps: 3 };
const series: RegularSeries = {
  startMs: 1_700_000_000_000,
  stepSeconds: 300,
  values: Float64Array.from({ length: 48 * 12 }, (_, i) => 100 + 40 * Math.sin((2 * Math.PI * i) / 48)),
};

describe('training in a low-priority child process', () => {
  it('trains off the event loop: in a child process, while this thread keeps handling events', async () => {
    const progress: LstmProgress[] = [];
    // Events, not durations (docs/testing.md): at the first epoch's progress the training child is
    // running, and work queued on this thread then runs before training ends. Training on this
    // thread would run every epoch before anything queued here.
    let trainingChildren: number[] = [];
    let epochsWhenQueuedWorkRan: number | undefined;
    const outcome = await runTrainingInWorker(
      {
        seriesKey: 'global',
        series: [{ key: 'queue/q/depth', inputs: { target: series } }],
        spec,
        options: { lookbackSteps: 24, units: [16], denseUnits: 8, epochs: 6, maxWindows: 384, learningRate: 0.01, seed: 5 },
      },
      {
        onProgress: (p) => {
          progress.push(p);
          if (p.epoch !== 1) return;
          trainingChildren = childPids('training-worker');
          setImmediate(() => {
            epochsWhenQueuedWorkRan = progress.length;
          });
        },
      },
    );
    if (!outcome.ok) throw new Error(`${outcome.failure.reason}: ${outcome.failure.message}`);
    expect(progress.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(trainingChildren).toHaveLength(1);
    expect(epochsWhenQueuedWorkRan).toBeLessThan(6);
    expect(outcome.shadow.reason).toBe('no_current_model');
    expect(outcome.shadow.deploy).toBe(true);
    const restored = await restoreGlobalLstm(outcome.artifacts, outcome.meta);
    if (!restored.ok) throw new Error(restored.error.message);
    expect(Number.isFinite(restored.value.forSeries('queue/q/depth')!.forecast(series).value)).toBe(true);
    restored.value.dispose();
  });

  it('reports a training failure instead of throwing', async () => {
    const short: RegularSeries = { ...series, values: series.values.subarray(0, 60) };
    const outcome = await runTrainingInWorker({ seriesKey: 'global', series: [{ key: 'queue/q/depth', inputs: { target: short } }], spec, options: {} });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.failure.reason).toBe('insufficient_history');
  });

  it('can be aborted', async () => {
    const controller = new AbortController();
    const pending = runTrainingInWorker({ seriesKey: 'global', series: [{ key: 'queue/q/depth', inputs: { target: series } }], spec, options: { epochs: 50 } }, { signal: controller.signal });
    controller.abort();
    const outcome = await pending;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.failure.reason).toBe('aborted');
  });
});
