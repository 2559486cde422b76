import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import type { RegularSeries } from '../../../src/core/index.js';
import type { FeatureInputs, ForecastSpec } from '../../../src/forecast/index.js';
import { ModelLifecycle, ModelStore } from '../../../src/training/index.js';
import type { ModelLifecycleOptions, TrainingJob, TrainingOutcome, TrainingReport } from '../../../src/training/index.js';

const spec: ForecastSpec = { stepSeconds: 300, seasonSteps: 48, horizonSteps: 3 };
const nowMs = 1_800_000_000_000;
const inputs = (level: number): FeatureInputs => ({ target: { startMs: nowMs - 48 * 300_000, stepSeconds: 300, values: new Float64Array(48).fill(level) } satisfies RegularSeries });

/** One call of the fake trainer: its job, and a way to end it. */
interface Run {
  readonly job: TrainingJob;
  readonly finish: () => void;
}

/**
 * A trainer whose runs end only when the test says so (or when aborted), so the test controls
 * exactly when slots free. Runs end as failures: no TensorFlow is involved, and a series without
 * a model is due again at once, which is what the queue must cope with.
 */
function controlledTrainer(): { readonly runs: Run[]; readonly train: NonNullable<ModelLifecycleOptions['train']> } {
  const runs: Run[] = [];
  const train: NonNullable<ModelLifecycleOptions['train']> = (job, options) =>
    new Promise<TrainingOutcome>((resolve) => {
      const end = (reason: 'worker_error' | 'aborted') => resolve({ ok: false, seriesKey: job.seriesKey, failure: { reason, message: `fake ${reason}` }, durationSeconds: 1 });
      options.signal?.addEventListener('abort', () => end('aborted'));
      runs.push({ job, finish: () => end('worker_error') });
    });
  return { runs, train };
}

