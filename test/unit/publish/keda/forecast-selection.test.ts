import { describe, expect, test } from 'vitest';
import { parseQuantile, parseSelection, readForecast } from '../../../../src/publish/keda/index.js';
import { fixtureSnapshot } from './snapshot-fixture.js';

const defaults = { horizonSeconds: 900, quantile: '0.5' } as const;
const nowMs = Date.UTC(2026, 0, 5, 12, 0, 0);

describe('parseQuantile', () => {
  const cases: readonly [string, string | undefined][] = [
    ['0.9', '0.9'],
    ['0.90', '0.9'],
    ['.9', '0.9'],
    ['0.1', '0.1'],
    ['0.5', '0.5'],
    ['0.95', undefined],
    ['1', undefined],
    ['90', undefined],
    ['p90', undefined],
    ['0.9e0', undefined],
    ['', undefined],
    [' ', undefined],
    ['NaN', undefined],
  ];
  for (const [raw, expected] of cases) {
    test(`${JSON.stringify(raw)} → ${String(expected)}`, () => expect(parseQuantile(raw)).toBe(expected));
  }
});

describe('parseSelection', () => {
  const ok = (queue: string, horizonSeconds: number, quantile: string) => ({ ok: true, value: { queue, horizonSeconds, quantile } });
  const cases: readonly { name: string; raw: Record<string, string | undefined>; expected: unknown }[] = [
    { name: 'applies the default horizon and quantile', raw: { queue: 'orders' }, expected: ok('orders', 900, '0.5') },
    { name: 'reads a horizon as a Prometheus duration', raw: { queue: 'orders', horizon: '1h30m' }, expected: ok('orders', 5400, '0.5') },
    { name: 'reads the quantile', raw: { queue: 'orders', quantile: '0.9' }, expected: ok('orders', 900, '0.9') },
    { name: 'accepts the label characters of a queue name', raw: { queue: 'ml_inference.v2-a' }, expected: ok('ml_inference.v2-a', 900, '0.5') },
    { name: 'requires a queue', raw: {}, expected: { ok: false, error: { kind: 'invalid_argument', message: 'queue is required: the name of a configured queue' } } },
    { name: 'treats an empty queue as missing', raw: { queue: '' }, expected: { ok: false, error: { kind: 'invalid_argument', message: 'queue is required: the name of a configured queue' } } },
  ];
  for (const tc of cases) test(tc.name, () => expect(parseSelection(tc.raw, defaults)).toEqual(tc.expected));

  const refused: readonly { name: string; raw: Record<string, string>; mentions: string }[] = [
    { name: 'a queue with a quote in it', raw: { queue: 'a"b' }, mentions: 'queue must be a queue name' },
    { name: 'a queue longer than a label value', raw: { queue: 'q'.repeat(64) }, mentions: 'at most 63 characters' },
    { name: 'a horizon in bare seconds', raw: { queue: 'q', horizon: '900' }, mentions: 'horizon must be a duration' },
    { name: 'a negative horizon', raw: { queue: 'q', horizon: '-15m' }, mentions: 'horizon must be a duration' },
    { name: 'a quantile that is not published', raw: { queue: 'q', quantile: '0.99' }, mentions: 'quantile must be one of 0.1, 0.5, 0.9, got "0.99"' },
  ];
  for (const tc of refused) {
    test(`refuses ${tc.name}`, () => {
      const result = parseSelection(tc.raw, defaults);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.kind).toBe('invalid_argument');
        expect(result.error.message).toContain(tc.mentions);
      }
    });
  }

  test('names parameters as the caller asks, so trigger errors point at the metadata', () => {
    const result = parseSelection({ queue: 'q', horizon: 'soon' }, defaults, { queue: 'metadata.queue', horizon: 'metadata.horizon', quantile: 'metadata.quantile' });
    expect(result).toEqual({ ok: false, error: { kind: 'invalid_argument', message: 'metadata.horizon must be a duration such as "15m" or "1h", got "soon"' } });
  });

  test('cuts a long hostile value short in the message', () => {
    const result = parseSelection({ queue: 'q', horizon: 'x'.repeat(10_000) }, defaults);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message.length).toBeLessThan(200);
  });
});

