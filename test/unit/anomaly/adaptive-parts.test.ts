import { describe, expect, it } from 'vitest';
import { adaptiveDefaults, createAdaptiveDetector, operatingThresholdOf, RangeBreak, StuckRun } from '../../../src/anomaly/index.js';
import { dayMs, hourMs, makeSeries, minuteMs, normals } from './synthetic.js';

describe('StuckRun', () => {
  it('scores a run against the longest run of the window and the floor, and reports it once', () => {
    const stuck = new StuckRun(14 * dayMs, 10);
    let t = 0;
    const push = (value: number): number => {
      t += minuteMs;
      return stuck.next(t, value);
    };
    // Moving values with runs of 4 equal points: the record is 3 repeats.
    for (let k = 0; k < 200; k++) for (let j = 0; j < 4; j++) push(k % 2);
    // A long run at an ordinary value: n / (n + max(3, 10)).
    push(5);
    const scores = Array.from({ length: 40 }, () => push(5));
    expect(scores[0]).toBeCloseTo(1 / 11, 12);
    expect(scores[9]).toBeCloseTo(0.5, 12); // as long as the floor
    expect(scores[10]).toBeCloseTo(11 / 21, 12); // 10 % longer: above 0.512
    // Beyond 1.1 × the reference the run is known: 0.5 from then on, never above the threshold again.
    expect(scores.slice(11)).toEqual(new Array(29).fill(0.5));
    // Moving again scores 0; the finished run (40 points) is now the record.
    expect(push(6)).toBe(0);
    const after = Array.from({ length: 45 }, () => push(7));
    expect(Math.max(...after)).toBeLessThanOrEqual(0.53);
    expect(after[0]).toBe(0); // 7 after 6 moves
    expect(after[40]).toBeCloseTo(40 / 80, 12);
  });

  it('never scores a series that has not moved in the window', () => {
    const stuck = new StuckRun(dayMs, 5);
    const flat = Array.from({ length: 500 }, (_, i) => stuck.next(i * minuteMs, 3));
    expect(flat.every((s) => s === 0)).toBe(true);
  });
});

describe('RangeBreak', () => {
  it('waits for its minimum history before scoring', () => {
    const range = new RangeBreak(7 * dayMs, 0.1, dayMs);
    range.next(0, 0);
    range.next(hourMs, 1);
    expect(range.next(2 * hourMs, 10)).toBe(0); // far outside, but only 2 h of history
    expect(range.next(dayMs, 100)).toBeCloseTo(1, 12); // capped at 1
    expect(range.next(dayMs + hourMs, -60)).toBeLessThan(-0.5); // below the range: negative
  });
});

describe('the adaptive detector', () => {
  it('flags an outage to zero once, near its start, on a series where minutes of zero are normal', () => {
    // One-minute request counts: a daily cycle whose six quiet hours have many minutes of zero;
    // the traffic stops an hour into the quiet hours and stays away for 12 hours.
    const noise = normals(29);
    const series = makeSeries(16 * 1440, minuteMs, (_i, t) => {
      const hour = (t % dayMs) / hourMs;
      const level = hour < 6 ? 0.6 : 20 + 10 * Math.sin((2 * Math.PI * (hour - 6)) / 24);
      return Math.max(0, Math.round(level + Math.sqrt(level) * noise()));
    });
    const start = 15 * 1440 + 60;
    for (let i = start; i < start + 12 * 60; i++) series.values[i] = 0;
    const points = createAdaptiveDetector().scoreSeries(series.values, series.timestampsMs);
    const during = points.slice(start, start + 12 * 60).flatMap((p, i) => (p.isAnomaly ? [i] : []));
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(during.length).toBeLessThanOrEqual(3);
    expect(during[0]).toBeLessThanOrEqual(90); // within 1.5 h of the start
    // The stuck-run check is what finds it: without it, the outage is found later or not at all.
    const without = createAdaptiveDetector(undefined, { ...adaptiveDefaults, stuckFloorPoints: Number.POSITIVE_INFINITY }).scoreSeries(series.values, series.timestampsMs);
    const firstWithout = without.slice(start, start + 12 * 60).findIndex((p) => p.isAnomaly);
    expect(firstWithout === -1 || firstWithout > during[0]!).toBe(true);
  });

  it('scores every time scale: more smoothing weights never lower a score (without rest)', () => {
    const noise = normals(41);
    const series = makeSeries(12 * 288, 5 * minuteMs, (i) => 50 + 5 * noise() + (i > 10 * 288 ? 4 : 0));
    const one = createAdaptiveDetector(undefined, { ...adaptiveDefaults, restMs: 0, smoothingWeights: [0.1] }).scoreSeries(series.values, series.timestampsMs);
    const two = createAdaptiveDetector(undefined, { ...adaptiveDefaults, restMs: 0, smoothingWeights: [0.1, 0.01] }).scoreSeries(series.values, series.timestampsMs);
    expect(two.every((p, i) => p.score >= one[i]!.score)).toBe(true);
    expect(two.some((p, i) => p.score > one[i]!.score)).toBe(true);
  });

  it('alerts from (1 + margin) / (2 + margin) and refuses bad parameters', () => {
    const strict = createAdaptiveDetector(undefined, { ...adaptiveDefaults, alertMargin: 0.2 });
    expect(strict.operatingThreshold).toBeCloseTo(1.2 / 2.2, 12);
    expect(operatingThresholdOf(adaptiveDefaults)).toBeCloseTo(1.05 / 2.05, 12);
    const noise = normals(3);
    const series = makeSeries(10 * 288, 5 * minuteMs, () => 100 + noise());
    series.values[9 * 288] = 180;
    const points = strict.scoreSeries(series.values, series.timestampsMs);
    expect(points.every((p) => p.isAnomaly === p.score >= strict.operatingThreshold)).toBe(true);
    expect(points[9 * 288]!.isAnomaly).toBe(true);
    expect(() => createAdaptiveDetector(undefined, { ...adaptiveDefaults, alertMargin: -0.1 })).toThrow(/alertMargin must be >= 0/);
    expect(() => createAdaptiveDetector(undefined, { ...adaptiveDefaults, smoothingWeights: [0.1, 0] })).toThrow(/smoothingWeights must be in \(0, 1\]/);
  });
});
