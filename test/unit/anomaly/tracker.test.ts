import { describe, expect, it } from 'vitest';
import { AnomalyTracker, createDetector, detectorSettings, monitoredMetricOf, toAnomalyVerdict } from '../../../src/anomaly/index.js';
import type { AnomalyVerdict } from '../../../src/anomaly/index.js';
import type { RegularSeries } from '../../../src/core/index.js';
import type { AnomalyState } from '../../../src/engine/index.js';
import { makeSeries, workload } from './synthetic.js';

const stepSeconds = 300;

function gridOf(values: Float64Array, startMs: number): RegularSeries {
  return { startMs, stepSeconds, values };
}

describe('AnomalyTracker (the engine side)', () => {
  const series = makeSeries(10 * 288, stepSeconds * 1000, workload(21));
  series.values[9 * 288] = 1000;

  it('scores each grid point once, in the same way as scoring the whole series', () => {
    const tracker = new AnomalyTracker({ detector: 'adaptive' });
    const expected = createDetector('adaptive', detectorSettings('queue_depth')).scoreSeries(series.values, series.timestampsMs);
    // Cycle 1 reads 8 days; each later cycle re-reads an overlapping window ending a bit later.
    let end = 8 * 288;
    tracker.observeSeries('queue/a/depth', 'queue_depth', gridOf(series.values.slice(0, end), series.timestampsMs[0]!));
    while (end < series.values.length) {
      const next = Math.min(series.values.length, end + 7);
      const start = next - 20;
      const verdict = tracker.observeSeries('queue/a/depth', 'queue_depth', gridOf(series.values.slice(start, next), series.timestampsMs[start]!));
      expect(verdict?.timestampMs).toBe(series.timestampsMs[next - 1]);
      expect(verdict?.point).toEqual(expected[next - 1]);
      end = next;
    }
  });

  it('feeds at most its budget of points per call: no verdict until the history is caught up, then the same verdicts as at once', () => {
    const tracker = new AnomalyTracker({ detector: 'adaptive' });
    const expected = createDetector('adaptive', detectorSettings('queue_depth')).scoreSeries(series.values, series.timestampsMs);
    const whole = gridOf(series.values, series.timestampsMs[0]!);
    const perCycle = Math.ceil(series.values.length / 3);
    const budgets: { points: number }[] = [];
    for (let cycle = 0; cycle < 2; cycle++) {
      const budget = { points: perCycle };
      budgets.push(budget);
      // Not caught up: the newest point is not scored yet, so there is no verdict to publish.
      expect(tracker.observeSeries('queue/a/depth', 'queue_depth', whole, budget)).toBeUndefined();
      expect(budget.points).toBeLessThanOrEqual(0);
    }
    const last = { points: perCycle };
    const verdict = tracker.observeSeries('queue/a/depth', 'queue_depth', whole, last);
    expect(last.points).toBeGreaterThanOrEqual(0);
    expect(verdict?.timestampMs).toBe(series.timestampsMs[series.values.length - 1]);
    expect(verdict?.point).toEqual(expected[series.values.length - 1]);
  });

  it('reports a reading from a 32-bit history as it was read (seven significant digits), and a 64-bit one exactly', () => {
    const tracker = new AnomalyTracker({ detector: 'zscore' });
    const held = Float32Array.from([40, 41, 42.1]);
    expect(held[2]).not.toBe(42.1);
    expect(tracker.observeSeries('queue/a/depth', 'queue_depth', { startMs: 0, stepSeconds, values: held })?.value).toBe(42.1);
    const exact = Float64Array.from([40, 41, 42.123456789]);
    expect(tracker.observeSeries('queue/b/depth', 'queue_depth', { startMs: 0, stepSeconds, values: exact })?.value).toBe(42.123456789);
  });

  it('skips gaps and does not re-score a point it has seen', () => {
    const tracker = new AnomalyTracker({ detector: 'zscore' });
    const values = Float64Array.from([1, 2, Number.NaN, 4]);
    const first = tracker.observeSeries('system/cpu_percent', 'cpu', gridOf(values, 0));
    expect(first).toMatchObject({ timestampMs: 3 * stepSeconds * 1000, value: 4 });
    const again = tracker.observeSeries('system/cpu_percent', 'cpu', gridOf(values, 0));
    expect(again).toBe(first);
    expect(tracker.observePoint('system/cpu_percent', 'cpu', 1, 99)).toBe(first); // older: ignored
    const newer = tracker.observePoint('system/cpu_percent', 'cpu', 4 * stepSeconds * 1000, 5);
    expect(newer?.value).toBe(5);
  });

  it('uses the configured per-metric thresholds and forgets series that are gone', () => {
    const tracker = new AnomalyTracker({ detector: 'zscore', thresholdSigmas: { memory: 1.5 }, baselineSeconds: 3600 });
    expect(tracker.detectorFor('memory').settings).toEqual({ thresholdSigmas: 1.5, baselineSeconds: 3600 });
    expect(tracker.detectorFor('error_rate').settings.thresholdSigmas).toBe(4);
    tracker.observePoint('a', 'cpu', 0, 1);
    tracker.observePoint('b', 'cpu', 0, 1);
    tracker.retain(new Set(['b']));
    expect(tracker.size).toBe(1);
  });
});

describe('verdicts for the snapshot', () => {
  it('map a detector verdict to the snapshot shape, which the engine type accepts as it is', () => {
    const verdict: AnomalyVerdict = toAnomalyVerdict(
      { metric: 'queue_depth', queue: 'orders', seriesKey: 'queue/orders/depth', detector: 'adaptive', value: 1200 },
      { score: 0.7, isAnomaly: true, severity: 'critical', confidence: 0.99, expected: 300 },
    );
    const state: AnomalyState = verdict;
    expect(state).toEqual({
      metric: 'queue_depth',
      queue: 'orders',
      seriesKey: 'queue/orders/depth',
      detector: 'adaptive',
      score: 0.7,
      isAnomaly: true,
      severity: 'critical',
      confidence: 0.99,
      value: 1200,
      expected: 300,
    });
    const noBaseline = toAnomalyVerdict(
      { metric: 'cpu', seriesKey: 'system/cpu_percent', detector: 'zscore', value: 50 },
      { score: 0, isAnomaly: false, severity: 'none', confidence: 0, reason: 'baseline not full' },
    );
    expect(noBaseline).not.toHaveProperty('queue');
    expect(noBaseline).not.toHaveProperty('expected');
    expect(noBaseline.reason).toBe('baseline not full');
  });

  it('name the monitored metric of each input', () => {
    expect(monitoredMetricOf({ kind: 'system', metric: 'cpu_percent' })).toBe('cpu');
    expect(monitoredMetricOf({ kind: 'system', metric: 'memory_percent' })).toBe('memory');
    expect(monitoredMetricOf({ kind: 'queue', queue: 'q', metric: 'depth' })).toBe('queue_depth');
    expect(monitoredMetricOf({ kind: 'queue', queue: 'q', metric: 'consumers' })).toBeUndefined();
    expect(monitoredMetricOf({ kind: 'performance', metric: 'response_time_p95_seconds' })).toBe('response_time');
    expect(monitoredMetricOf({ kind: 'performance', metric: 'error_rate_percent' })).toBe('error_rate');
    expect(monitoredMetricOf({ kind: 'system', metric: 'load1' })).toBeUndefined();
    expect(monitoredMetricOf({ kind: 'replicas', resource: 'ml_workers' })).toBeUndefined();
  });
});
