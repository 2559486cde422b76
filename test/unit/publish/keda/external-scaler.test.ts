import { describe, expect, test } from 'vitest';
import { buildMetricSpec, buildMetricValue, evaluateActivity, parseScalerMetadata, type ScalerRequest, toInt64 } from '../../../../src/publish/keda/index.js';
import { fixtureSnapshot } from './snapshot-fixture.js';

const nowMs = Date.UTC(2026, 0, 5, 12, 0, 0);
const fresh = { nowMs, maxAgeSeconds: 300 };

function request(metadata: Record<string, string>): ScalerRequest {
  const parsed = parseScalerMetadata(metadata, { horizonSeconds: 900, quantile: '0.5' });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

describe('evaluateActivity', () => {
  const snapshotWith = (depth: number | undefined, p90: number) =>
    fixtureSnapshot(3, nowMs - 1000, [{ queue: 'orders', ...(depth === undefined ? {} : { depth }), forecasts: [{ horizonSeconds: 900, p10: 0, value: p90 / 2, p90 }] }]);

  const cases: readonly { name: string; depth: number | undefined; p90: number; threshold: string; active: boolean }[] = [
    { name: 'idle now and nothing predicted: inactive', depth: 0, p90: 0, threshold: '0', active: false },
    { name: 'idle now but a rise predicted at p90: active (wake before the queue fills)', depth: 0, p90: 25, threshold: '10', active: true },
    { name: 'a p90 forecast equal to the threshold is not above it', depth: 0, p90: 10, threshold: '10', active: false },
    { name: 'messages waiting now keep it active even when the forecast expects a drain', depth: 50, p90: 0, threshold: '10', active: true },
    { name: 'without an observed depth the forecast decides', depth: undefined, p90: 5, threshold: '4', active: true },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const result = evaluateActivity(request({ queue: 'orders', activationThreshold: tc.threshold }), snapshotWith(tc.depth, tc.p90), fresh);
      expect(result.ok && result.value.active).toBe(tc.active);
    });
  }

  test('compares the quantile the trigger names', () => {
    const snapshot = snapshotWith(0, 30); // value (p50) = 15
    const p50 = evaluateActivity(request({ queue: 'orders', activationThreshold: '20', activationQuantile: '0.5' }), snapshot, fresh);
    const p90 = evaluateActivity(request({ queue: 'orders', activationThreshold: '20' }), snapshot, fresh);
    expect([p50.ok && p50.value, p90.ok && p90.value]).toEqual([
      { active: false, forecast: 15, currentDepth: 0, snapshotCycle: 3 },
      { active: true, forecast: 30, currentDepth: 0, snapshotCycle: 3 },
    ]);
  });

  test('a stale snapshot gives no verdict', () => {
    const result = evaluateActivity(request({ queue: 'orders' }), snapshotWith(5, 5), { nowMs: nowMs + 600_000, maxAgeSeconds: 300 });
    expect(!result.ok && result.error.kind).toBe('unavailable');
  });
});

describe('buildMetricSpec', () => {
  const configured = { queues: ['orders', 'ml_inference'], horizonsSeconds: [900, 3600] };

  test('gives the target in both fields, the integer one at least 1', () => {
    expect(buildMetricSpec(request({ queue: 'orders', targetValue: '0.25' }), configured)).toEqual({
      ok: true,
      value: { metricName: 'foresight-orders-15m-p50', targetSize: 1, targetSizeFloat: 0.25 },
    });
    expect(buildMetricSpec(request({ queue: 'orders', horizon: '1h', quantile: '0.9', targetValue: '149.6' }), configured)).toEqual({
      ok: true,
      value: { metricName: 'foresight-orders-1h-p90', targetSize: 150, targetSizeFloat: 149.6 },
    });
  });

  const refused = [
    { name: 'without a target', metadata: { queue: 'orders' }, kind: 'invalid_argument', message: 'metadata.targetValue is required' },
    { name: 'for a queue not in the configuration', metadata: { queue: 'payments', targetValue: '5' }, kind: 'not_found', message: 'metadata.queue "payments" is not a configured queue' },
    { name: 'for a horizon not in the configuration', metadata: { queue: 'orders', horizon: '30m', targetValue: '5' }, kind: 'not_found', message: 'horizons: 15m, 1h (forecast.horizons)' },
  ];
  for (const tc of refused) {
    test(`refuses a spec ${tc.name}`, () => {
      const result = buildMetricSpec(request(tc.metadata), configured);
      expect(!result.ok && result.error).toMatchObject({ kind: tc.kind });
      expect(!result.ok && result.error.message).toContain(tc.message);
    });
  }
});

describe('buildMetricValue', () => {
  const snapshot = fixtureSnapshot(3, nowMs - 1000, [{ queue: 'orders', depth: 3, forecasts: [{ horizonSeconds: 900, p10: 0.2, value: 1234.56, p90: 0.4 }] }]);

  test('echoes the requested name and fills both value fields', () => {
    expect(buildMetricValue(request({ queue: 'orders' }), 'renamed', snapshot, fresh)).toEqual({
      ok: true,
      value: { metricName: 'renamed', metricValue: 1235, metricValueFloat: 1234.56 },
    });
  });

  test('falls back to its own name when KEDA sends none', () => {
    const result = buildMetricValue(request({ queue: 'orders', quantile: '0.9' }), '', snapshot, fresh);
    // 0.4 rounds to an integer 0; KEDA reads the float since it is above 0.
    expect(result).toEqual({ ok: true, value: { metricName: 'foresight-orders-15m-p90', metricValue: 0, metricValueFloat: 0.4 } });
  });
});

describe('toInt64', () => {
  const cases: readonly [number, number][] = [
    [0, 0],
    [0.5, 1],
    [2.4, 2],
    [-3, 0],
    [1e300, Number.MAX_SAFE_INTEGER],
  ];
  for (const [input, output] of cases) test(`${input} → ${output}`, () => expect(toInt64(input)).toBe(output));
});
