import { describe, expect, it } from 'vitest';
import { auditedLeaveOneGroupOut, chooseCandidate, leaveOneGroupOut } from '../../../bench/support/leave-one-out.js';

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

describe('audited leave-one-group-out (bench:scaling chooses the quantile with it)', () => {
  const traces = ['nasa', 'taxi', 'aapl', 'fb'];
  const candidates = [0.95, 0.98];
  /** A per-trace score per candidate; 0.98 would win only on "fb", by far. */
  const score = (q: number, i: number) => (q === 0.98 && traces[i] === 'fb' ? 100 : q === 0.95 ? 1 : 0);

  it('records what each fold was shown: every other trace, never the scored one', () => {
    const folds = auditedLeaveOneGroupOut(traces, candidates, (q, items) => items.reduce((s, i) => s + score(q, i), 0));
    for (const fold of folds) {
      expect(fold.shown).toEqual(traces.flatMap((t, i) => (t === fold.group ? [] : [i])));
      expect(fold.shown).not.toContain(fold.heldOut[0]);
    }
    // "fb" is scored at the choice of the others (0.95), though it alone would pick 0.98.
    expect(folds.find((f) => f.group === 'fb')!.candidate).toBe(0.95);
    expect(folds.find((f) => f.group === 'nasa')!.candidate).toBe(0.98);
  });
});
