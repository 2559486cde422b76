import { describe, expect, it } from 'vitest';
import { createZScoreDetector, defaultThresholdSigmas, detectorSettings, monitoredMetrics } from '../../../src/anomaly/index.js';
import type { AnomalyPoint, DetectorSettings } from '../../../src/anomaly/index.js';
import { hourMs } from './synthetic.js';

const t0 = 1_700_000_000_000;

/**
 * A stream whose 24 h baseline, at t0 + 24.5 h, holds exactly the 24 hourly points 1 h .. 24 h
 * alternating 104, 96: mean 100, population standard deviation 4. (The point at t0 only starts the
 * history; it has left the window by then.) Returns the verdict on `value` at t0 + 24.5 h.
 */
function verdictAfterBaseline(value: number, settings: DetectorSettings = detectorSettings('cpu')): AnomalyPoint {
  const stream = createZScoreDetector(settings).createStream();
  stream.push(t0, 500);
  for (let h = 1; h <= 24; h++) stream.push(t0 + h * hourMs, h % 2 === 1 ? 104 : 96);
  return stream.push(t0 + 24.5 * hourMs, value);
}

describe('the design z-score detector', () => {
  it('scores against mean and standard deviation of the previous 24 h', () => {
    const point = verdictAfterBaseline(110); // z = 10 / 4 = 2.5
    expect(point.expected).toBe(100);
    expect(point.score).toBe(0.5);
    expect(point.confidence).toBe(0.99);
  });

  // cpu: threshold 2.5 σ = 10 above the mean of 100 (σ = 4); critical from 3.75 σ = 15.
  it.each([
    { value: 100, z: 0, isAnomaly: false, severity: 'none' },
    { value: 109.96, z: 2.49, isAnomaly: false, severity: 'none' },
    { value: 110, z: 2.5, isAnomaly: true, severity: 'warning' },
    { value: 90, z: 2.5, isAnomaly: true, severity: 'warning' },
    { value: 110.04, z: 2.51, isAnomaly: true, severity: 'warning' },
    { value: 114.96, z: 3.74, isAnomaly: true, severity: 'warning' },
    { value: 115, z: 3.75, isAnomaly: true, severity: 'critical' },
    { value: 80, z: 5, isAnomaly: true, severity: 'critical' },
  ] as const)('value $value (z = $z) → anomaly $isAnomaly, $severity', ({ value, z, isAnomaly, severity }) => {
    const point = verdictAfterBaseline(value);
    expect(point.isAnomaly).toBe(isAnomaly);
    expect(point.severity).toBe(severity);
    expect(point.confidence).toBeCloseTo(Math.min(0.99, z / 2.5), 9);
    expect(point.score).toBeCloseTo(z / (z + 2.5), 9);
    expect(point.reason).toBeUndefined();
  });

  it.each(monitoredMetrics.map((metric) => [metric, defaultThresholdSigmas[metric]] as const))('uses the %s threshold (%s σ) for anomaly and the 1.5 × threshold for critical', (metric, threshold) => {
    const settings = detectorSettings(metric);
    expect(settings.thresholdSigmas).toBe(threshold);
    const justBelow = verdictAfterBaseline(100 + 4 * threshold * 0.99, settings);
    const at = verdictAfterBaseline(100 + 4 * threshold, settings);
    const critical = verdictAfterBaseline(100 + 4 * threshold * 1.5, settings);
    expect(justBelow.isAnomaly).toBe(false);
    expect(justBelow.confidence).toBeCloseTo(0.99, 9);
    expect(at.isAnomaly).toBe(true);
    expect(at.severity).toBe('warning');
    expect(critical.severity).toBe('critical');
  });

  it('gives no verdict before the baseline is full, with the reason', () => {
    const stream = createZScoreDetector(detectorSettings('cpu')).createStream();
    const first = stream.push(t0, 100);
    expect(first).toMatchObject({ score: 0, isAnomaly: false, severity: 'none', confidence: 0 });
    expect(first.reason).toMatch(/baseline not full: needs 1d of history, has 0s/);
    for (let h = 1; h < 24; h++) stream.push(t0 + h * hourMs, h % 2 === 1 ? 104 : 96);
    // 23 h 59 min of history: still not full, even for a wild value.
    const almost = stream.push(t0 + 24 * hourMs - 60_000, 10_000);
    expect(almost.isAnomaly).toBe(false);
    expect(almost.reason).toMatch(/has 23h59m/);
    expect(stream.push(t0 + 24 * hourMs, 10_000).isAnomaly).toBe(true);
  });

  it('honours a configured baseline window', () => {
    const stream = createZScoreDetector(detectorSettings('cpu', { baselineSeconds: 3600 })).createStream();
    for (let m = 0; m < 60; m++) stream.push(t0 + m * 60_000, m % 2 === 0 ? 104 : 96);
    const point = stream.push(t0 + 60 * 60_000, 200);
    expect(point.reason).toBeUndefined();
    expect(point.isAnomaly).toBe(true);
  });

  it('treats a change from a flat baseline as infinitely unusual, and no change as none', () => {
    const flat = createZScoreDetector().createStream();
    for (let h = 0; h <= 24; h++) flat.push(t0 + h * hourMs, 7_000_000);
    expect(flat.push(t0 + 25 * hourMs, 7_000_000)).toMatchObject({ score: 0, isAnomaly: false });
    expect(flat.push(t0 + 26 * hourMs, 7_000_001)).toMatchObject({ score: 1, isAnomaly: true, severity: 'critical', confidence: 0.99 });
  });

  it('says why after a gap longer than the baseline leaves it empty', () => {
    const stream = createZScoreDetector().createStream();
    for (let h = 0; h <= 24; h++) stream.push(t0 + h * hourMs, 100 + (h % 3));
    const afterGap = stream.push(t0 + 60 * hourMs, 100);
    expect(afterGap.score).toBe(0);
    expect(afterGap.reason).toMatch(/baseline has 0 point\(s\) in the last 1d; needs 2/);
  });
});
