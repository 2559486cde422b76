import { describe, expect, it } from 'vitest';
import { adaptiveDefaults, adaptiveOperatingThreshold, createAdaptiveDetector, createDetector, detectorNames, detectorSettings } from '../../../src/anomaly/index.js';
import type { AnomalyPoint, DetectorName } from '../../../src/anomaly/index.js';
import { dayMs, hourMs, makeSeries, minuteMs, normals, workload } from './synthetic.js';

const stepMs = 5 * minuteMs;
const perDay = 288;

/** Indices of the points flagged as anomalies. */
function alerts(points: readonly AnomalyPoint[], from = 0): number[] {
  return points.flatMap((p, i) => (p.isAnomaly && i >= from ? [i] : []));
}

function score(name: DetectorName, series: { values: Float64Array; timestampsMs: Float64Array }): AnomalyPoint[] {
  return createDetector(name).scoreSeries(series.values, series.timestampsMs);
}

describe.each(detectorNames)('the %s detector (port contract)', (name) => {
  // Three weeks of a noisy daily workload with gaps, a spike and a level shift.
  const series = makeSeries(21 * perDay, stepMs, workload(11));
  series.values[16 * perDay + 40] = series.values[16 * perDay + 40]! + 300;
  for (let i = 18 * perDay; i < 21 * perDay; i++) series.values[i] = series.values[i]! * 1.5;
  const kept = series.values.map((_, i) => i).filter((i) => i % 97 !== 5 && (i < 9 * perDay || i > 9 * perDay + 50));
  const gappy = { values: kept.map((i) => series.values[i]!), timestampsMs: kept.map((i) => series.timestampsMs[i]!) };
  const full = score(name, gappy);

  it('gives scores in [0, 1] with isAnomaly exactly "score >= operating threshold"', () => {
    const detector = createDetector(name);
    const broken = full.filter(
      (p) => !(p.score >= 0 && p.score <= 1) || p.isAnomaly !== p.score >= detector.operatingThreshold || !(p.confidence >= 0 && p.confidence <= 0.99) || (p.severity === 'none') === p.isAnomaly,
    );
    expect(broken).toEqual([]);
    // The series has both: the check is not vacuous.
    expect(full.some((p) => p.isAnomaly)).toBe(true);
    expect(full.some((p) => !p.isAnomaly && p.score > 0)).toBe(true);
  });

  it('is causal: the scores of early rows do not change when later rows are removed', () => {
    for (const cut of [3 * perDay + 17, 12 * perDay, 16 * perDay + 41]) {
      const prefix = createDetector(name).scoreSeries(gappy.values.subarray(0, cut), gappy.timestampsMs.subarray(0, cut));
      expect(prefix).toEqual(full.slice(0, cut));
    }
  });

  it('is deterministic, and scoreSeries equals pushing every point into a stream', () => {
    expect(score(name, gappy)).toEqual(full);
    const stream = createDetector(name).createStream();
    const pushed = Array.from(gappy.values, (value, i) => stream.push(gappy.timestampsMs[i]!, value));
    expect(pushed).toEqual(full);
    expect(stream.lastTimestampMs).toBe(gappy.timestampsMs[gappy.timestampsMs.length - 1]);
  });

  it('refuses missing values and timestamps that go back, with a reason and no change of state', () => {
    const stream = createDetector(name).createStream();
    const reference = createDetector(name).createStream();
    const n = 10 * perDay;
    let differing = 0;
    for (let i = 0; i < n; i++) {
      const a = stream.push(gappy.timestampsMs[i]!, gappy.values[i]!);
      const b = reference.push(gappy.timestampsMs[i]!, gappy.values[i]!);
      if (JSON.stringify(a) !== JSON.stringify(b)) differing++;
      if (i % 500 === 0) {
        const missing = stream.push(gappy.timestampsMs[i]! + 1, Number.NaN);
        expect(missing).toMatchObject({ score: 0, isAnomaly: false });
        expect(missing.reason).toMatch(/not a finite number/);
        const back = stream.push(gappy.timestampsMs[i]!, 1e9);
        expect(back.score).toBe(0);
        expect(back.reason).toMatch(/is not after the previous point/);
      }
    }
    expect(differing).toBe(0);
  });

  it('rejects arrays of different lengths with a clear error', () => {
    expect(() => createDetector(name).scoreSeries([1, 2, 3], [1, 2])).toThrow(/one timestamp per value: got 3 values and 2 timestamps/);
  });
});

