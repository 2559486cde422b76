import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegularSeries } from '../../../src/core/index.js';
import { restoreGlobalLstm, shadowEvaluateGlobal, trainGlobalLstm } from '../../../src/forecast/index.js';
import type { ForecastSpec, LstmOptions, TrainedGlobalLstm } from '../../../src/forecast/index.js';
import { globalMetaToStore, globalModelKey, globalModels, medianAccuracy, ModelLifecycle, ModelStore } from '../../../src/training/index.js';
import type { LifecycleSeries, ModelLifecycleOptions, TrainingJob, TrainingOutcome, TrainingReport } from '../../../src/training/index.js';

const spec: ForecastSpec = { stepSeconds: 300, seasonSteps: 48, horizonSteps: 3 };
const startMs = 1_700_000_000_000;
const seriesOf = (f: (i: number) => number, length = 48 * 8): RegularSeries => ({ startMs, stepSeconds: 300, values: Float64Array.from({ length }, (_, i) => f(i)) });
const series: LifecycleSeries[] = [
  { seriesKey: 'queue/a/depth', inputs: { target: seriesOf((i) => 100 + 40 * Math.sin((2 * Math.PI * i) / 48)) } },
  { seriesKey: 'system/cpu_percent', inputs: { target: seriesOf((i) => 50 + 10 * Math.cos((2 * Math.PI * i) / 48)) } },
];
const small: Partial<LstmOptions> = { lookbackSteps: 12, units: [8], denseUnits: 4, dropout: 0, epochs: 3, batchSize: 32, learningRate: 0.01, maxWindows: 128, seed: 3 };
const fineTune = () => ({ epochs: 1, maxWindows: 64 });

let root = '';
let trained: TrainedGlobalLstm;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'foresight-lifecycle-'));
  const result = await trainGlobalLstm(
    series.map((s) => ({ key: s.seriesKey, inputs: s.inputs })),
    spec,
    small,
  );
  if (!result.ok) throw new Error(result.error.message);
  trained = result.value;
});
afterAll(async () => {
  trained?.dispose();
  await rm(root, { recursive: true, force: true });
});

/** Trains in-process (the worker path has its own test) and shadow-evaluates like the worker does; records the jobs. */
function inProcess(jobs: TrainingJob[]): NonNullable<ModelLifecycleOptions['train']> {
  return async (job) => {
    jobs.push(job);
    const tune = job.fineTune !== undefined && job.current !== undefined ? { base: job.current, ...job.fineTune } : undefined;
    const result = await trainGlobalLstm(job.series, job.spec, job.options, {}, tune);
    if (!result.ok) return { ok: false, seriesKey: job.seriesKey, failure: result.error, durationSeconds: 0 };
    const current = job.current === undefined ? undefined : await restoreGlobalLstm(job.current.artifacts, job.current.meta);
    const shadow = shadowEvaluateGlobal(current?.ok === true ? current.value : undefined, result.value, job.series);
    if (current?.ok === true) current.value.dispose();
    const artifacts = await result.value.exportArtifacts();
    result.value.dispose();
    return { ok: true, seriesKey: job.seriesKey, artifacts, meta: result.value.meta, shadow, durationSeconds: 0.1, cpuSeconds: { training: 0.1, shadow: 0 } };
  };
}

function lifecycleOf(store: ReturnType<typeof globalStore>, extra: Partial<ModelLifecycleOptions> = {}) {
  const reports: TrainingReport[] = [];
  const unusable: string[] = [];
  const jobs: TrainingJob[] = [];
  const lifecycle = new ModelLifecycle({
    store,
    lstm: () => small,
    fineTune,
    retrainIntervalSeconds: () => 3600,
    accuracyThresholdPercent: () => 70,
    train: inProcess(jobs),
    events: { modelUnusable: (_k, f) => unusable.push(f.reason), trainingFinished: (_k, r) => reports.push(r) },
    ...extra,
  });
  return { lifecycle, reports, unusable, jobs };
}

const globalStore = (name: string) => new ModelStore(join(root, name), globalModels);
const save = async (store: ReturnType<typeof globalStore>, createdAtMs = startMs) => store.save(globalModelKey, await trained.exportArtifacts(), globalMetaToStore(trained.meta, createdAtMs, 1));

