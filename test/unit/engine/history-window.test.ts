import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import { guardSeries, type InputRef, inputKey, maxServableMagnitude, type Sample } from '../../../src/core/index.js';
import { type HistoryRead, HistoryWindow, type ReadOutcome, inlineModelHost, type ModelHostPort, olderPointsPerCycle, Reconciler, type Recorder, SnapshotStore } from '../../../src/engine/index.js';
import { FakeSource } from '../../support/fake-source.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const depth = (queue: string): InputRef => ({ kind: 'queue', queue, metric: 'depth' });

/** The defaults: 1-minute grid, daily season, 15-minute horizon, 7-day window. */
const weekly = configFromYaml('forecast: { step: 1m, season: 1d, history: 7d, horizons: [15m] }');
const t0 = Date.UTC(2026, 10, 2, 12, 0, 0);
const points = (read: HistoryRead) => (read.range.endMs - read.range.startMs) / MINUTE_MS + 1;

/** A read answered with no data, or failed for every input (`query_failed`). */
function answered(read: HistoryRead, failed = false): ReadOutcome {
  return { read, readings: { history: [], problems: failed ? read.inputs.map((input) => ({ input, reason: 'query_failed', message: 'timeout' })) : [] } };
}

/** Runs the window's reads cycle after cycle, every read answered except where `fails` says, until nothing older is left. */
function drive(window: HistoryWindow, targets: readonly InputRef[], config: Config, fromMs: number, fails: (read: HistoryRead, cycle: number) => boolean = () => false) {
  const cycles: HistoryRead[][] = [];
  for (let cycle = 0; cycle < 100; cycle++) {
    const gridEndMs = fromMs + cycle * MINUTE_MS;
    const reads = window.reads(targets, config, gridEndMs);
    cycles.push(reads);
    window.readsDone(
      reads.map((read) => answered(read, fails(read, cycle))),
      gridEndMs,
    );
    if (window.backlog(targets, config, gridEndMs).series === 0) return cycles;
  }
  throw new Error('the window never filled');
}

