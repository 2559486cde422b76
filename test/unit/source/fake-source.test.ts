import { describe, expect, test } from 'vitest';
import { isForesightError, type InputRef } from '../../../src/core/index.js';
import { FakeSource } from '../../support/fake-source.js';

const depth: InputRef = { kind: 'queue', queue: 'q', metric: 'depth' };
const cpu: InputRef = { kind: 'system', metric: 'cpu_percent' };
const load1: InputRef = { kind: 'system', metric: 'load1' };

describe('FakeSource', () => {
  test('serves the newest sample at or before atMs, and an Error as query_failed', async () => {
    const fake = new FakeSource()
      .set(depth, [
        { timestampMs: 1000, value: 1 },
        { timestampMs: 3000, value: 3 },
        { timestampMs: 2000, value: 2 },
      ])
      .set(cpu, new Error('boom'));
    const result = await fake.readLatest([depth, cpu, load1], 2500);
    expect(result.readings).toEqual([{ input: depth, timestampMs: 2000, value: 2 }]);
    expect(result.problems).toEqual([{ input: cpu, reason: 'query_failed', message: 'boom' }]);
    expect(fake.calls).toEqual([{ method: 'readLatest', inputs: [depth, cpu, load1], atMs: 2500 }]);
  });

  test('puts history on the requested grid', async () => {
    const fake = new FakeSource([['queue/q/depth', [{ timestampMs: 60_000, value: 5 }]]]);
    const { history } = await fake.readHistory([depth], { startMs: 0, endMs: 120_000, stepSeconds: 60 });
    expect([...history[0]!.series.values]).toEqual([Number.NaN, 5, Number.NaN]);
  });

  test('rejects every call during an outage, and recovers', async () => {
    const fake = new FakeSource().set(depth, [{ timestampMs: 0, value: 1 }]);
    fake.failAll();
    expect(fake.failing).toBe(true);
    const error: unknown = await fake.readLatest([depth], 0).catch((e: unknown) => e);
    expect(isForesightError(error) && error.code).toBe('FORESIGHT_ERR_SOURCE_QUERY');
    await expect(fake.readHistory([depth], { startMs: 0, endMs: 0, stepSeconds: 60 })).rejects.toThrow();
    fake.recover();
    expect((await fake.readLatest([depth], 0)).readings).toHaveLength(1);
  });
});
