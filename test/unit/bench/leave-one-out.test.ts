import { describe, expect, it } from 'vitest';
import { chooseCandidate, leaveOneGroupOut } from '../../../bench/support/leave-one-out.js';

// Five items in three groups; each candidate is a per-item score table.
const groups = ['tweets', 'traffic', 'tweets', 'web', 'traffic'];
const sum = (table: readonly number[], items: readonly number[]): number => items.reduce((s, i) => s + table[i]!, 0);

describe('leave-one-group-out selection', () => {
  it('never shows the objective an item of the held-out group', () => {
    const seen: number[][] = [];
    const candidates = [
      [1, 1, 1, 1, 1],
      [0, 2, 0, 9, 2],
    ];
    const folds = leaveOneGroupOut(groups, candidates, (candidate, items) => {
      seen.push([...items]);
      return sum(candidate, items);
    });
    expect(folds.map((f) => f.group)).toEqual(['tweets', 'traffic', 'web']);
    // Replay the calls fold by fold: each fold asks once per candidate.
    folds.forEach((fold, k) => {
      const calls = seen.slice(k * candidates.length, (k + 1) * candidates.length);
      expect(calls).toHaveLength(candidates.length);
      for (const items of calls) {
        for (const i of items) expect(groups[i]).not.toBe(fold.group);
        // Every item of the other groups is used.
        expect(items).toEqual(groups.flatMap((g, i) => (g === fold.group ? [] : [i])));
      }
      expect(fold.heldOut).toEqual(groups.flatMap((g, i) => (g === fold.group ? [i] : [])));
    });
  });

  it('chooses by the other groups even when the held-out group would choose otherwise', () => {
    // Candidate 1 is far better on "web" only; without web, candidate 0 wins.
    const candidates = [
      [1, 1, 1, 0, 1],
      [0, 0, 0, 100, 0],
    ];
    const folds = leaveOneGroupOut(groups, candidates, (c, items) => sum(c, items));
    const web = folds.find((f) => f.group === 'web')!;
    expect(web.chosen).toBe(0);
    expect(web.trainingScore).toBe(4);
    // With web in the training data, candidate 1 is chosen.
    expect(folds.find((f) => f.group === 'tweets')!.chosen).toBe(1);
  });

  it('breaks ties by candidate order and ignores NaN', () => {
    expect(chooseCandidate([3, 3, 2], [0], (c) => c).chosen).toBe(0);
    expect(chooseCandidate([Number.NaN, 1], [0], (c) => c).chosen).toBe(1);
    expect(() => chooseCandidate([], [0], () => 0)).toThrow(/no candidates/);
    expect(() => leaveOneGroupOut(['a', 'a'], [0], () => 0)).toThrow(/at least 2 groups/);
  });
});