describe('HistoryWindow', () => {
  it("reads a new input's recent past first (two seasons and the largest horizon), then the older part in slices next to what is held", () => {
    const window = new HistoryWindow();
    const targets = [depth('a'), depth('b')];
    const cycles = drive(window, targets, weekly, t0);
    expect(cycles[0]).toEqual([{ inputs: targets, range: { startMs: t0 - 2 * DAY_MS - 15 * MINUTE_MS, endMs: t0, stepSeconds: 60 }, kind: 'first' }]);
    // Two series: the whole rest of the window fits in one slice of the per-cycle budget.
    const second = t0 + MINUTE_MS;
    expect(cycles[1]).toEqual([
      { inputs: targets, range: { startMs: t0 - 5 * MINUTE_MS, endMs: second, stepSeconds: 60 }, kind: 'recent' },
      { inputs: targets, range: { startMs: second - 7 * DAY_MS, endMs: t0 - 2 * DAY_MS - 15 * MINUTE_MS, stepSeconds: 60 }, kind: 'older' },
    ]);
    expect(cycles).toHaveLength(2);
    expect(window.backlog(targets, weekly, second)).toEqual({ series: 0, points: 0 });
    // From then on, only the recent past.
    expect(window.reads(targets, weekly, second + MINUTE_MS).map((r) => r.kind)).toEqual(['recent']);
  });

  it('bounds the older points read per cycle, whatever the number of series, and covers the window without a hole', () => {
    const window = new HistoryWindow();
    const targets = Array.from({ length: 2200 }, (_, i) => depth(`q${i}`));
    const cycles = drive(window, targets, weekly, t0);
    const older = cycles.flat().filter((r) => r.kind === 'older');
    for (const cycle of cycles) expect(cycle.filter((r) => r.kind === 'older').reduce((sum, r) => sum + r.inputs.length * points(r), 0)).toBeLessThanOrEqual(olderPointsPerCycle + 2200);
    // 2,200 series: 227 steps (3.8 h) a slice, each slice ending on the oldest point held.
    expect(points(older[0]!)).toBe(228);
    for (let i = 1; i < older.length; i++) expect(older[i]!.range.endMs).toBe(older[i - 1]!.range.startMs);
    const last = cycles.length - 1;
    expect(older.at(-1)!.range.startMs).toBe(t0 + last * MINUTE_MS - 7 * DAY_MS);
    expect(cycles.length).toBeLessThanOrEqual(34);
  });

  it('asks a failed first read or older slice again next cycle, so nothing is lost', () => {
    const window = new HistoryWindow();
    const targets = [depth('a')];
    // The first read fails once, then the first older slice fails twice.
    let olderFailures = 0;
    const cycles = drive(window, targets, weekly, t0, (read, cycle) => (read.kind === 'first' && cycle === 0) || (read.kind === 'older' && olderFailures++ < 2));
    expect(cycles.map((reads) => reads.map((r) => r.kind))).toEqual([['first'], ['first'], ['recent', 'older'], ['recent', 'older'], ['recent', 'older']]);
    const slices = cycles.slice(2).map((reads) => reads[1]!.range);
    // The same slice each time (its start follows the window, which moved a minute), ending on the oldest point held.
    for (const slice of slices) expect(slice.endMs).toBe(t0 + MINUTE_MS - 2 * DAY_MS - 15 * MINUTE_MS);
  });

  it('gives an input that appears later (a discovered queue) its own first read and slices, and forgets what retain and clear drop', () => {
    const window = new HistoryWindow();
    drive(window, [depth('a')], weekly, t0);
    const later = t0 + HOUR_MS;
    const reads = window.reads([depth('a'), depth('new')], weekly, later);
    expect(reads.map((r) => [r.kind, r.inputs.map(inputKey)])).toEqual([
      ['recent', ['queue/a/depth']],
      ['first', ['queue/new/depth']],
    ]);
    window.readsDone(
      reads.map((read) => answered(read)),
      later,
    );
    expect(window.backlog([depth('a'), depth('new')], weekly, later)).toEqual({ series: 1, points: 7 * 1440 - (2 * 1440 + 15) });
    expect(window.reads([depth('a'), depth('new')], weekly, later + MINUTE_MS).map((r) => [r.kind, r.inputs.map(inputKey)])).toEqual([
      ['recent', ['queue/a/depth', 'queue/new/depth']],
      ['older', ['queue/new/depth']],
    ]);
    // A queue that expired is forgotten: it would be read afresh if it came back.
    window.retain(new Set(['queue/a/depth']));
    expect(window.reads([depth('new')], weekly, later + 2 * MINUTE_MS).map((r) => r.kind)).toEqual(['first']);
    // A new grid: everything is read afresh.
    window.clear();
    expect(window.reads([depth('a')], weekly, later + 3 * MINUTE_MS).map((r) => r.kind)).toEqual(['first']);
  });

  it("keeps each series' robust range until about 1 % of its points are new, and forgets it with the series", () => {
    const window = new HistoryWindow();
    const key = 'queue/a/depth';
    const gridEndMs = t0;
    const week = Float64Array.from({ length: 7 * 1440 + 1 }, (_, i) => 10 + (i % 50));
    window.merge(key, [{ startMs: gridEndMs - 7 * DAY_MS, stepSeconds: 60, values: week }], weekly, gridEndMs);
    expect(window.rangeOf(key)).toMatchObject({ low: 10, high: 59 });
    // New points far above the range: the kept range stands until 0.5–1.5 % of the week is new (50–150 points) ...
    let minutes = 0;
    const spike = (n: number) => {
      for (let i = 0; i < n; i++) {
        minutes += 1;
        window.merge(key, [{ startMs: gridEndMs + minutes * MINUTE_MS, stepSeconds: 60, values: Float64Array.of(10_000) }], weekly, gridEndMs + minutes * MINUTE_MS);
      }
    };
    spike(49);
    expect(window.rangeOf(key)).toMatchObject({ high: 59 });
    // ... and after 1.5 % it is computed again: 152 points of 10,000 in 10,081 are above the 99.5 % quantile's rank.
    spike(103);
    expect(window.rangeOf(key)?.high).toBe(10_000);
    // A fresh read of a series never held is judged on itself; a series forgotten has no range.
    expect(window.rangeOf('queue/new/depth', Float64Array.of(1, 2, 3))).toMatchObject({ low: 1, high: 3 });
    window.retain(new Set(['queue/new/depth']));
    expect(window.rangeOf(key)).toBeUndefined();
  });

  it('holds its buffers as 32-bit floats: 4 bytes a point, values within float32 precision, integers to 2^24 exact', () => {
    const window = new HistoryWindow();
    const key = 'queue/a/depth';
    const length = 7 * 1440 + 1;
    const values = Float64Array.from({ length }, (_, i) => (i === 0 ? 16_777_216 : i === 1 ? 123_456.789 : i % 3 === 0 ? Number.NaN : i));
    window.merge(key, [{ startMs: t0 - 7 * DAY_MS, stepSeconds: 60, values }], weekly, t0);
    const held = window.get(key)!.values;
    expect(held).toBeInstanceOf(Float32Array);
    expect(held.length).toBe(length);
    expect(held.byteLength).toBe(4 * length);
    expect(held[0]).toBe(16_777_216);
    // 7 significant digits: 123456.789 is held as 123456.7891 (within half a unit in the last place, 2^-8 here).
    expect(Math.abs(held[1]! - 123_456.789)).toBeLessThanOrEqual(2 ** -8);
    expect(held[1]).toBe(Math.fround(123_456.789));
    for (let i = 2; i < length; i++) if (!Object.is(held[i], i % 3 === 0 ? Number.NaN : i)) expect.fail(`index ${i}: ${held[i]}`);
    // Slid in place by a step: the same buffer, still 32-bit.
    window.merge(key, [{ startMs: t0 + MINUTE_MS, stepSeconds: 60, values: Float64Array.of(7.25) }], weekly, t0 + MINUTE_MS);
    expect(window.get(key)!.values).toBe(held);
    expect(held[0]).toBe(Math.fround(123_456.789));
    expect(held.at(-1)).toBe(7.25);
  });

  it('never stores a value that would not be finite as a 32-bit float: it is a gap, and the sample guard refuses it first', () => {
    const window = new HistoryWindow();
    const key = 'queue/a/depth';
    const values = Float64Array.of(5, 1e39, -1e39, Number.POSITIVE_INFINITY, 3.4e38, 6);
    window.merge(key, [{ startMs: t0 - 5 * MINUTE_MS, stepSeconds: 60, values }], weekly, t0);
    // 1e39 is past float32's largest (3.40282e38) and would round to ±Infinity; 3.4e38 is within it.
    expect(Array.from(window.get(key)!.values.subarray(-6))).toEqual([5, Number.NaN, Number.NaN, Number.NaN, Math.fround(3.4e38), 6]);
    // A later read's huge value keeps what is held (a gap in a read never overwrites).
    window.merge(key, [{ startMs: t0, stepSeconds: 60, values: Float64Array.of(1e39) }], weekly, t0);
    expect(window.get(key)!.values.at(-1)).toBe(6);
    // Before any merge, the sample guard refuses it with a reason: no domain reaches past 9e12.
    expect(Number.isFinite(Math.fround(maxServableMagnitude))).toBe(true);
    const guarded = guardSeries(depth('a'), { startMs: t0, stepSeconds: 60, values: Float64Array.of(1e39, -1e39, 12) }, undefined);
    expect(Array.from(guarded.series.values)).toEqual([Number.NaN, Number.NaN, 12]);
    expect(guarded.rejected.get('out_of_domain')).toBe(2);
  });

  it('reads the whole window at once when two seasons and the horizon cover it', () => {
    const short = configFromYaml('forecast: { step: 1m, season: 1h, history: 2h, horizons: [15m] }');
    expect(new HistoryWindow().reads([depth('a')], short, t0)).toEqual([{ inputs: [depth('a')], range: { startMs: t0 - 2 * HOUR_MS, endMs: t0, stepSeconds: 60 }, kind: 'first' }]);
  });
});

