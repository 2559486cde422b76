import { afterEach, describe, expect, it } from 'vitest';
import type { RegularSeries } from '../../src/core/index.js';
import { modelProcessCount } from '../../src/app/index.js';
import {
  type HostForecastRequest,
  type HostForecastSettings,
  type HostOptimizeRequest,
  type HostSeriesReply,
  type LearnedArtifacts,
  ModelHost,
  ModelProcessPool,
  ProcessModelHost,
  refitPhaseMs,
} from '../../src/engine/index.js';
import { type ResourceObservation, type TrainedLstm, tensorCount, trainLstm } from '../../src/forecast/index.js';
import { childPids } from '../support/processes.js';

const MINUTE_MS = 60_000;
const startMs = Date.UTC(2026, 10, 1);

/**
 * 3 days of 1-minute points with a daily cycle: long enough for `auto` to fit every candidate. The
 * values are rounded to 32 bits, as a model process holds them (series-transfer.ts), so that an
 * in-process host fits on the same values.
 */
function series(days = 3, phase = 0): RegularSeries {
  const n = days * 1440 + 1;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = Math.fround(200 + 80 * Math.sin((2 * Math.PI * (i + phase)) / 1440) + 15 * Math.sin(i / 7) + ((i * 7919) % 13));
  return { startMs, stepSeconds: 60, values };
}

const settings = (model: HostForecastSettings['model'] = 'holt_winters'): HostForecastSettings => ({
  model,
  stepSeconds: 60,
  seasonSeconds: 86_400,
  horizonsSeconds: [900, 1800],
  refitIntervalSeconds: 3600,
  selectionIntervalSeconds: 86_400,
});

const HOUR_MS = 3_600_000;
/**
 * One minute into a refit bucket of series "queue/a/depth", three days after the data start: each
 * series' buckets start at its own phase of the refit interval (refitPhaseMs).
 */
const nowMs = ((t: number) => t - ((((t - refitPhaseMs('queue/a/depth', HOUR_MS)) % HOUR_MS) + HOUR_MS) % HOUR_MS) + MINUTE_MS)(startMs + 3 * 86_400_000);
const request = (overrides: Partial<HostForecastRequest> = {}): HostForecastRequest => ({
  generation: 1,
  nowMs,
  settings: settings(),
  series: [
    { key: 'queue/a/depth', series: series() },
    { key: 'queue/b/depth', series: series(3, 300) },
  ],
  // As an in-process host answers: due refits done before the answer (the background path has its own tests).
  waitForRefits: true,
  ...overrides,
});

/** A resource that is always saturated: throughput = replicas × 10/s, so capacity is learnable. */
function observations(count: number): ResourceObservation[] {
  return Array.from({ length: count }, (_, i) => {
    // The replicas hold for 10 minutes at a time: capacity is learnt between two observations with the same count.
    const replicas = 2 + (Math.floor(i / 10) % 4);
    return { timestampMs: nowMs - (count - i) * MINUTE_MS, replicas, load: 60, throughput: replicas * 10, backlog: 500 };
  });
}

/** Eight 4-hour seasons of 5-minute points: what the tiny LSTMs below learn. */
const lstmTarget: RegularSeries = { startMs, stepSeconds: 300, values: Float64Array.from({ length: 48 * 8 }, (_, i) => 100 + 40 * Math.sin((2 * Math.PI * i) / 48)) };

/** A tiny LSTM trained on {@link lstmTarget} in this process, and its weights as they travel to a host. */
async function tinyLstm(seed: number, epochs: number, maxWindows: number): Promise<{ model: TrainedLstm; learned: LearnedArtifacts }> {
  const spec = { stepSeconds: 300, seasonSteps: 48, horizonSteps: 3 };
  const trained = await trainLstm({ target: lstmTarget }, spec, { lookbackSteps: 24, units: [8], denseUnits: 4, epochs, maxWindows, seed }, { backend: 'wasm' });
  if (!trained.ok) throw new Error(trained.error.message);
  return { model: trained.value, learned: { artifacts: await trained.value.exportArtifacts(), meta: trained.value.meta } };
}

