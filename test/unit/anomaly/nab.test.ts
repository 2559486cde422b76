import { describe, expect, it } from 'vitest';
import {
  nabBounds,
  nabProbationLength,
  nabProfiles,
  nabRowWeights,
  nabWindowsFromLabels,
  nabWindowsFromTimes,
  normaliseNabScore,
  optimiseNabThreshold,
  scaledSigmoid,
  scoreNabCorpus,
  scoreNabFile,
} from '../../../src/anomaly/index.js';
import type { NabFile } from '../../../src/anomaly/index.js';

// The scaled sigmoid written out independently: S(x) = 2 / (1 + e^{5x}) − 1.
const s = (x: number): number => 2 / (1 + Math.exp(5 * x)) - 1;

/** 100 rows, 15 probationary, one window over rows 40..49 (width 10). */
const file: NabFile = { name: 'hand.csv', rowCount: 100, probationLength: 15, windows: [{ left: 40, right: 49 }] };

function detections(rows: readonly number[], n = 100): Uint8Array {
  const out = new Uint8Array(n);
  for (const row of rows) out[row] = 1;
  return out;
}

describe('NAB arithmetic', () => {
  it('has the scaled sigmoid values of the reference', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBe(-1);
    expect(scaledSigmoid(2.9)).toBeGreaterThan(-1);
  });

  it('has the probationary period min(floor(0.15 n), 750)', () => {
    expect(nabProbationLength(100)).toBe(15);
    expect(nabProbationLength(4032)).toBe(604);
    expect(nabProbationLength(22695)).toBe(750);
  });

  it('has the three profiles of config/profiles.json', () => {
    expect(nabProfiles.standard).toMatchObject({ tpWeight: 1, fpWeight: 0.11, fnWeight: 1 });
    expect(nabProfiles.reward_low_FP_rate).toMatchObject({ tpWeight: 1, fpWeight: 0.22, fnWeight: 1 });
    expect(nabProfiles.reward_low_FN_rate).toMatchObject({ tpWeight: 1, fpWeight: 0.11, fnWeight: 2 });
  });
});

describe('NAB windows', () => {
  it('centres a window of floor(0.1 n / k) rows on each label, merges overlaps and deletes windows in the probationary period', () => {
    // n = 200, k = 3: length floor(20 / 3) = 6, half 3; probation 30.
    const built = nabWindowsFromLabels([104, 20, 100], 200);
    expect(built.deleted).toEqual([{ left: 17, right: 23 }]);
    expect(built.windows).toEqual([{ left: 97, right: 107 }]);
  });

  it('clips windows to the file', () => {
    // n = 200, k = 1: length 20, half 10.
    expect(nabWindowsFromLabels([195], 200).windows).toEqual([{ left: 185, right: 199 }]);
    expect(nabWindowsFromLabels([], 200).windows).toEqual([]);
  });

  it('maps time limits to the rows inside them and drops windows that hold no row', () => {
    const timestampsMs = Float64Array.from({ length: 10 }, (_, i) => i * 10_000);
    const windows = nabWindowsFromTimes(timestampsMs, [
      { startMs: 100_000, endMs: 200_000 },
      { startMs: 15_000, endMs: 45_000 },
      { startMs: 50_000, endMs: 50_000 },
    ]);
    expect(windows).toEqual([
      { left: 2, right: 4 },
      { left: 5, right: 5 },
    ]);
  });
});

