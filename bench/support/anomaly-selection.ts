/**
 * How `bench:anomaly` chooses the adaptive detector's settings: leave one NAB category out.
 * Every candidate (a parameter set and its alert margin) is run once over the real series; for
 * each category, the candidate with the best NAB standard score on the other categories is scored
 * on the category left out. The pooled held-out score is the headline; the candidate chosen on all
 * categories is what the service ships as `adaptiveDefaults` (the bench checks that they agree).
 */
import { adaptiveDefaults, createAdaptiveDetector, nabBounds, nabProfiles, normaliseNabScore, operatingThresholdOf, scoreNabFile } from '../../src/anomaly/index.js';
import type { AdaptiveParameters, NabFile } from '../../src/anomaly/index.js';
import { chooseCandidate, leaveOneGroupOut } from './leave-one-out.js';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/** A series as the selection sees it. */
export interface SelectionSeries {
  /** The NAB category (its folder: realTweets, realTraffic, ...) or the dataset folder (web). */
  readonly category: string;
  readonly values: Float64Array;
  readonly timestampsMs: Float64Array;
  readonly file: NabFile;
}

/** One candidate setting: a change of the grid's centre, and the alert margin. */
export interface AdaptiveCandidate {
  readonly label: string;
  readonly parameters: AdaptiveParameters;
}

/**
 * The grid's centre: the settings of the first adaptive detector plus the stuck-run check, fixed
 * here so that the grid does not move when the shipped defaults do.
 */
const centre: AdaptiveParameters = {
  ...adaptiveDefaults,
  localMs: 6 * hourMs,
  localMinPoints: 12,
  recordMs: 14 * dayMs,
  pointFloor: 8,
  smoothFloor: 5,
  smoothingWeights: [0.1],
  rangeTolerance: 0.2,
  restMs: 12 * hourMs,
  stuckFloorPoints: 60,
  alertMargin: 0.05,
};

/** One setting changed at a time (a star around the centre): each fold chooses among them. */
const variations: readonly { readonly label: string; readonly change: Partial<AdaptiveParameters> }[] = [
  { label: 'centre', change: {} },
  { label: 'stuck floor 30 points', change: { stuckFloorPoints: 30 } },
  { label: 'stuck floor 120 points', change: { stuckFloorPoints: 120 } },
  { label: 'record 7 days', change: { recordMs: 7 * dayMs } },
  { label: 'record 28 days', change: { recordMs: 28 * dayMs } },
  { label: 'floors 6 / 4', change: { pointFloor: 6, smoothFloor: 4 } },
  { label: 'floors 10 / 6', change: { pointFloor: 10, smoothFloor: 6 } },
  { label: 'rest 6 h', change: { restMs: 6 * hourMs } },
  { label: 'rest 24 h', change: { restMs: 24 * hourMs } },
  { label: 'range tolerance 0.1', change: { rangeTolerance: 0.1 } },
  { label: 'range tolerance 0.4', change: { rangeTolerance: 0.4 } },
  { label: 'smoothing 0.05', change: { smoothingWeights: [0.05] } },
  { label: 'smoothing 0.1 and 0.01', change: { smoothingWeights: [0.1, 0.01] } },
  { label: 'local 3 h (6 points)', change: { localMs: 3 * hourMs, localMinPoints: 6 } },
  { label: 'local 12 h (24 points)', change: { localMs: 12 * hourMs, localMinPoints: 24 } },
];

/** Alert margins: the operating threshold is (1 + m) / (2 + m). The centre's comes first. */
const margins: readonly number[] = [0.05, 0, 0.1];

/** Every candidate, the centre first (ties keep the earlier one). */
export function adaptiveCandidates(): AdaptiveCandidate[] {
  return variations.flatMap(({ label, change }) =>
    margins.map((alertMargin) => ({
      label: `${label}, margin ${alertMargin}`,
      parameters: { ...centre, ...change, alertMargin },
    })),
  );
}

/** A candidate's NAB standard result on one file. */
interface FileResult {
  readonly raw: number;
  readonly nullScore: number;
  readonly perfectScore: number;
  readonly detected: number;
  readonly windows: number;
}

/** The NAB standard result of a set of files, normalised over them together. */
export interface PooledScore {
  readonly normalised: number;
  readonly detectedWindows: number;
  readonly windows: number;
}