describe('the adaptive detector on labelled synthetic series', () => {
  const days = 28;
  const spikeAt = 22 * perDay + 100;
  const shiftAt = 22 * perDay;

  it('raises no alert on a clean daily and weekly pattern', () => {
    const clean = makeSeries(days * perDay, stepMs, workload(7));
    const points = score('adaptive', clean);
    expect(alerts(points)).toEqual([]);
    // It is not silent because it cannot score: after warm-up every point has a verdict.
    expect(points.slice(8 * perDay).every((p) => p.reason === undefined || p.reason.startsWith('held back'))).toBe(true);
  });

  it('flags a spike at the spike and nowhere after the first week', () => {
    const series = makeSeries(days * perDay, stepMs, workload(7));
    series.values[spikeAt] = series.values[spikeAt]! + 80;
    const points = score('adaptive', series);
    expect(alerts(points, 7 * perDay)).toEqual([spikeAt]);
    expect(points[spikeAt]!.severity).toBe('critical');
    expect(points[spikeAt]!.expected).toBeGreaterThan(0);
  });

  it('flags a level shift when it happens, once, and holds back the repeats with a reason', () => {
    const series = makeSeries(days * perDay, stepMs, workload(7));
    for (let i = shiftAt; i < series.values.length; i++) series.values[i] = series.values[i]! + 60;
    const points = score('adaptive', series);
    const after = alerts(points, 7 * perDay);
    expect(after[0]).toBe(shiftAt);
    // One incident, one alert per clearly worse step: far fewer alerts than shifted points.
    expect(after.length).toBeLessThanOrEqual(3);
    const heldBack = points.slice(shiftAt, shiftAt + 12 * 12).filter((p) => p.reason?.startsWith('held back'));
    expect(heldBack.length).toBeGreaterThan(0);
    for (const p of heldBack) expect(p.score).toBeLessThan(adaptiveOperatingThreshold);
  });

  it('rests per direction: a drop soon after an alert on a burst is a new incident', () => {
    const noise = normals(17);
    const series = makeSeries(10 * perDay, stepMs, () => 100 + noise());
    const burst = 9 * perDay;
    const drop = burst + 24; // two hours later
    series.values[burst] = 140;
    for (let i = drop; i < series.values.length; i++) series.values[i] = 60 + noise();
    const perDirection = score('adaptive', series);
    expect(perDirection[burst]!.isAnomaly).toBe(true);
    expect(perDirection[drop]!.isAnomaly).toBe(true);
    const shared = createAdaptiveDetector(undefined, { ...adaptiveDefaults, restPerDirection: false }).scoreSeries(series.values, series.timestampsMs);
    expect(shared[burst]!.isAnomaly).toBe(true);
    expect(shared[drop]!.isAnomaly).toBe(false);
    expect(shared[drop]!.reason).toMatch(/^held back: repeats an alert from 2h ago/);
  });

  it('does not flag a daily batch job that repeats at the same size (the z-score flags it every day)', () => {
    const noise = normals(3);
    const job = makeSeries(21 * perDay, stepMs, (_i, t) => {
      const hour = (t % dayMs) / hourMs;
      return (hour >= 2 && hour < 2.5 ? 400 : 100) + 3 * noise();
    });
    const from = 8 * perDay;
    const adaptive = alerts(score('adaptive', job), from);
    const zscore = alerts(score('zscore', job), from);
    expect(zscore.length).toBeGreaterThanOrEqual(13); // at least once a day
    expect(adaptive.length).toBeLessThanOrEqual(1);
  });

  it('flags smaller deviations for metrics with lower thresholds', () => {
    // A quiet series and a value 12 % of last week's range above its top: beyond the memory
    // tolerance (0.1 × 2.0 / 2.5 = 0.08), within the error-rate one (0.1 × 4.0 / 2.5 = 0.16), and
    // too small (about 4 sigmas) for the point floors (6.4 and 12.8 sigmas).
    const noise = normals(5);
    const series = makeSeries(10 * perDay, stepMs, () => 100 + noise());
    const at = 9 * perDay;
    const lastWeek = series.values.subarray(2 * perDay + 1, at);
    const top = Math.max(...lastWeek);
    const bottom = Math.min(...lastWeek);
    series.values[at] = top + 0.12 * (top - bottom);
    const verdict = (metric: 'memory' | 'error_rate') => createDetector('adaptive', detectorSettings(metric)).scoreSeries(series.values, series.timestampsMs)[at]!;
    expect(verdict('memory').isAnomaly).toBe(true);
    expect(verdict('error_rate').isAnomaly).toBe(false);
    expect(verdict('error_rate').score).toBeLessThan(verdict('memory').score);
  });
});

describe('the seasonal and mad detectors', () => {
  it('seasonal expects what happened at the same time yesterday and last week; the design z-score does not', () => {
    const noise = normals(9);
    // A sharp daily peak at noon over a flat level.
    const series = makeSeries(15 * perDay, stepMs, (_i, t) => {
      const hour = (t % dayMs) / hourMs;
      return (hour >= 12 && hour < 13 ? 300 : 100) + 2 * noise();
    });
    const atNoon = (i: number) => (series.timestampsMs[i]! % dayMs) / hourMs === 12;
    const from = 3 * perDay;
    expect(alerts(score('zscore', series), from).filter(atNoon).length).toBeGreaterThanOrEqual(10);
    expect(alerts(score('seasonal', series), from).filter(atNoon)).toEqual([]);
  });

  it('both flag a spike on a quiet series', () => {
    const noise = normals(13);
    const series = makeSeries(10 * perDay, stepMs, () => 50 + noise());
    const at = 9 * perDay + 7;
    series.values[at] = 80;
    for (const name of ['seasonal', 'mad'] as const) {
      const point = score(name, series)[at]!;
      expect(point.isAnomaly, name).toBe(true);
      expect(point.severity, name).toBe('critical');
      expect(point.expected!, name).toBeCloseTo(50, 0);
    }
  });

  it('mad gives no verdict before its 24 h baseline is full', () => {
    const series = makeSeries(perDay + 10, stepMs, (i) => i);
    const points = score('mad', series);
    expect(points[perDay - 1]!.reason).toMatch(/baseline not full/);
    expect(points[perDay + 5]!.reason).toBeUndefined();
  });
});
