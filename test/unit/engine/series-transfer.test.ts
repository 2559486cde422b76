import { describe, expect, it } from 'vitest';
import type { RegularSeries } from '../../../src/core/index.js';
import { HistoryWindow } from '../../../src/engine/index.js';
import { SeriesReceiver, SeriesSender, type TransferredSeries } from '../../../src/engine/series-transfer.js';
import { configFromYaml } from '../../support/service.js';

const stepSeconds = 60;
const stepMs = stepSeconds * 1000;
const length = 10_081;

/**
 * A deterministic value for each minute of the clock, so two windows agree where they overlap;
 * rounded to 32 bits, as the receiver holds values, so that they come back bit for bit.
 */
const valueAt = (minute: number) => (minute % 97 === 0 ? Number.NaN : Math.fround(100 + Math.sin(minute / 50) * 40 + (minute % 7)));

function window(endMinute: number, edit?: (values: Float64Array) => void): RegularSeries {
  const startMinute = endMinute - length + 1;
  const values = Float64Array.from({ length }, (_, i) => valueAt(startMinute + i));
  edit?.(values);
  return { startMs: startMinute * stepMs, stepSeconds, values };
}

const sentPoints = (items: readonly TransferredSeries[]) => items.reduce((sum, t) => sum + ('series' in t ? t.series.values.length : t.blocks.reduce((s, b) => s + b.values.length, 0)), 0);

function expectSame(actual: RegularSeries, expected: RegularSeries): void {
  expect(actual.startMs).toBe(expected.startMs);
  expect(actual.stepSeconds).toBe(expected.stepSeconds);
  expect(actual.values.length).toBe(expected.values.length);
  // Object.is: NaN where NaN was sent, every other value bit for bit.
  for (let i = 0; i < expected.values.length; i++) if (!Object.is(actual.values[i], expected.values[i])) expect.fail(`index ${i}: ${actual.values[i]} != ${expected.values[i]}`);
}