const optimizeRequest = (at: number, count = 120): HostOptimizeRequest => ({
  generation: 1,
  nowMs: at,
  refitIntervalSeconds: 3600,
  resources: [
    {
      resource: 'worker_processes',
      observations: observations(count),
      maxBacklog: 100,
      recommend: { predictedLoad: 60, range: { min: 1, max: 20 }, confidenceThreshold: 0.5 },
    },
  ],
});

describe('ModelHost', () => {
  it('fits once per refit bucket and forecasts every cycle from the kept fit', () => {
    const host = new ModelHost();
    const first = host.forecast(request());
    expect(first.map((r) => r.key)).toEqual(['queue/a/depth', 'queue/b/depth']);
    for (const reply of first) {
      expect(reply.fittedAtMs).toBe(nowMs);
      expect(reply.fits?.map((f) => f.horizonSeconds)).toEqual([900, 1800]);
      expect(reply.scores?.length).toBeGreaterThan(3);
      expect(reply.forecasts.map((f) => f.model)).toEqual(['holt_winters', 'holt_winters']);
      expect(reply.maseScale).toBeGreaterThan(0);
    }
    // Ten minutes later, same bucket: no refit, the forecasts move with the new data.
    const later = { ...request(), nowMs: nowMs + 10 * MINUTE_MS, series: [{ key: 'queue/a/depth', series: series(3, 10) }] };
    const second = host.forecast(later);
    expect(second[0]!.fittedAtMs).toBe(nowMs);
    expect(second[0]!.fits).toBeUndefined();
    expect(second[0]!.scores).toBeUndefined();
    expect(second[0]!.forecasts[0]!.value).not.toBe(first[0]!.forecasts[0]!.value);
    // The next bucket refits.
    const next = host.forecast({ ...later, nowMs: nowMs + 61 * MINUTE_MS });
    expect(next[0]!.fittedAtMs).toBe(nowMs + 61 * MINUTE_MS);
    expect(next[0]!.fits).toHaveLength(2);
  });

  it('auto: a quick first pass over the baselines, the full selection at the next cycle, never worse than naive on validation', () => {
    const host = new ModelHost();
    const auto = { ...request({ settings: { ...settings('auto'), horizonsSeconds: [900] } }), series: [{ key: 'queue/a/depth', series: series() }] };
    const baselines = ['naive', 'seasonal_naive', 'seasonal_mean', 'linear_trend', 'holt_winters'];
    const first = host.forecast(auto)[0]!;
    expect(first.scores?.map((s) => s.model)).toEqual([...baselines, 'auto']);
    const firstSelection = first.forecasts[0]!.selection!;
    expect(firstSelection.reason).toMatch(/^first pass, baselines only/);
    expect(firstSelection.validationMae!).toBeLessThanOrEqual(firstSelection.naiveValidationMae!);
    // The next cycle, in the same refit bucket, refits with every candidate.
    const second = host.forecast({ ...auto, nowMs: nowMs + MINUTE_MS })[0]!;
    expect(second.fits).toHaveLength(1);
    expect(second.scores?.map((s) => s.model)).toEqual([...baselines, 'lag_regression', 'random_forest', 'auto']);
    const secondSelection = second.forecasts[0]!.selection!;
    expect(secondSelection.reason).not.toMatch(/first pass/);
    expect(secondSelection.validationMae!).toBeLessThanOrEqual(secondSelection.naiveValidationMae!);
    expect(secondSelection.validationMae!).toBeLessThanOrEqual(firstSelection.validationMae!);
    // And then keeps that fit for the rest of the bucket.
    expect(host.forecast({ ...auto, nowMs: nowMs + 2 * MINUTE_MS })[0]!.fits).toBeUndefined();
  });

  it('spreads refits over the interval: each series refits once per interval, at its own phase, a few per cycle', () => {
    const host = new ModelHost();
    const keys = Array.from({ length: 60 }, (_, i) => `queue/team-${i % 7}/worker-${i}/q${i}/depth`);
    const short = series(1);
    const at = (ms: number) => host.forecast({ ...request({ settings: settings('seasonal_naive') }), nowMs: ms, series: keys.map((key) => ({ key, series: short })) });
    // The first cycle fits everything (there is no model yet).
    expect(at(nowMs).every((r) => r.fits !== undefined)).toBe(true);
    // Then two hours of one-minute cycles: every series refits exactly twice, never all at once.
    const refitsPerCycle: number[] = [];
    const perSeries = new Map<string, number>();
    for (let minute = 1; minute <= 120; minute++) {
      const refitted = at(nowMs + minute * MINUTE_MS).filter((r) => r.fits !== undefined);
      refitsPerCycle.push(refitted.length);
      for (const r of refitted) perSeries.set(r.key, (perSeries.get(r.key) ?? 0) + 1);
    }
    expect([...perSeries.values()]).toEqual(keys.map(() => 2));
    // 60 series over 60 one-minute cycles: one per cycle on average; with one shared bucket it would be all 60 in one cycle.
    expect(Math.max(...refitsPerCycle)).toBeLessThanOrEqual(5);
    // The phase is a fixed function of the key, spread over the whole interval.
    const phases = Array.from({ length: 1000 }, (_, i) => refitPhaseMs(`queue/ns/w/q${i}/depth`, HOUR_MS));
    const perHalfMinute = new Array<number>(120).fill(0);
    for (const phase of phases) perHalfMinute[Math.floor(phase / 30_000)]! += 1;
    expect(Math.max(...perHalfMinute)).toBeLessThanOrEqual(20);
    expect(refitPhaseMs('queue/ns/w/q1/depth', HOUR_MS)).toBe(phases[1]);
  });

  it('drops every fit when the generation changes, and forgets series that are gone', () => {
    const host = new ModelHost();
    host.forecast(request());
    const onlyA = host.forecast({ ...request(), nowMs: nowMs + MINUTE_MS, series: [{ key: 'queue/a/depth', series: series() }] });
    expect(onlyA[0]!.fits).toBeUndefined();
    // b came back: refitted, although the bucket is the same.
    const bAgain = host.forecast({ ...request(), nowMs: nowMs + 2 * MINUTE_MS });
    expect(bAgain.find((r) => r.key === 'queue/b/depth')!.fits).toHaveLength(2);
    expect(bAgain.find((r) => r.key === 'queue/a/depth')!.fits).toBeUndefined();
    const reloaded = host.forecast({ ...request({ generation: 2, settings: settings('seasonal_naive') }), nowMs: nowMs + 3 * MINUTE_MS });
    for (const reply of reloaded) expect(reply.forecasts.map((f) => f.model)).toEqual(['seasonal_naive', 'seasonal_naive']);
  });

  it('backtests the serving model from the origin it is asked for, and says NaN when it cannot', () => {
    const host = new ModelHost();
    const s = series();
    const [late, early, impossible] = host.validate({
      settings: settings(),
      items: [
        { key: 'a', series: s, horizonSeconds: 900, fromIndex: s.values.length - 300 },
        { key: 'a', series: s, horizonSeconds: 900, fromIndex: Math.floor(s.values.length * 0.7) },
        { key: 'a', series: s, horizonSeconds: 900, fromIndex: 0 },
      ],
    });
    expect(late).toBeGreaterThan(0);
    expect(early).toBeGreaterThan(0);
    expect(late).not.toBe(early);
    expect(impossible).toBeNaN();
  });

  it('trains the resource optimizer once per bucket and recommends from the kept model', () => {
    const host = new ModelHost();
    const none = host.optimize(optimizeRequest(nowMs, 5));
    expect(none[0]!.recommendation).toBeUndefined();
    const [first] = host.optimize(optimizeRequest(nowMs + MINUTE_MS));
    // 60/s with headroom 1.2 at 10/s per replica: 7.2 → 8 replicas.
    expect(first!.recommendation?.recommendedReplicas).toBe(8);
    expect(first!.recommendation?.capacityPerReplica).toBeCloseTo(10, 0);
    // Within the bucket, the model is kept even if the observations no longer teach anything.
    const [kept] = host.optimize({ ...optimizeRequest(nowMs + 2 * MINUTE_MS, 5) });
    expect(kept!.recommendation?.recommendedReplicas).toBe(8);
    // Without a load to size for, nothing is recommended.
    const { recommend: _dropped, ...withoutLoad } = optimizeRequest(nowMs).resources[0]!;
    const [noLoad] = host.optimize({ ...optimizeRequest(nowMs + 3 * MINUTE_MS), resources: [withoutLoad] });
    expect(noLoad!.recommendation).toBeUndefined();
  });
});