describe('readForecast', () => {
  const snapshot = fixtureSnapshot(7, nowMs - 20_000, [
    {
      queue: 'orders',
      depth: 120,
      forecasts: [
        { horizonSeconds: 900, p10: 80, value: 150, p90: 260 },
        { horizonSeconds: 3600, p10: 10, value: 400, p90: 900 },
      ],
    },
    { queue: 'drained', forecasts: [{ horizonSeconds: 900, p10: -40, value: -5, p90: 12, model: 'naive', fallbackReason: 'history too short' }] },
    { queue: 'broken', depth: 3, forecasts: [{ horizonSeconds: 900, p10: Number.NaN, value: Number.POSITIVE_INFINITY, p90: 9.7e299 }] },
    { queue: 'young', depth: 3, forecasts: [] },
  ]);
  const fresh = { nowMs, maxAgeSeconds: 300 };

  test('serves the quantile asked for, with its time and provenance', () => {
    const result = readForecast(snapshot, { queue: 'orders', horizonSeconds: 900, quantile: '0.9' }, fresh);
    expect(result).toEqual({
      ok: true,
      value: {
        selection: { queue: 'orders', horizonSeconds: 900, quantile: '0.9' },
        value: 260,
        model: 'holt_winters',
        forecastForMs: snapshot.completedAtMs - 60_000 + 900_000,
        currentDepth: 120,
        snapshotCompletedAtMs: snapshot.completedAtMs,
        snapshotAgeSeconds: 20,
      },
    });
  });

  test('each quantile reads its own field', () => {
    const values = (['0.1', '0.5', '0.9'] as const).map((quantile) => {
      const r = readForecast(snapshot, { queue: 'orders', horizonSeconds: 3600, quantile }, fresh);
      return r.ok ? r.value.value : undefined;
    });
    expect(values).toEqual([10, 400, 900]);
  });

  test('serves a forecast below zero as 0 and keeps the fallback reason', () => {
    const result = readForecast(snapshot, { queue: 'drained', horizonSeconds: 900, quantile: '0.1' }, fresh);
    expect(result.ok && result.value).toMatchObject({ value: 0, model: 'naive', fallbackReason: 'history too short', currentDepth: undefined });
  });

  const problems: readonly { name: string; selection: { queue: string; horizonSeconds: number; quantile: '0.1' | '0.5' | '0.9' }; at?: number; kind: string; mentions: string }[] = [
    {
      name: 'an unknown queue, listing the known ones',
      selection: { queue: 'nope', horizonSeconds: 900, quantile: '0.5' },
      kind: 'not_found',
      mentions: 'configured queues: orders, drained, broken, young',
    },
    { name: 'a horizon that is not forecast, listing the horizons', selection: { queue: 'orders', horizonSeconds: 1800, quantile: '0.5' }, kind: 'not_found', mentions: 'horizons: 15m, 1h' },
    { name: 'a queue with no forecast yet', selection: { queue: 'young', horizonSeconds: 900, quantile: '0.5' }, kind: 'not_found', mentions: 'has no forecast in the latest cycle' },
    { name: 'an infinite forecast', selection: { queue: 'broken', horizonSeconds: 900, quantile: '0.5' }, kind: 'unavailable', mentions: 'is not a servable number' },
    { name: 'a NaN forecast', selection: { queue: 'broken', horizonSeconds: 900, quantile: '0.1' }, kind: 'unavailable', mentions: 'is not a servable number' },
    // Issue 10: the KEDA surfaces served 9.7e+299 that the external-metrics API refused; one rule (core's servableValue) for all.
    { name: 'a forecast beyond the servable magnitude', selection: { queue: 'broken', horizonSeconds: 900, quantile: '0.9' }, kind: 'unavailable', mentions: 'is not a servable number' },
    {
      name: 'a snapshot older than the maximum age',
      selection: { queue: 'orders', horizonSeconds: 900, quantile: '0.5' },
      at: nowMs + 281_000,
      kind: 'unavailable',
      mentions: 'older than snapshot.maxAge (5m)',
    },
  ];
  for (const tc of problems) {
    test(`refuses ${tc.name}`, () => {
      const result = readForecast(snapshot, tc.selection, { nowMs: tc.at ?? nowMs, maxAgeSeconds: 300 });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.kind).toBe(tc.kind);
        expect(result.error.message).toContain(tc.mentions);
      }
    });
  }

  test('serves a snapshot exactly at the maximum age, not a millisecond later', () => {
    const selection = { queue: 'orders', horizonSeconds: 900, quantile: '0.5' } as const;
    expect(readForecast(snapshot, selection, { nowMs: snapshot.completedAtMs + 300_000, maxAgeSeconds: 300 }).ok).toBe(true);
    expect(readForecast(snapshot, selection, { nowMs: snapshot.completedAtMs + 300_001, maxAgeSeconds: 300 }).ok).toBe(false);
  });

  test('has nothing to serve before the first cycle', () => {
    expect(readForecast(undefined, { queue: 'orders', horizonSeconds: 900, quantile: '0.5' }, fresh)).toEqual({
      ok: false,
      error: { kind: 'unavailable', message: 'no forecast yet: the first reconcile cycle has not completed' },
    });
  });

  test('lists at most ten queues in a message', () => {
    const many = fixtureSnapshot(
      1,
      nowMs,
      Array.from({ length: 1000 }, (_, i) => ({ queue: `q${i}`, forecasts: [] })),
    );
    const result = readForecast(many, { queue: 'nope', horizonSeconds: 900, quantile: '0.5' }, fresh);
    expect(!result.ok && result.error.message).toMatch(/q9 and 990 more$/);
  });
});