describe('Reconciler with a history window filled in slices', () => {
  const yaml = `
queues: [{ name: orders, threshold: 150 }]
forecast: { model: holt_winters, step: 1m, season: 1h, history: 6h, horizons: [15m], refitInterval: 30m }
`;
  const silent: Recorder = { cycleFinished() {}, sourceProblem() {}, modelFitted() {}, decided() {}, anomaliesScored() {} };
  const hourly = (t: number) => 100 + 30 * Math.sin((2 * Math.PI * t) / HOUR_MS);

  function setup() {
    const clock = new ManualClock(t0 + 20_000);
    const samples: Sample[] = [];
    for (let t = t0 - 12 * HOUR_MS; t <= t0 + HOUR_MS; t += MINUTE_MS) samples.push({ timestampMs: t, value: hourly(t) });
    const source = new FakeSource().set(depth('orders'), samples);
    // Every forecast request, to see what history each cycle sends the models.
    const host = inlineModelHost();
    const requests: { key: string; finite: number }[][] = [];
    const models: ModelHostPort = {
      ...host,
      forecast: (request) => {
        requests.push(request.series.map(({ key, series }) => ({ key, finite: series.values.filter(Number.isFinite).length })));
        return host.forecast(request);
      },
    };
    const config = configFromYaml(yaml);
    const reconciler = new Reconciler({ source, clock, store: new SnapshotStore({ historyRetentionSeconds: 3600 }), recorder: silent, config: () => config, models });
    return { clock, source, reconciler, requests };
  }

  it("sends each cycle's forecast request the grown history, and reports what is left to read", async () => {
    const { clock, reconciler, requests } = setup();
    const first = await reconciler.runCycle();
    clock.advance(30);
    const second = await reconciler.runCycle();
    const depthPoints = requests.map((r) => r.find((s) => s.key === 'queue/orders/depth')!.finite);
    // 2 h 15 min, then the whole 6 h window.
    expect(depthPoints).toEqual([136, 361]);
    expect(first.history).toMatchObject({ pendingSeries: 5, failedSeries: 0 });
    expect(second.history).toEqual({ pendingSeries: 0, pendingPoints: 0, failedSeries: 0 });
  });

  it("an older slice that fails is not the input's problem, does not fail the cycle, and is asked again", async () => {
    const { clock, source, reconciler, requests } = setup();
    await reconciler.runCycle();
    // Prometheus refuses only the older slice (the recent read and the latest value succeed).
    const readHistory = source.readHistory.bind(source);
    let refuse = true;
    source.readHistory = (inputs, range, signal) => (refuse && range.endMs < t0 - HOUR_MS ? Promise.reject(new Error('timeout: query_range took too long')) : readHistory(inputs, range, signal));
    clock.advance(30);
    const failed = await reconciler.runCycle();
    expect(failed.problems).toEqual([]);
    expect(failed.history).toEqual({ pendingSeries: 5, pendingPoints: 5 * (360 - 135), failedSeries: 5, error: 'timeout: query_range took too long' });
    refuse = false;
    clock.advance(30);
    const recovered = await reconciler.runCycle();
    expect(recovered.history).toMatchObject({ pendingSeries: 0, failedSeries: 0 });
    expect(requests.map((r) => r.find((s) => s.key === 'queue/orders/depth')!.finite)).toEqual([136, 136, 361]);
  });
});