describe('ModelHost: refits in the background, between requests', () => {
  const auto = (at: number, s: RegularSeries = series()): HostForecastRequest => ({
    ...request({ settings: { ...settings('auto'), horizonsSeconds: [900] } }),
    nowMs: at,
    series: [{ key: 'queue/a/depth', series: s }],
    waitForRefits: false,
  });

  it('answers from the fits it holds and queues what is due; refitNext does it, and the next answer reports it once', () => {
    const host = new ModelHost();
    const first = host.forecast(auto(nowMs))[0]!;
    expect(first.forecasts[0]!.selection!.reason).toMatch(/^first pass, baselines only/);
    // The full selection of a first pass is queued at once, not left for the next cycle.
    expect(host.queuedRefits).toBe(1);
    // A cycle that comes before the refit ran is answered from the first pass, and does not wait.
    const before = host.forecast(auto(nowMs + MINUTE_MS))[0]!;
    expect(before.fits).toBeUndefined();
    expect(before.forecasts[0]!.selection!.reason).toMatch(/^first pass/);
    expect(host.refitNext()).toBe(false);
    expect(host.queuedRefits).toBe(0);
    const after = host.forecast(auto(nowMs + 2 * MINUTE_MS))[0]!;
    expect(after.fits).toHaveLength(1);
    expect(after.scores?.map((s) => s.model)).toContain('random_forest');
    expect(after.forecasts[0]!.selection!.reason).not.toMatch(/first pass/);
    // Fitted on the data of the latest cycle it was sent before it ran.
    expect(after.fittedAtMs).toBe(nowMs + MINUTE_MS);
    expect(host.forecast(auto(nowMs + 3 * MINUTE_MS))[0]!.fits).toBeUndefined();
  });

  it('a start larger than the first-pass budget serves seasonal naive beyond it, and chooses for those series first', () => {
    const oneSeries = series().values.length;
    const host = new ModelHost({ firstPassBudgetPoints: Math.round(1.5 * oneSeries) });
    const keys = ['queue/a/depth', 'queue/b/depth', 'queue/c/depth'];
    const many = (at: number): HostForecastRequest => ({ ...auto(at), series: keys.map((key, i) => ({ key, series: series(3, 100 * i) })) });
    const first = host.forecast(many(nowMs));
    expect(first.map((r) => r.forecasts[0]!.selection!.why)).toEqual(['lowest_validation_mae', 'first_pass', 'first_pass']);
    expect(first.map((r) => r.forecasts[0]!.model)).toEqual(['auto', 'seasonal_naive', 'seasonal_naive']);
    expect(first[1]!.forecasts[0]!.selection!.reason).toMatch(/stands in until the auto fit runs in the background/);
    // Stand-ins publish a forecast that follows the series (the value a day before, 15 minutes on).
    const s = series(3, 100);
    expect(first[1]!.forecasts[0]!.value).toBeCloseTo(s.values[s.values.length - 1440 + 15 - 1]!, 6);
    expect(host.queuedRefits).toBe(3);
    // One refit at a time: the stand-ins are chosen for before anything else.
    host.refitNext();
    const afterOne = host.forecast(many(nowMs + MINUTE_MS));
    expect(afterOne.map((r) => r.fits !== undefined)).toEqual([false, true, false]);
    while (host.refitNext());
    const settled = host.forecast(many(nowMs + 2 * MINUTE_MS));
    for (const r of settled) {
      expect(r.forecasts[0]!.model).toBe('auto');
      expect(r.forecasts[0]!.selection!.why).toBe('lowest_validation_mae');
      expect(r.forecasts[0]!.selection!.reason).not.toMatch(/first pass/);
    }
  });

  it('between two selections a refit refits the chosen members only; the selection interval, or a window that filled, chooses again', () => {
    const host = new ModelHost();
    const wait = (r: HostForecastRequest): HostSeriesReply => host.forecast({ ...r, waitForRefits: true })[0]!;
    // Each series' selection day starts at its own phase: begin a minute into one of this series' days,
    // so that calls an hour apart (always another refit bucket) stay within it.
    const dayMs = 24 * HOUR_MS;
    const dayPhaseMs = refitPhaseMs('queue/a/depth', dayMs);
    const t0 = nowMs - ((((nowMs - dayPhaseMs) % dayMs) + dayMs) % dayMs) + MINUTE_MS;
    // Half the history missing at first, as after a short first read.
    const partial = series();
    const half = { ...partial, values: partial.values.map((v, i) => (i < partial.values.length / 2 ? Number.NaN : v)) };
    wait(auto(t0, half));
    const chosen = wait(auto(t0 + MINUTE_MS, half));
    expect(chosen.scores).toBeDefined();
    const served = chosen.forecasts[0]!.selection!.served;
    // The next refit bucket: the members refitted, the choice and its scores kept.
    const refit = wait(auto(t0 + 61 * MINUTE_MS, half));
    expect(refit.fits).toHaveLength(1);
    expect(refit.scores).toBeUndefined();
    expect(refit.forecasts[0]!.selection!.served).toBe(served);
    expect(refit.fittedAtMs).toBe(t0 + 61 * MINUTE_MS);
    // A little more of the window arrived (an older slice), not all of it: the choice stands.
    const more = { ...partial, values: partial.values.map((v, i) => (i < partial.values.length / 4 ? Number.NaN : v)) };
    const slice = wait(auto(t0 + 121 * MINUTE_MS, more));
    expect(slice.fits).toHaveLength(1);
    expect(slice.scores).toBeUndefined();
    // The whole window arrived (the older part read since): the next refit chooses again, once.
    expect(wait(auto(t0 + 181 * MINUTE_MS, series())).scores).toBeDefined();
    expect(wait(auto(t0 + 241 * MINUTE_MS, series())).scores).toBeUndefined();
    // The last refit of this selection day keeps the choice; the first of the next day chooses again.
    const sameDay = wait(auto(t0 + dayMs - 2 * MINUTE_MS));
    expect(sameDay.fits).toHaveLength(1);
    expect(sameDay.scores).toBeUndefined();
    expect(wait(auto(t0 + dayMs + 60 * MINUTE_MS)).scores).toBeDefined();
  });
});