describe('scoring one file', () => {
  const standard = nabProfiles.standard;

  it('gives exactly tpWeight for a detection at the window start, and S(−1/width)/S(−1) at its end', () => {
    expect(scoreNabFile(file, detections([40]), standard).score).toBeCloseTo(1, 12);
    const atEnd = scoreNabFile(file, detections([49]), standard);
    expect(atEnd.score).toBeCloseTo(s(-0.1) / s(-1), 12);
    expect(atEnd.score).toBeCloseTo(0.248241, 5);
  });

  it('counts only the earliest detection in a window', () => {
    const both = scoreNabFile(file, detections([45, 40, 49]), standard);
    expect(both.score).toBeCloseTo(1, 12);
    expect(both.detectedWindows).toBe(1);
    expect(both.falsePositiveRows).toBe(0);
  });

  it('costs −fpWeight for a detection before any window and less for one just after a window', () => {
    expect(scoreNabFile(file, detections([20, 40]), standard).score).toBeCloseTo(1 - 0.11, 12);
    // Row 50 is 1 row past the window: x = 1 / (10 − 1).
    const justAfter = scoreNabFile(file, detections([40, 50]), standard);
    expect(justAfter.fpScore).toBeCloseTo(0.11 * s(1 / 9), 12);
    expect(justAfter.fpScore).toBeCloseTo(-0.029795, 5);
    // Row 59: x = 10 / 9, almost the full penalty.
    expect(scoreNabFile(file, detections([40, 59]), standard).fpScore).toBeCloseTo(0.11 * s(10 / 9), 12);
    expect(scoreNabFile(file, detections([40, 99]), standard).fpScore).toBe(-0.11);
  });

  it('ignores detections in the probationary period', () => {
    const result = scoreNabFile(file, detections([5, 14, 40]), standard);
    expect(result.falsePositiveRows).toBe(0);
    expect(result.score).toBeCloseTo(1, 12);
  });

  it('costs fnWeight for every window missed, per profile', () => {
    const none = detections([]);
    expect(scoreNabFile(file, none, standard).score).toBe(-1);
    expect(scoreNabFile(file, none, nabProfiles.reward_low_FN_rate).score).toBe(-2);
    const twoWindows: NabFile = {
      ...file,
      windows: [
        { left: 40, right: 49 },
        { left: 70, right: 79 },
      ],
    };
    const oneFound = scoreNabFile(twoWindows, detections([70]), nabProfiles.reward_low_FN_rate);
    expect(oneFound.missedWindows).toBe(1);
    expect(oneFound.score).toBeCloseTo(1 - 2, 12);
  });

  it('weights false positives by the profile', () => {
    expect(scoreNabFile(file, detections([20]), nabProfiles.reward_low_FP_rate).score).toBeCloseTo(-1 - 0.22, 12);
    expect(scoreNabFile(file, detections([20]), nabProfiles.reward_low_FN_rate).score).toBeCloseTo(-2 - 0.11, 12);
  });

  it('marks probationary rows and windows in the row weights', () => {
    const { weight, window } = nabRowWeights(file, standard);
    expect(window[10]).toBe(-2);
    expect(window[20]).toBe(-1);
    expect(window[45]).toBe(0);
    expect(weight[45]).toBeCloseTo(s(-0.5) / s(-1), 12);
  });
});

describe('scoring a corpus', () => {
  const standard = nabProfiles.standard;
  const scores = new Float64Array(100);
  scores[20] = 0.95; // before the window: −0.11
  scores[45] = 0.9; // mid-window: S(−0.5)/S(−1) = 0.85979
  scores[70] = 0.8; // far after the window: ≈ −0.11

  it('normalises between the null detector (0) and the perfect one (100)', () => {
    const bounds = nabBounds([file], standard);
    expect(bounds).toEqual({ nullScore: -1, perfectScore: 1, windows: 1 });
    expect(normaliseNabScore(1, bounds)).toBe(100);
    expect(normaliseNabScore(-1, bounds)).toBe(0);
    expect(normaliseNabScore(0, bounds)).toBe(50);
  });

  it('scores a fixed threshold as "score >= threshold"', () => {
    const at = scoreNabCorpus([{ file, scores }], 0.9, standard);
    expect(at.raw).toBeCloseTo(-0.11 + s(-0.5) / s(-1), 12);
    expect(at.detectedWindows).toBe(1);
    expect(at.falsePositiveRows).toBe(1);
    expect(scoreNabCorpus([{ file, scores }], 0.96, standard).raw).toBe(-1);
  });

  it('finds the threshold NAB would: the best total over every distinct score', () => {
    const best = optimiseNabThreshold([{ file, scores }], standard);
    // 0.95 alone: −1.11; 0.9: −0.11 + 0.85979 = 0.74979; 0.8: one more FP; 0: every row fires.
    expect(best.threshold).toBe(0.9);
    expect(best.raw).toBeCloseTo(scoreNabCorpus([{ file, scores }], 0.9, standard).raw, 12);
    expect(best.normalised).toBeCloseTo((100 * (best.raw + 1)) / 2, 12);
    expect(best.detectedWindows).toBe(1);
    expect(best.falsePositiveRows).toBe(1);
  });

  it('reports the null score when firing never helps', () => {
    const onlyFalse = new Float64Array(100);
    onlyFalse[60] = 0.7;
    const best = optimiseNabThreshold([{ file, scores: onlyFalse }], standard);
    expect(best.raw).toBe(-1);
    expect(best.normalised).toBe(0);
    expect(best.threshold).toBeGreaterThan(1);
  });
});
