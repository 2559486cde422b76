import { describe, expect, test } from 'vitest';
import { batchLabel, batchLabelValue, planBatches, splitBatch } from '../../../src/source/prometheus-batch.js';
import type { ParsedResult, ResultSeries } from '../../../src/source/prometheus-response.js';

const one = (value: number): ResultSeries['samples'] => ({ timestampsMs: Float64Array.of(1000), values: Float64Array.of(value) });
const series = (labels: Record<string, string>, value = 1): ResultSeries => ({ labels, samples: one(value) });
const vector = (...items: ResultSeries[]): ParsedResult => ({ kind: 'vector', series: items });
const queries = (n: number): string[] => Array.from({ length: n }, (_, i) => `sum(m${i})`);

describe('planBatches', () => {
  test('joins the queries with or, each setting its index on the series that lack it', () => {
    const [batch, ...rest] = planBatches(['sum(a)', 'b{x="1"}'], { maxQueries: 10, maxQueryLength: 10_000 }, 1);
    expect(rest).toEqual([]);
    expect(batch!.members).toEqual([0, 1]);
    expect(batch!.query).toBe(
      `label_replace(sum(a), "${batchLabel}", "${batchLabelValue(0)}", "${batchLabel}", "") or label_replace(b{x="1"}, "${batchLabel}", "${batchLabelValue(1)}", "${batchLabel}", "")`,
    );
  });

  test('spreads the queries over as many requests as may run at once, within maxQueries', () => {
    expect(planBatches(queries(70), { maxQueries: 100, maxQueryLength: 1e6 }, 8).map((b) => b.members.length)).toEqual([9, 9, 9, 9, 9, 9, 9, 7]);
    expect(planBatches(queries(700), { maxQueries: 50, maxQueryLength: 1e6 }, 8).map((b) => b.members.length)).toEqual(Array(14).fill(50));
    // Fewer queries than requests at once: each goes alone, unwrapped.
    expect(planBatches(queries(3), { maxQueries: 100, maxQueryLength: 1e6 }, 8)).toEqual([0, 1, 2].map((i) => ({ query: `sum(m${i})`, members: [i] })));
  });

  test('keeps every batched query within maxQueryLength; a query too long to share goes alone', () => {
    const long = `sum(${'x'.repeat(500)})`;
    const batches = planBatches([...queries(20), long, ...queries(5)], { maxQueries: 100, maxQueryLength: 400 }, 1);
    for (const b of batches) if (b.members.length > 1) expect(b.query.length).toBeLessThanOrEqual(400);
    expect(batches.find((b) => b.members.includes(20))).toEqual({ query: long, members: [20] });
    expect(batches.flatMap((b) => b.members)).toEqual(Array.from({ length: 26 }, (_, i) => i));
  });

  test('maxQueries 1 sends every query alone', () => {
    expect(planBatches(queries(4), { maxQueries: 1, maxQueryLength: 1e6 }, 1).map((b) => b.query)).toEqual(queries(4));
  });
});

describe('splitBatch', () => {
  test('gives each query its own series, the index label dropped', () => {
    const answer = vector(series({ [batchLabel]: batchLabelValue(1), queue: 'a' }, 2), series({ [batchLabel]: batchLabelValue(0) }, 1), series({ [batchLabel]: batchLabelValue(1), queue: 'b' }, 3));
    const parts = splitBatch(answer, 3, 'vector');
    expect(parts?.map((p) => ('series' in p ? p.series.map((s) => [s.labels, s.samples.values[0]]) : p))).toEqual([
      [[{}, 1]],
      [
        [{ queue: 'a' }, 2],
        [{ queue: 'b' }, 3],
      ],
      [], // no series: the query's answer is empty
    ]);
  });

  test('refuses an answer it cannot trust to be what each query answers alone', () => {
    const ours = (index: number, labels: Record<string, string> = {}) => series({ [batchLabel]: batchLabelValue(index), ...labels });
    // A series that carried the label already keeps its own value (not ours), or has none at all.
    expect(splitBatch(vector(ours(0), series({ [batchLabel]: 'theirs' })), 2, 'vector')).toBeUndefined();
    expect(splitBatch(vector(ours(0), series({ [batchLabel]: `${batchLabelValue(1)}0` })), 2, 'vector')).toBeUndefined();
    expect(splitBatch(vector(ours(0), series({})), 2, 'vector')).toBeUndefined();
    // An index beyond the batch, or duplicate label sets within one query.
    expect(splitBatch(vector(ours(2)), 2, 'vector')).toBeUndefined();
    expect(splitBatch(vector(ours(1, { a: '1', b: '2' }), ours(1, { b: '2', a: '1' })), 2, 'vector')).toBeUndefined();
    // Another result type, or an error.
    expect(splitBatch(vector(ours(0)), 1, 'matrix')).toBeUndefined();
    expect(splitBatch({ error: 'bad' }, 1, 'vector')).toBeUndefined();
  });
});