describe('ModelHost with learned models (this process, to count its tensors)', () => {
  it('frees every tensor it creates: comparisons at once, kept models when their series is no longer listed', async () => {
    const { model, learned } = await tinyLstm(6, 1, 64);
    model.dispose();
    const host = new ModelHost();
    const before = tensorCount();
    await host.learnedForecasts({ learned, series: lstmTarget, fromIndex: 300, backend: 'wasm' });
    expect(tensorCount()).toBe(before);
    const item = { key: 'queue/a/depth', id: '1', series: lstmTarget, learned };
    await host.learnedPoints({ backend: 'wasm', items: [item] });
    const holding = tensorCount();
    expect(holding).toBeGreaterThan(before);
    // Cycle after cycle (the host holds the model: no weights sent), the count does not move.
    const { learned: _weights, ...held } = item;
    for (let cycle = 0; cycle < 5; cycle++) await host.learnedPoints({ backend: 'wasm', items: [held] });
    expect(tensorCount()).toBe(holding);
    // A new model for the series replaces the old one: still one model's worth.
    await host.learnedPoints({ backend: 'wasm', items: [{ ...item, id: '2' }] });
    expect(tensorCount()).toBe(holding);
    await host.learnedPoints({ backend: 'wasm', items: [] });
    expect(tensorCount()).toBe(before);
  });
});