describe('series transfer to a model process', () => {
  it('rebuilds every series exactly from the blocks that changed, cycle after cycle', () => {
    const sender = new SeriesSender();
    const receiver = new SeriesReceiver();
    const cycles: RegularSeries[][] = [
      [window(30_000), window(40_000)],
      // One minute on: the windows slid by one step.
      [window(30_001), window(40_001)],
      // Seventy minutes on, and a late sample rewrote a point in the middle of the first.
      [
        window(30_071, (v) => {
          v[5_000] = 12_345;
        }),
        window(40_071),
      ],
      // A point that was finite is missing now (NaN is a value like any other here).
      [
        window(30_072, (v) => {
          v[100] = Number.NaN;
        }),
        window(40_072),
      ],
    ];
    cycles.forEach((series, cycle) => {
      const sent = sender.encode(series.map((s, i) => ({ key: `k${i}`, series: s })));
      const got = receiver.decode(sent);
      series.forEach((s, i) => {
        expectSame(got[i]!.series, s);
      });
      if (cycle === 0) expect(sentPoints(sent)).toBe(2 * length);
      // After the first cycle only a few blocks of 64 points travel, not 20,000 points.
      else expect(sentPoints(sent)).toBeLessThan(8 * 64);
    });
  });

  it('sends a series whole when it is new, came back, or changed its step; a receiver that lost track refuses a delta', () => {
    const sender = new SeriesSender();
    const receiver = new SeriesReceiver();
    receiver.decode(sender.encode([{ key: 'a', series: window(1_000) }]));
    // 'a' left for a cycle: when it comes back it travels whole.
    receiver.decode(sender.encode([{ key: 'b', series: window(1_001) }]));
    const back = sender.encode([
      { key: 'a', series: window(1_002) },
      { key: 'b', series: window(1_002) },
    ]);
    expect(back.map((t) => 'series' in t)).toEqual([true, false]);
    receiver.decode(back);
    const fiveMinutes = { ...window(1_003), stepSeconds: 300 };
    expect('series' in sender.encode([{ key: 'a', series: fiveMinutes }])[0]!).toBe(true);
    // A fresh receiver (a restarted process) holds nothing: the delta is refused with the reason...
    const delta = sender.encode([{ key: 'a', series: fiveMinutes }]);
    expect(() => new SeriesReceiver().decode(delta)).toThrow(/series a: a delta on version \d+, which this process does not hold/);
    // ...and after clear() the sender sends every series whole again.
    sender.clear();
    const again = sender.encode([{ key: 'a', series: fiveMinutes }]);
    expect('series' in again[0]!).toBe(true);
    expectSame(new SeriesReceiver().decode(again)[0]!.series, fiveMinutes);
  });

  it('sends 32-bit floats and the receiver holds them: a value comes back from merge, send and receive within float32 precision', () => {
    const config = configFromYaml('forecast: { step: 1m, season: 1h, history: 1d, horizons: [15m] }');
    const history = new HistoryWindow();
    const sender = new SeriesSender();
    const receiver = new SeriesReceiver();
    const gridEndMs = 30_000 * stepMs;
    history.merge('a', [{ startMs: gridEndMs - 2 * stepMs, stepSeconds, values: Float64Array.of(123_456.789, 0.1, 16_777_216) }], config, gridEndMs);
    const first = receiver.decode(structuredClone(sender.encode([{ key: 'a', series: history.get('a')!, changes: history.changesOf('a')! }])))[0]!.series;
    expect(first.values).toBeInstanceOf(Float32Array);
    expect(first.values.byteLength).toBe(4 * 1441);
    // Relative error within float32's half unit in the last place (2^-24); integers to 2^24 exact.
    expect(Math.abs(first.values.at(-3)! - 123_456.789) / 123_456.789).toBeLessThanOrEqual(2 ** -24);
    expect(Math.abs(first.values.at(-2)! - 0.1) / 0.1).toBeLessThanOrEqual(2 ** -24);
    expect(first.values.at(-1)).toBe(16_777_216);
    // The next cycle travels as a Float32 block, and the receiver's buffer is slid and written in place.
    history.merge('a', [{ startMs: gridEndMs + stepMs, stepSeconds, values: Float64Array.of(98_765.4321) }], config, gridEndMs + stepMs);
    const sent = sender.encode([{ key: 'a', series: history.get('a')!, changes: history.changesOf('a')! }]);
    const delta = sent[0]!;
    if ('series' in delta) expect.fail('expected a delta');
    for (const block of delta.blocks) expect(block.values).toBeInstanceOf(Float32Array);
    const next = receiver.decode(structuredClone(sent))[0]!.series;
    expect(next.values).toBe(first.values);
    expect(next.values.at(-4)).toBe(Math.fround(123_456.789));
    expect(Math.abs(next.values.at(-1)! - 98_765.4321) / 98_765.4321).toBeLessThanOrEqual(2 ** -24);
  });

  it('sends a 64-bit series as 32-bit floats too, and its checksums tell only what changed after rounding', () => {
    const sender = new SeriesSender();
    const receiver = new SeriesReceiver();
    const exact = window(50_000, (v) => {
      v[100] = 123_456.789;
    });
    expect(exact.values).toBeInstanceOf(Float64Array);
    const whole = sender.encode([{ key: 'a', series: exact }]);
    const got = receiver.decode(whole)[0]!.series;
    expect(got.values).toBeInstanceOf(Float32Array);
    expect(got.values[100]).toBe(Math.fround(123_456.789));
    // A change below float32 precision changes nothing that travels; one above it sends its block.
    const tiny = { ...exact, values: exact.values.slice() };
    tiny.values[100] = 123_456.789 + 1e-6;
    const unchanged = sender.encode([{ key: 'a', series: tiny }]);
    expect(sentPoints(unchanged)).toBe(0);
    receiver.decode(unchanged);
    const bigger = { ...exact, values: exact.values.slice() };
    bigger.values[100] = 123_456.8;
    const sent = sender.encode([{ key: 'a', series: bigger }]);
    expect(sentPoints(sent)).toBe(64);
    expect(receiver.decode(sent)[0]!.series.values[100]).toBe(Math.fround(123_456.8));
  });

  it("sends only what the history window's merges wrote, and the receiver rebuilds the window exactly, whatever the merges", () => {
    // A real HistoryWindow (a day at 1 minute), merged in place with random parts: recent points,
    // late rewrites, gaps (which keep the value held), older slices, skipped cycles, a series dropped
    // and back, a read that fails and clears the sender. The receiver must hold the window bit for bit.
    const config = configFromYaml('forecast: { step: 1m, season: 1h, history: 1d, horizons: [15m] }');
    const day = 1441;
    let seed = 3;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const history = new HistoryWindow();
    const sender = new SeriesSender();
    let receiver = new SeriesReceiver();
    const keys = ['a', 'b', 'c'];
    let gridEndMs = 20_000 * stepMs;
    let withChanges = 0;
    let deltaPoints = 0;
    for (let cycle = 0; cycle < 300; cycle++) {
      gridEndMs += (random() < 0.1 ? 1 + Math.floor(random() * 20) : 1) * stepMs;
      if (random() < 0.02) history.retain(new Set(['a', 'c']));
      for (const key of keys) {
        if (random() < 0.1) continue;
        const parts: RegularSeries[] = [];
        const recent = 1 + Math.floor(random() * 6);
        parts.push({ startMs: gridEndMs - (recent - 1) * stepMs, stepSeconds, values: Float64Array.from({ length: recent }, () => (random() < 0.2 ? Number.NaN : Math.round(random() * 1000))) });
        if (random() < 0.2) {
          const from = gridEndMs - Math.floor(random() * day) * stepMs;
          parts.push({ startMs: from, stepSeconds, values: Float64Array.from({ length: 1 + Math.floor(random() * 300) }, () => (random() < 0.3 ? Number.NaN : random())) });
        }
        history.merge(key, parts, config, gridEndMs);
      }
      // Some series skip a cycle's request (no data yet): the sender forgets them and sends them whole next time.
      const items = keys.filter((key) => history.get(key) !== undefined && random() < 0.9).map((key) => ({ key, series: history.get(key)!, changes: history.changesOf(key)! }));
      const sent = sender.encode(items);
      if (random() < 0.03) {
        // The call failed: the process may not hold it; a restarted one holds nothing.
        sender.clear();
        receiver = new SeriesReceiver();
        continue;
      }
      // What a model process receives is a copy (the IPC channel serializes it); the window's buffers change in place.
      const got = receiver.decode(structuredClone(sent));
      items.forEach((item, i) => {
        expectSame(got[i]!.series, item.series);
      });
      for (const t of sent) {
        if ('series' in t) continue;
        withChanges += 1;
        deltaPoints += t.blocks.reduce((sum, b) => sum + b.values.length, 0);
      }
    }
    // Most requests were deltas, of a few blocks each rather than a day of points.
    expect(withChanges).toBeGreaterThan(400);
    expect(deltaPoints / withChanges).toBeLessThan(3 * 64);
  });
});
