import { describe, expect, it } from 'vitest';
import { forecastConfidence, VariableTable } from '../../../../src/decide/index.js';
import { predictContext } from '../../../../src/decide/stages/predict.js';
import { policy } from './helpers.js';

describe('forecast confidence', () => {
  it.each([
    [{ value: 100, p10: 80, p90: 120 }, 0.8],
    [{ value: 100, p10: 0, p90: 200 }, 0],
    [{ value: 0, p10: 0, p90: 0 }, 1],
    [{ value: 100, p10: 50, p90: 150, confidence: 0.93 }, 0.93],
    [{ value: 100, p10: 50, p90: 150, confidence: 1.7 }, 1],
  ])('%j → %d', (f, expected) => {
    expect(forecastConfidence({ seriesKey: 'x', horizonSeconds: 900, ...f })).toBeCloseTo(expected, 12);
  });
});

describe('predict stage', () => {
  const table = new VariableTable();
  const queues = [
    { queue: 'a', resource: 'worker_processes' as const, threshold: 1000 },
    { queue: 'b', resource: 'worker_processes' as const, threshold: 1000 },
  ];
  const forecasts = [
    { seriesKey: 'queue/a/depth', horizonSeconds: 900, value: 100, p10: 90, p90: 130, confidence: 0.9 },
    { seriesKey: 'queue/b/depth', horizonSeconds: 900, value: 50, p10: 40, p90: 70, confidence: 0.8 },
    { seriesKey: 'queue/b/depth', horizonSeconds: 3600, value: 5000, p10: 4000, p90: 6000, confidence: 0.99 },
    { seriesKey: 'performance/response_time_p95_seconds', horizonSeconds: 900, value: 1.5, p10: 1, p90: 2.5, confidence: 0.5 },
  ];
  const input = { readings: new Map<string, number>(), forecasts, anomalies: [], queues };
  const read = (values: Float64Array, name: string) => values[table.indexOf(name)!];
  const reads = new Set(['predicted_queue_depth', 'predicted_response_time_p95_ms']);

  it('sums queue forecasts at the policy horizon and converts units', () => {
    const values = table.emptyValues();
    const out = predictContext(values, table, input, queues, policy({ minForecastConfidence: 0.4 }), reads);
    expect(read(values, 'predicted_queue_depth')).toBe(150);
    expect(read(values, 'predicted_queue_depth_p90')).toBe(200);
    expect(read(values, 'predicted_response_time_p95_ms')).toBe(1500);
    expect(read(values, 'predicted_response_time_p95_ms_p90')).toBe(2500);
    expect(out.confidence).toBe(0.5);
    expect(out.reasons).toEqual([]);
  });

  it('leaves out forecasts below the confidence threshold and says so', () => {
    const values = table.emptyValues();
    const out = predictContext(values, table, input, queues, policy({ minForecastConfidence: 0.7 }), reads);
    expect(read(values, 'predicted_response_time_p95_ms')).toBeNaN();
    expect(read(values, 'predicted_queue_depth')).toBe(150);
    expect(out.reasons).toEqual(['forecast_low_confidence']);
  });

  it('puts nothing in when forecasts are off', () => {
    const values = table.emptyValues();
    const out = predictContext(values, table, input, queues, policy({ useForecasts: false }), reads);
    expect(read(values, 'predicted_queue_depth')).toBeNaN();
    expect(out.reasons).toContain('forecasts_disabled');
  });

  it('says a forecast is missing only when the rules read it', () => {
    const values = table.emptyValues();
    const wanted = predictContext(values, table, input, queues, policy(), new Set(['predicted_enqueue_rate_per_second_p90']));
    expect(wanted.reasons).toEqual(['forecast_missing']);
    const unwanted = predictContext(table.emptyValues(), table, input, queues, policy(), new Set(['predicted_queue_depth']));
    expect(unwanted.reasons).toEqual([]);
  });
});
