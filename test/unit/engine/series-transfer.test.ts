import { describe, expect, it } from 'vitest';
import type { RegularSeries } from '../../../src/core/index.js';
import { SeriesReceiver, SeriesSender, type TransferredSeries } from '../../../src/engine/series-transfer.js';

const stepSeconds = 60;
const stepMs = stepSeconds * 1000;
const length = 10_081;

/** A deterministic value for each minute of the clock, so two windows agree where they overlap. */
const valueAt = (minute: number) => (minute % 97 === 0 ? Number.NaN : 100 + Math.sin(minute / 50) * 40 + (minute % 7));

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
});