describe('ProcessModelHost (a real child process)', () => {
  const hosts: ProcessModelHost[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.close()));
  });

  it('answers exactly what the in-process host answers', async () => {
    const child = new ProcessModelHost();
    hosts.push(child);
    const inline = new ModelHost();
    const cycles = [request(), { ...request(), nowMs: nowMs + 5 * MINUTE_MS }, { ...request(), nowMs: nowMs + 65 * MINUTE_MS }];
    for (const r of cycles) {
      const remote = await child.forecast(r);
      const local = inline.forecast(r);
      // Fit durations differ between runs; everything else is the same model arithmetic.
      const strip = (replies: typeof local) => replies.map(({ fits, ...rest }) => ({ ...rest, fits: fits?.map((f) => ({ horizonSeconds: f.horizonSeconds, model: f.model })) }));
      expect(strip(remote)).toEqual(strip(local));
    }
    const s = series();
    const validate = { settings: settings(), items: [{ key: 'a', series: s, horizonSeconds: 900, fromIndex: 3000 }] };
    expect(await child.validate(validate)).toEqual(inline.validate(validate));
    expect(await child.optimize(optimizeRequest(nowMs))).toEqual(inline.optimize(optimizeRequest(nowMs)));
  });

  it('a pool of two processes (forecast.modelProcesses) answers exactly what one host answers, each series kept in one process', async () => {
    const [one, two] = [new ProcessModelHost(), new ProcessModelHost()];
    hosts.push(one, two);
    const pool = new ModelProcessPool([one, two]);
    const inline = new ModelHost();
    const keys = ['queue/a/depth', 'queue/b/depth', 'queue/c/depth', 'queue/d/depth', 'queue/e/depth'];
    const many = (at: number): HostForecastRequest => ({ ...request(), nowMs: at, series: keys.map((key, i) => ({ key, series: series(3, 37 * i) })) });
    const strip = (replies: readonly HostSeriesReply[]) => replies.map(({ fits, ...rest }) => ({ ...rest, fits: fits?.map((f) => ({ horizonSeconds: f.horizonSeconds, model: f.model })) }));
    for (const at of [nowMs, nowMs + 5 * MINUTE_MS, nowMs + 65 * MINUTE_MS]) {
      const pooled = await pool.forecast(many(at));
      expect(pooled.map((r) => r.key)).toEqual(keys);
      expect(strip(pooled)).toEqual(strip(inline.forecast(many(at))));
    }
    // Both processes did work, and each kept its own series' fits: a later cycle refits exactly the
    // series one host refits (those whose own refit phase fell in that minute), no other.
    expect(childPids('model-process-entry')).toHaveLength(2);
    const refitted = (replies: readonly HostSeriesReply[]) => replies.filter((r) => r.fits !== undefined).map((r) => r.key);
    for (const minute of [66, 70, 90]) {
      expect(refitted(await pool.forecast(many(nowMs + minute * MINUTE_MS)))).toEqual(refitted(inline.forecast(many(nowMs + minute * MINUTE_MS))));
    }
    const s = series();
    const validate = { settings: settings(), items: keys.map((key) => ({ key, series: s, horizonSeconds: 900, fromIndex: 3000 })) };
    expect(await pool.validate(validate)).toEqual(inline.validate(validate));
    expect(await pool.optimize(optimizeRequest(nowMs))).toEqual(inline.optimize(optimizeRequest(nowMs)));
    await pool.close();
    expect(childPids('model-process-entry')).toEqual([]);
  });

  it('forecast.modelProcesses "auto" is one process per core beyond the first, at most 4', () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => modelProcessCount('auto', cores))).toEqual([1, 1, 2, 3, 4, 4]);
    expect(modelProcessCount(3, 2)).toBe(3);
  });

  it('keeps the event loop free while a slow `auto` refit runs in the child', async () => {
    const child = new ProcessModelHost();
    hosts.push(child);
    await child.forecast({ ...request(), series: [] }); // start-up (tsx compiles the entry) is not what is measured
    const heavy = request({ settings: settings('auto') });
    // Events, not durations (docs/testing.md): work queued on this thread right after the call runs
    // before the reply, and the fit happens in the child. The same fit on this thread
    // (`ModelHost.forecast`) is synchronous: nothing queued could run before it ends.
    let queuedWorkRan = false;
    let queuedWorkRanBeforeReply = false;
    const pending = child.forecast(heavy).then((replies) => {
      queuedWorkRanBeforeReply = queuedWorkRan;
      return replies;
    });
    setImmediate(() => {
      queuedWorkRan = true;
    });
    const fittingIn = childPids('model-process-entry');
    const replies = await pending;
    expect(replies.every((r) => r.forecasts.length === 2)).toBe(true);
    expect(queuedWorkRanBeforeReply).toBe(true);
    expect(fittingIn).toHaveLength(1);
  });

  it('fails the calls in flight when the child dies, and starts a fresh one on the next call', async () => {
    const exits: string[] = [];
    const child = new ProcessModelHost({ onExit: (reason) => exits.push(reason) });
    hosts.push(child);
    await child.forecast(request());
    const inFlight = child.forecast(request({ settings: settings('auto'), generation: 2 }));
    // Kill the child while it fits: found through the OS, since the host does not expose it.
    for (const pid of childPids('model-process-entry')) process.kill(pid, 'SIGKILL');
    await expect(inFlight).rejects.toThrow(/model process exited with SIGKILL/);
    expect(exits).toEqual(['exited with SIGKILL']);
    const again = await child.forecast({ ...request(), nowMs: nowMs + MINUTE_MS });
    // A fresh process: it has no fits, so it refits in the same bucket.
    expect(again[0]!.fits).toHaveLength(2);
  });

  it('runs a learned model sent as weights, exactly as this process would, and rejects one that cannot be restored', async () => {
    const { model, learned } = await tinyLstm(3, 2, 128);
    const fromIndex = 300;
    const local = model.forecastInputsEachOrigin({ target: lstmTarget }, fromIndex);
    model.dispose();
    const child = new ProcessModelHost();
    hosts.push(child);
    const remote = await child.learnedForecasts({ learned, series: lstmTarget, fromIndex, backend: 'wasm' });
    expect(Number.isNaN(remote.value[fromIndex - 1]!)).toBe(true);
    expect(remote.value.slice(fromIndex, lstmTarget.values.length - 1).every(Number.isFinite)).toBe(true);
    expect(Array.from(remote.value)).toEqual(Array.from(local.value));
    expect(Array.from(remote.p90)).toEqual(Array.from(local.p90));
    const broken = { ...learned, artifacts: { ...learned.artifacts, weightData: new ArrayBuffer(8) } };
    await expect(child.learnedForecasts({ learned: broken, series: lstmTarget, fromIndex, backend: 'wasm' })).rejects.toThrow(/could not be restored/);
  });

  it('keeps a learned model sent once and forecasts with it every cycle; asks for the weights again when it does not hold them', async () => {
    const { model, learned } = await tinyLstm(4, 2, 128);
    const shorter: RegularSeries = { ...lstmTarget, values: lstmTarget.values.subarray(0, 300) };
    const expected = [model.forecast(lstmTarget), model.forecast(shorter)];
    model.dispose();
    const child = new ProcessModelHost();
    hosts.push(child);
    const a = (series: RegularSeries, withWeights: boolean, id = '1') => ({ key: 'queue/a/depth', id, series, ...(withWeights ? { learned } : {}) });
    expect(child.tensorCount()).toBeUndefined(); // no answer yet
    expect(await child.learnedPoints({ backend: 'wasm', items: [a(lstmTarget, false)] })).toEqual([{ missing: true }]);
    expect(child.tensorCount()).toBe(0);
    expect(await child.learnedPoints({ backend: 'wasm', items: [a(lstmTarget, true)] })).toEqual([expected[0]]);
    const holding = child.tensorCount()!;
    expect(holding).toBeGreaterThan(0);
    // Held now: no weights needed, and it forecasts from the history it is given.
    expect(await child.learnedPoints({ backend: 'wasm', items: [a(shorter, false)] })).toEqual([expected[1]]);
    // A new id for the series is a new model: it needs weights.
    expect(await child.learnedPoints({ backend: 'wasm', items: [a(lstmTarget, false, '2')] })).toEqual([{ missing: true }]);
    expect(child.tensorCount()).toBe(holding);
    // A series left out of a call is freed: the old id is no longer held either.
    await child.learnedPoints({ backend: 'wasm', items: [] });
    expect(child.tensorCount()).toBe(0);
    expect(await child.learnedPoints({ backend: 'wasm', items: [a(lstmTarget, false)] })).toEqual([{ missing: true }]);
  });

  it('kills a process that does not answer in time, says so, and starts a fresh one on the next call', async () => {
    // Unlimited in effect (the test timeout ends a hang first): the niced process may start slowly on busy cores.
    const generousSeconds = 3_600;
    let timeoutSeconds = generousSeconds;
    const exits: string[] = [];
    const child = new ProcessModelHost({ onExit: (reason) => exits.push(reason), callTimeoutSeconds: () => timeoutSeconds });
    hosts.push(child);
    await child.forecast({ ...request(), series: [] }); // start-up within the generous limit
    timeoutSeconds = 0.2; // `auto` on two 3-day series takes seconds
    await expect(child.forecast(request({ settings: settings('auto') }))).rejects.toThrow(/did not answer a forecast call within 0\.2 s and was killed/);
    expect(exits).toEqual(['did not answer a forecast call within 0.2 s and was killed (forecast.modelProcessTimeout)']);
    timeoutSeconds = generousSeconds;
    const again = await child.forecast(request());
    expect(again.map((r) => r.forecasts.length)).toEqual([2, 2]);
  });

  it('refits in the background between calls: answers at once from the fits it holds, reports the refit when it is done', async () => {
    const child = new ProcessModelHost();
    hosts.push(child);
    const auto = (at: number): HostForecastRequest => ({
      ...request({ settings: { ...settings('auto'), horizonsSeconds: [900] } }),
      nowMs: at,
      series: [{ key: 'queue/a/depth', series: series() }],
      waitForRefits: false,
    });
    const first = await child.forecast(auto(nowMs));
    expect(first.every((r) => /^first pass/.test(r.forecasts[0]!.selection!.reason))).toBe(true);
    // The full selection was queued by that call, and the answer says so.
    expect(child.queuedRefits()).toBe(1);
    const cpuBefore = child.cpuSeconds();
    await child.refitsDone();
    expect(child.queuedRefits()).toBe(0);
    // The refit's CPU is counted as background work, apart from the calls'.
    expect(child.cpuSeconds().refitsSeconds).toBeGreaterThan(cpuBefore.refitsSeconds);
    expect(child.cpuSeconds().callsSeconds).toBeGreaterThan(0);
    const next = await child.forecast(auto(nowMs + MINUTE_MS));
    for (const reply of next) {
      expect(reply.fits).toHaveLength(1);
      expect(reply.forecasts[0]!.selection!.reason).not.toMatch(/first pass/);
    }
  });

  it('rejects calls after close', async () => {
    const child = new ProcessModelHost();
    await child.forecast({ ...request(), series: [] });
    await child.close();
    await expect(child.forecast(request())).rejects.toThrow(/closed/);
  });
});