/** Lets every pending promise callback run (a finished training frees its slot a few microtasks later). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function lifecycleWith(cap: () => number, extra: Partial<ModelLifecycleOptions> = {}) {
  const trainer = controlledTrainer();
  const started: string[] = [];
  const finished: [string, TrainingReport][] = [];
  const lifecycle = new ModelLifecycle({
    // Never touched: the fake trainer fails every run, so nothing is saved.
    store: new ModelStore(join(tmpdir(), 'foresight-lifecycle-unused')),
    lstm: () => ({}),
    retrainIntervalSeconds: () => 86_400,
    accuracyThresholdPercent: () => 70,
    maxConcurrentTrainings: cap,
    train: trainer.train,
    events: { trainingStarted: (key) => started.push(key), trainingFinished: (key, report) => finished.push([key, report]) },
    ...extra,
  });
  const byKey = (key: string) => lifecycle.status().find((s) => s.seriesKey === key)!;
  return { lifecycle, runs: trainer.runs, started, finished, byKey };
}

describe('ModelLifecycle: concurrent training cap', () => {
  it('cap 1, three series due: one trains, two wait, and they run in order as each finishes', async () => {
    const { lifecycle, runs, started, finished, byKey } = lifecycleWith(() => 1);
    for (const key of ['a', 'b', 'c']) expect(lifecycle.tick(key, inputs(1), spec, nowMs)).toEqual({ retrain: true, reason: 'no_model' });
    expect(runs.map((r) => r.job.seriesKey)).toEqual(['a']);
    expect(started).toEqual(['a']);
    expect(byKey('a')).toMatchObject({ training: true, queued: false });
    expect(byKey('b')).toMatchObject({ training: false, queued: true });
    expect(byKey('c')).toMatchObject({ training: false, queued: true });

    runs[0]!.finish();
    await settle();
    expect(runs.map((r) => r.job.seriesKey)).toEqual(['a', 'b']);
    expect(finished.map(([key]) => key)).toEqual(['a']);
    expect(byKey('a')).toMatchObject({ training: false, queued: false });
    expect(byKey('b')).toMatchObject({ training: true, queued: false });
    expect(byKey('c')).toMatchObject({ training: false, queued: true });

    runs[1]!.finish();
    await settle();
    expect(runs.map((r) => r.job.seriesKey)).toEqual(['a', 'b', 'c']);
    runs[2]!.finish();
    await lifecycle.whenIdle();
    expect(started).toEqual(['a', 'b', 'c']);
    expect(finished.map(([key, report]) => [key, report.failure])).toEqual([
      ['a', { reason: 'worker_error', message: 'fake worker_error' }],
      ['b', { reason: 'worker_error', message: 'fake worker_error' }],
      ['c', { reason: 'worker_error', message: 'fake worker_error' }],
    ]);
    expect(lifecycle.status().every((s) => !s.training && !s.queued)).toBe(true);
    await lifecycle.close();
  });

  it('a queued series is decided once: later ticks do not queue it again, and it trains on the newest data', async () => {
    const { lifecycle, runs, started, byKey } = lifecycleWith(() => 1);
    lifecycle.tick('a', inputs(1), spec, nowMs);
    lifecycle.tick('b', inputs(1), spec, nowMs);
    // The next cycles: b is waiting, so it counts as training in progress (no new decision, no second entry).
    expect(lifecycle.tick('b', inputs(2), spec, nowMs + 30_000)).toEqual({ retrain: false, reason: 'training_in_progress' });
    const newest = inputs(3);
    const newestSpec: ForecastSpec = { ...spec, horizonSteps: 6 };
    expect(lifecycle.tick('b', newest, newestSpec, nowMs + 60_000)).toEqual({ retrain: false, reason: 'training_in_progress' });
    expect(lifecycle.tick('a', inputs(2), spec, nowMs + 60_000).reason).toBe('training_in_progress');
    expect(byKey('b').queued).toBe(true);

    runs[0]!.finish();
    await settle();
    expect(runs.map((r) => r.job.seriesKey)).toEqual(['a', 'b']);
    expect(runs[1]!.job.inputs).toBe(newest);
    expect(runs[1]!.job.spec).toEqual(newestSpec);
    runs[1]!.finish();
    await lifecycle.whenIdle();
    // b ran once, not once per tick.
    expect(started).toEqual(['a', 'b']);
    expect(runs).toHaveLength(2);
    await lifecycle.close();
  });

  it('cap 2 runs two at once; the third starts when either finishes', async () => {
    const { lifecycle, runs, byKey } = lifecycleWith(() => 2);
    for (const key of ['a', 'b', 'c']) lifecycle.tick(key, inputs(1), spec, nowMs);
    expect(runs.map((r) => r.job.seriesKey)).toEqual(['a', 'b']);
    expect(byKey('c').queued).toBe(true);
    runs[1]!.finish();
    await settle();
    expect(runs.map((r) => r.job.seriesKey)).toEqual(['a', 'b', 'c']);
    expect(
      lifecycle
        .status()
        .filter((s) => s.training)
        .map((s) => s.seriesKey),
    ).toEqual(['a', 'c']);
    runs[0]!.finish();
    runs[2]!.finish();
    await lifecycle.whenIdle();
    await lifecycle.close();
  });

  it('reads the cap live: raising it starts waiting series on the next tick', async () => {
    let cap = 1;
    const { lifecycle, runs } = lifecycleWith(() => cap);
    for (const key of ['a', 'b', 'c']) lifecycle.tick(key, inputs(1), spec, nowMs);
    expect(runs).toHaveLength(1);
    cap = 3;
    lifecycle.tick('a', inputs(1), spec, nowMs + 30_000);
    expect(runs.map((r) => r.job.seriesKey)).toEqual(['a', 'b', 'c']);
    for (const run of runs) run.finish();
    await lifecycle.whenIdle();
    await lifecycle.close();
  });

  it('treats a nonsensical cap as 1', async () => {
    const { lifecycle, runs } = lifecycleWith(() => Number.NaN);
    for (const key of ['a', 'b']) lifecycle.tick(key, inputs(1), spec, nowMs);
    expect(runs).toHaveLength(1);
    await lifecycle.close();
  });

  it('whenIdle waits for the queued trainings too', async () => {
    const { lifecycle, runs } = lifecycleWith(() => 1);
    lifecycle.tick('a', inputs(1), spec, nowMs);
    lifecycle.tick('b', inputs(1), spec, nowMs);
    let idle = false;
    const waiting = lifecycle.whenIdle().then(() => {
      idle = true;
    });
    runs[0]!.finish();
    await settle();
    expect(idle).toBe(false);
    expect(runs).toHaveLength(2);
    runs[1]!.finish();
    await waiting;
    expect(idle).toBe(true);
    await lifecycle.close();
  });

  it('close() aborts the running training and drops the queue: queued series never start', async () => {
    const { lifecycle, runs, started, finished, byKey } = lifecycleWith(() => 1);
    for (const key of ['a', 'b', 'c']) lifecycle.tick(key, inputs(1), spec, nowMs);
    await lifecycle.close();
    expect(runs).toHaveLength(1);
    expect(started).toEqual(['a']);
    expect(finished.map(([key, report]) => [key, report.failure])).toEqual([['a', { reason: 'aborted', message: 'fake aborted' }]]);
    expect(byKey('b')).toMatchObject({ training: false, queued: false });
    expect(byKey('c')).toMatchObject({ training: false, queued: false });
    // After close nothing new is queued or started.
    lifecycle.tick('d', inputs(1), spec, nowMs);
    await settle();
    expect(runs).toHaveLength(1);
    expect(byKey('d').queued).toBe(false);
  });

  it('a trainer that throws is a failed run: reported, and the next queued series still gets its turn', async () => {
    const calls: string[] = [];
    const { lifecycle, finished, byKey } = lifecycleWith(() => 1, {
      train: async (job) => {
        calls.push(job.seriesKey);
        throw new Error(`boom ${job.seriesKey}`);
      },
    });
    lifecycle.tick('a', inputs(1), spec, nowMs);
    lifecycle.tick('b', inputs(1), spec, nowMs);
    await lifecycle.whenIdle();
    expect(calls).toEqual(['a', 'b']);
    expect(finished.map(([key, report]) => [key, report.deployed, report.failure])).toEqual([
      ['a', false, { reason: 'worker_error', message: 'boom a' }],
      ['b', false, { reason: 'worker_error', message: 'boom b' }],
    ]);
    expect(byKey('a').unavailableReason).toBe('worker_error: boom a');
    await lifecycle.close();
  });
});
