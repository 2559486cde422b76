import type { QueryResult } from 'prometheus-query';
import { describe, expect, test } from 'vitest';
import { onGrid, parseResult, seriesOf } from '../../../src/source/prometheus-response.js';

// The driver's decoded answers as prometheus-query makes them (a Date per point), decoded into
// columns, merged across the chunks of a range read, and put on the grid.

const t0 = Date.UTC(2026, 10, 2, 12);
const minute = 60_000;

/** A matrix answer in the driver's shape: metric name and labels apart, one { time, value } per point. */
function matrix(series: readonly { readonly labels: Record<string, string>; readonly points: readonly (readonly [number, number])[] }[]): QueryResult {
  const result = series.map((s) => ({ metric: { name: 'queue_depth', labels: s.labels }, values: s.points.map(([ms, value]) => ({ time: new Date(ms), value })) }));
  return { resultType: 'matrix', result } as unknown as QueryResult;
}

describe('parseResult', () => {
  test('reads a matrix into label sets and two columns, skipping points that are not a time and a number', () => {
    const answer = matrix([
      {
        labels: { queue: 'orders' },
        points: [
          [t0, 1],
          [t0 + minute, 2],
        ],
      },
    ]);
    (answer.result[0] as { values: unknown[] }).values.push({ time: 'yesterday', value: 3 }, { time: new Date(t0 + 2 * minute), value: '4' });
    const parsed = parseResult(answer);
    expect('error' in parsed).toBe(false);
    if ('error' in parsed) return;
    expect(parsed.kind).toBe('matrix');
    expect(parsed.series).toHaveLength(1);
    expect(parsed.series[0]!.labels).toEqual({ __name__: 'queue_depth', queue: 'orders' });
    expect([...parsed.series[0]!.samples.timestampsMs]).toEqual([t0, t0 + minute]);
    expect([...parsed.series[0]!.samples.values]).toEqual([1, 2]);
  });

  test('names an unsupported result type', () => {
    expect(parseResult({ resultType: 'string', result: [] } as unknown as QueryResult)).toEqual({ error: 'unsupported result type "string"' });
  });
});

describe('seriesOf', () => {
  test('merges the chunks of one range read by label set, in order, and keeps other label sets apart', () => {
    const first = parseResult(
      matrix([
        { labels: { queue: 'a' }, points: [[t0, 1]] },
        { labels: { queue: 'b' }, points: [[t0, 10]] },
      ]),
    );
    const second = parseResult(
      matrix([
        {
          labels: { queue: 'a' },
          points: [
            [t0 + minute, 2],
            [t0 + 2 * minute, 3],
          ],
        },
      ]),
    );
    const read = seriesOf({ ok: true, results: [first, second] }, 'q', 'range');
    if ('failure' in read) throw new Error(read.failure);
    const byQueue = Object.fromEntries(read.series.map((s) => [s.labels['queue'], { t: [...s.samples.timestampsMs], v: [...s.samples.values] }]));
    expect(byQueue).toEqual({ a: { t: [t0, t0 + minute, t0 + 2 * minute], v: [1, 2, 3] }, b: { t: [t0], v: [10] } });
  });

  test('refuses a range vector where an instant read expects a value', () => {
    const read = seriesOf({ ok: true, results: [parseResult(matrix([{ labels: {}, points: [[t0, 1]] }]))] }, 'up[5m]', 'instant');
    expect(read).toEqual({ failure: 'the result is a range vector; an instant query needs an instant vector or a scalar: up[5m]' });
  });
});

describe('onGrid', () => {
  const range = { startMs: t0, endMs: t0 + 4 * minute, stepSeconds: 60 };

  test('puts each sample on its nearest grid point, NaN where none is, non-finite values and points outside left out', () => {
    const samples = {
      // A point a millisecond early (float seconds on the wire) is still its own grid point's.
      timestampsMs: Float64Array.of(t0 - 5 * minute, t0, t0 + minute - 1, t0 + 2 * minute, t0 + 4 * minute, t0 + 9 * minute),
      values: Float64Array.of(99, 1, 2, Number.NaN, 5, 99),
    };
    const grid = onGrid(samples, range);
    expect(grid.startMs).toBe(t0);
    expect(grid.stepSeconds).toBe(60);
    expect([...grid.values]).toEqual([1, 2, Number.NaN, Number.NaN, 5]);
  });

  test('an empty range has no points', () => {
    expect(onGrid({ timestampsMs: Float64Array.of(t0), values: Float64Array.of(1) }, { ...range, endMs: t0 - 1 }).values).toHaveLength(0);
  });
});