describe('ModelLifecycle (the global LSTM)', () => {
  it('reports a corrupt stored model, serves nothing, then trains one model from scratch on every series and saves it', async () => {
    const store = globalStore('corrupt');
    const { dir } = await save(store);
    await writeFile(join(dir, 'weights.bin'), 'garbage');
    const { lifecycle, reports, unusable, jobs } = lifecycleOf(store);
    await lifecycle.load('queue/a/depth');
    expect(unusable).toEqual(['corrupt']);
    expect(lifecycle.serving('queue/a/depth')).toBeUndefined();
    expect(lifecycle.status()[0]?.unavailableReason).toMatch(/weights\.bin/);
    expect((await readdir(store.seriesDir(globalModelKey))).some((e) => e.startsWith('.corrupt-'))).toBe(true);

    expect(lifecycle.tick(series, spec, startMs + 86_400_000)).toEqual({ retrain: true, reason: 'no_model' });
    expect(lifecycle.tick(series, spec, startMs + 86_400_000).reason).toBe('training_in_progress');
    expect(lifecycle.status().every((s) => s.training)).toBe(true);
    await lifecycle.whenIdle();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.series.map((s) => s.key)).toEqual(['queue/a/depth', 'system/cpu_percent']);
    expect(jobs[0]!.fineTune).toBeUndefined();
    expect(reports.map((r) => [r.deployed, r.mode])).toEqual([[true, 'scratch']]);
    for (const { seriesKey, inputs } of series) expect(Number.isFinite(lifecycle.serving(seriesKey)!.forecastInputs(inputs).value)).toBe(true);
    expect((await store.load(globalModelKey)).ok).toBe(true);
    await lifecycle.close();
  });

  it('loads the stored model once and reports it for every series it knows', async () => {
    const store = globalStore('loaded');
    await save(store, startMs + 123_000);
    const loaded: string[] = [];
    const { lifecycle } = lifecycleOf(store, { events: { modelLoaded: (key, meta, at) => loaded.push(`${key}@${at}:${meta.options.lookbackSteps}`) } });
    await lifecycle.load('queue/a/depth');
    await lifecycle.load('system/cpu_percent');
    expect(loaded).toEqual([`queue/a/depth@${startMs + 123_000}:12`, `system/cpu_percent@${startMs + 123_000}:12`]);
    expect(lifecycle.status().map((s) => [s.seriesKey, s.trainedAtMs])).toEqual([
      ['queue/a/depth', startMs + 123_000],
      ['system/cpu_percent', startMs + 123_000],
    ]);
    // A series the model was not trained on has no model, and says why.
    await lifecycle.load('queue/new/depth');
    expect(lifecycle.serving('queue/new/depth')).toBeUndefined();
    expect(lifecycle.status().find((s) => s.seriesKey === 'queue/new/depth')?.unavailableReason).toMatch(/before this series was seen/);
    await lifecycle.close();
  });

  it('after the interval, new data fine-tunes the serving model; a new network shape trains from scratch', async () => {
    const store = globalStore('finetune');
    await save(store);
    let options = small;
    const { lifecycle, reports, jobs } = lifecycleOf(store, { lstm: () => options });
    await lifecycle.load('queue/a/depth');
    expect(lifecycle.tick(series, spec, startMs + 1_000).reason).toBe('not_due');
    const later = series.map((s) => ({ ...s, inputs: { target: { ...s.inputs.target, startMs: startMs + 12 * 300_000 } } }));
    expect(lifecycle.tick(later, spec, startMs + 2 * 3_600_000).reason).toBe('interval_elapsed');
    await lifecycle.whenIdle();
    expect(jobs[0]!.fineTune).toEqual(fineTune());
    expect(jobs[0]!.current?.meta.series['queue/a/depth']).toBeDefined();
    expect(reports[0]!.mode).toBe('fine_tune');
    options = { ...small, units: [6] };
    expect(lifecycle.tick(later, spec, startMs + 10 * 3_600_000).reason).toBe('interval_elapsed');
    await lifecycle.whenIdle();
    expect(jobs[1]!.fineTune).toBeUndefined();
    expect(reports[1]!.mode).toBe('scratch');
    await lifecycle.close();
  });

  it('keeps the serving model when the new one loses the shadow evaluation, and survives a trainer that throws', async () => {
    const store = globalStore('shadow');
    await save(store);
    let calls = 0;
    const train = async (job: TrainingJob): Promise<TrainingOutcome> => {
      calls++;
      if (calls === 2) throw new Error('boom');
      return {
        ok: true,
        seriesKey: job.seriesKey,
        artifacts: job.current!.artifacts,
        meta: job.current!.meta,
        shadow: { deploy: false, reason: 'current_better_or_equal', candidateMae: 2, currentMae: 1, points: 10 },
        durationSeconds: 1,
        cpuSeconds: { training: 1, shadow: 0 },
      };
    };
    const { lifecycle, reports } = lifecycleOf(store, { train });
    await lifecycle.load('queue/a/depth');
    const before = lifecycle.global();
    lifecycle.tick(series, spec, startMs + 2 * 3_600_000);
    await lifecycle.whenIdle();
    expect(reports[0]).toMatchObject({ deployed: false, shadow: { reason: 'current_better_or_equal' } });
    expect(lifecycle.global()).toBe(before);
    lifecycle.tick(series, spec, startMs + 4 * 3_600_000);
    await lifecycle.whenIdle();
    expect(reports[1]!.failure).toEqual({ reason: 'worker_error', message: 'boom' });
    expect(lifecycle.global()).toBe(before);
    await lifecycle.close();
  });

  it('close() aborts a running training', async () => {
    let aborted = false;
    const train: NonNullable<ModelLifecycleOptions['train']> = (job, options) =>
      new Promise((resolve) => {
        options.signal?.addEventListener('abort', () => {
          aborted = true;
          resolve({ ok: false, seriesKey: job.seriesKey, failure: { reason: 'aborted', message: 'aborted' }, durationSeconds: 0 });
        });
      });
    const { lifecycle } = lifecycleOf(globalStore('abort'), { train });
    lifecycle.tick(series, spec, startMs);
    await lifecycle.close();
    expect(aborted).toBe(true);
  });

  it('early fine-tunes look at the median matured accuracy', () => {
    expect(medianAccuracy(new Map())).toBeUndefined();
    expect(
      medianAccuracy(
        new Map([
          ['a', 10],
          ['b', 90],
          ['c', 50],
        ]),
      ),
    ).toBe(50);
    expect(
      medianAccuracy(
        new Map([
          ['a', 10],
          ['b', 90],
        ]),
      ),
    ).toBe(50);
  });
});
