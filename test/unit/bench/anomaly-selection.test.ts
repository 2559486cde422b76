import { describe, expect, it } from 'vitest';
import { adaptiveCandidates, selectAdaptiveSettings } from '../../../bench/support/anomaly-selection.js';
import type { AdaptiveCandidate, SelectionSeries } from '../../../bench/support/anomaly-selection.js';
import { adaptiveDefaults, nabProbationLength } from '../../../src/anomaly/index.js';
import { makeSeries, minuteMs, normals } from '../anomaly/synthetic.js';

const perDay = 288;

/** Ten days at 5 minutes with one labelled spike of `height` on day 9. */
function labelled(category: string, seed: number, height: number): SelectionSeries {
  const noise = normals(seed);
  const { values, timestampsMs } = makeSeries(10 * perDay, 5 * minuteMs, () => 100 + 3 * noise());
  const at = 9 * perDay;
  values[at] = values[at]! + height;
  const rowCount = values.length;
  return { category, values, timestampsMs, file: { name: `${category}-${seed}`, rowCount, probationLength: nabProbationLength(rowCount), windows: [{ left: at - 20, right: at + 20 }] } };
}

// Two candidates that differ only in how large a point deviation must be to count.
const candidates: AdaptiveCandidate[] = [
  { label: 'floor 8', parameters: { ...adaptiveDefaults, pointFloor: 8 } },
  { label: 'floor 40', parameters: { ...adaptiveDefaults, pointFloor: 40 } },
];

describe('the adaptive settings chosen leaving one category out', () => {
  it('chooses each fold without the held-out category: changing that category changes nothing but its score', () => {
    // Moderate spikes (about 10 sigmas): the low floor finds them, the high one does not.
    const base = [labelled('a', 1, 30), labelled('b', 2, 30), labelled('c', 3, 30)];
    const first = selectAdaptiveSettings(base, candidates);
    expect(first.folds.map((f) => f.category)).toEqual(['a', 'b', 'c']);
    expect(first.folds.every((f) => f.chosen === 'floor 8')).toBe(true);
    // Category c now has a far larger spike and a stretch of bumps: its own score changes, but
    // the choice made for it, and the score that choice was made by, must not.
    const changed = labelled('c', 3, 400);
    for (let i = 8 * perDay; i < 8 * perDay + 30; i += 3) changed.values[i] = changed.values[i]! + 35;
    const second = selectAdaptiveSettings([base[0]!, base[1]!, changed], candidates);
    const foldC = second.folds.find((f) => f.category === 'c')!;
    expect(foldC.chosen).toBe('floor 8');
    expect(foldC.trainingScore).toBeCloseTo(first.folds.find((f) => f.category === 'c')!.trainingScore, 9);
    expect(foldC.heldOut.normalised).not.toBeCloseTo(first.folds.find((f) => f.category === 'c')!.heldOut.normalised, 3);
    // Both detectors ran once each, whatever the number of folds.
    expect(second.runs).toBe(2);
    expect(second.leaveOneOut.windows).toBe(3);
  });

  it('offers the shipped defaults among its candidates', () => {
    const labels = adaptiveCandidates()
      .filter((c) => JSON.stringify(c.parameters) === JSON.stringify(adaptiveDefaults))
      .map((c) => c.label);
    expect(labels).toEqual(['range tolerance 0.1, margin 0.05']);
  });
});