function pool(results: readonly FileResult[]): PooledScore {
  let raw = 0;
  let nullScore = 0;
  let perfectScore = 0;
  let detectedWindows = 0;
  let windows = 0;
  for (const r of results) {
    raw += r.raw;
    nullScore += r.nullScore;
    perfectScore += r.perfectScore;
    detectedWindows += r.detected;
    windows += r.windows;
  }
  return { normalised: normaliseNabScore(raw, { nullScore, perfectScore }), detectedWindows, windows };
}

/** One fold: the category left out, what was chosen without it and how that did on it. */
export interface SelectionFold {
  readonly category: string;
  readonly chosen: string;
  readonly trainingScore: number;
  readonly heldOut: PooledScore;
  /** The best any candidate does on this category (chosen on it: optimistic, for reference). */
  readonly bestOnCategory: number;
}

export interface SelectionResult {
  readonly folds: readonly SelectionFold[];
  /** The held-out results of every fold, pooled: the headline. */
  readonly leaveOneOut: PooledScore;
  /** The candidate chosen on all categories, and its score on them (in-sample). */
  readonly chosenOnAll: AdaptiveCandidate;
  readonly inSample: PooledScore;
  readonly candidates: number;
  readonly runs: number;
}

/**
 * Runs the selection. Detector outputs are cached per parameter set (the margin only moves the
 * threshold), so each distinct detector runs once over the series.
 */
export function selectAdaptiveSettings(series: readonly SelectionSeries[], candidates: readonly AdaptiveCandidate[] = adaptiveCandidates()): SelectionResult {
  const scoreCache = new Map<string, Float64Array[]>();
  const scoresOf = (p: AdaptiveParameters): Float64Array[] => {
    const key = JSON.stringify({ ...p, alertMargin: 0 });
    let scores = scoreCache.get(key);
    if (scores === undefined) {
      const detector = createAdaptiveDetector(undefined, p);
      scores = series.map((s) => Float64Array.from(detector.scoreSeries(s.values, s.timestampsMs), (v) => v.score));
      scoreCache.set(key, scores);
    }
    return scores;
  };
  // Per candidate, per file: the NAB standard result at the candidate's own threshold.
  const perFile: FileResult[][] = candidates.map((candidate) => {
    const scores = scoresOf(candidate.parameters);
    const threshold = operatingThresholdOf(candidate.parameters);
    return series.map((s, i) => {
      const detected = Uint8Array.from(scores[i]!, (x) => (x >= threshold ? 1 : 0));
      const r = scoreNabFile(s.file, detected, nabProfiles.standard);
      const bounds = nabBounds([s.file], nabProfiles.standard);
      return { raw: r.score, nullScore: bounds.nullScore, perfectScore: bounds.perfectScore, detected: r.detectedWindows, windows: r.detectedWindows + r.missedWindows };
    });
  });
  const indices = candidates.map((_, i) => i);
  const objective = (c: number, items: readonly number[]): number => pool(items.map((i) => perFile[c]![i]!)).normalised;
  const folds = leaveOneGroupOut(
    series.map((s) => s.category),
    indices,
    objective,
  ).map((fold) => ({
    category: fold.group,
    chosen: candidates[fold.chosen]!.label,
    trainingScore: fold.trainingScore,
    heldOut: pool(fold.heldOut.map((i) => perFile[fold.chosen]![i]!)),
    heldOutResults: fold.heldOut.map((i) => perFile[fold.chosen]![i]!),
    bestOnCategory: chooseCandidate(indices, fold.heldOut, objective).score,
  }));
  const all = series.map((_, i) => i);
  const onAll = chooseCandidate(indices, all, objective).chosen;
  return {
    folds: folds.map(({ heldOutResults: _, ...fold }) => fold),
    leaveOneOut: pool(folds.flatMap((f) => f.heldOutResults)),
    chosenOnAll: candidates[onAll]!,
    inSample: pool(perFile[onAll]!),
    candidates: candidates.length,
    runs: scoreCache.size,
  };
}

/** The parameters on which two sets differ (empty when they are the same). */
export function parameterDifferences(a: AdaptiveParameters, b: AdaptiveParameters): string[] {
  return (Object.keys(a) as (keyof AdaptiveParameters)[]).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k}: ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
}
