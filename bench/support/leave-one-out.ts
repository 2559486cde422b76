/**
 * Leave-one-group-out model selection: for each group (a NAB category, a dataset), choose the
 * candidate that does best on the other groups and score it on the group left out. The mean of
 * those held-out scores is what a setting chosen this way would score on data nobody tuned on;
 * the choice made on every group is what ships.
 *
 * Generic and pure so that a test can prove the held-out group is never seen by the choice.
 */

/** The choice made without one group, and how it did on that group. */
export interface HeldOutFold<C> {
  readonly group: string;
  /** Index of the chosen candidate in the candidate list. */
  readonly chosen: number;
  readonly candidate: C;
  /** The chosen candidate's objective on the other groups (what it was chosen by). */
  readonly trainingScore: number;
  /** Indices of the items of the held-out group, the ones it is then scored on. */
  readonly heldOut: readonly number[];
}

/**
 * The candidate with the highest `objective` on `items` (the first one on ties, so the order of
 * the candidates breaks ties: put the simpler or default ones first).
 */
export function chooseCandidate<C>(
  candidates: readonly C[],
  items: readonly number[],
  objective: (candidate: C, items: readonly number[]) => number,
): { readonly chosen: number; readonly score: number } {
  if (candidates.length === 0) throw new Error('chooseCandidate: no candidates');
  let chosen = 0;
  let best = Number.NEGATIVE_INFINITY;
  candidates.forEach((candidate, i) => {
    const score = objective(candidate, items);
    // Ties keep the earlier candidate; NaN never wins.
    if (score > best + 1e-9) {
      chosen = i;
      best = score;
    }
  });
  return { chosen, score: best };
}

/**
 * One fold per distinct group (in order of first appearance): the candidate chosen by
 * `objective` on the items of every other group. `objective` receives only item indices of the
 * training groups, never one of the held-out group.
 */
export function leaveOneGroupOut<C>(groups: readonly string[], candidates: readonly C[], objective: (candidate: C, items: readonly number[]) => number): HeldOutFold<C>[] {
  const names = [...new Set(groups)];
  if (names.length < 2) throw new Error(`leaveOneGroupOut: needs at least 2 groups, got ${names.length}`);
  return names.map((group) => {
    const training = groups.flatMap((g, i) => (g === group ? [] : [i]));
    const heldOut = groups.flatMap((g, i) => (g === group ? [i] : []));
    const { chosen, score } = chooseCandidate(candidates, training, objective);
    return { group, chosen, candidate: candidates[chosen]!, trainingScore: score, heldOut };
  });
}

/** A fold of {@link auditedLeaveOneGroupOut}: what the objective was shown while choosing it. */
export interface AuditedFold<C> extends HeldOutFold<C> {
  /** Every item index the objective was given for this fold (all candidates). */
  readonly shown: readonly number[];
}

/**
 * {@link leaveOneGroupOut} with an audit: every item index handed to `objective` is recorded per
 * fold, and a fold whose objective was shown an item of its held-out group throws. A benchmark
 * that prints "the selection never saw the scored group" prints what this checked, not a promise.
 */
export function auditedLeaveOneGroupOut<C>(groups: readonly string[], candidates: readonly C[], objective: (candidate: C, items: readonly number[]) => number): AuditedFold<C>[] {
  const calls: number[][] = [];
  const folds = leaveOneGroupOut(groups, candidates, (candidate, items) => {
    calls.push([...items]);
    return objective(candidate, items);
  });
  return folds.map((fold, k) => {
    const shown = [...new Set(calls.slice(k * candidates.length, (k + 1) * candidates.length).flat())].sort((a, b) => a - b);
    const leaked = shown.filter((i) => groups[i] === fold.group);
    if (leaked.length > 0) throw new Error(`leave-one-out: the choice for "${fold.group}" was shown its own items ${leaked.join(', ')}`);
    return { ...fold, shown };
  });
}
