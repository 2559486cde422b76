/**
 * The Numenta Anomaly Benchmark (NAB) scoring, as described in
 * `reference/prediction-and-evaluation.md` §4.1 (read from NAB's `sweeper.py`, `labeler.py` and
 * `config/profiles.json`). Used by `bench/anomaly.ts` and by the tests that pin the arithmetic.
 *
 * Everything works on row indices of one file: a file's windows are inclusive row ranges, and a
 * detection is a row whose anomaly score is at or above a threshold.
 */

/** The three NAB application profiles. */
export const nabProfileNames = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;

/** The name of a NAB profile. */
export type NabProfileName = (typeof nabProfileNames)[number];

/** The weights of a NAB profile (the true-negative weight, 1.0 in NAB, is unused and left out). */
export interface NabProfile {
  readonly name: NabProfileName;
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

/** NAB's `config/profiles.json`. */
export const nabProfiles: Readonly<Record<NabProfileName, NabProfile>> = Object.freeze({
  standard: { name: 'standard', tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0 },
  reward_low_FP_rate: { name: 'reward_low_FP_rate', tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0 },
  reward_low_FN_rate: { name: 'reward_low_FN_rate', tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0 },
});

/** NAB's share of a file that is probationary (`probationPercent`). */
export const nabProbationShare = 0.15;

/** NAB's share of a file covered by the windows of its anomalies (`windowSize`). */
export const nabWindowShare = 0.1;

/**
 * The scaled sigmoid S(x) = 2·sigmoid(−5x) − 1, and −1 from x = 3 on (as `sweeper.py`, whose
 * `>= 3.0` makes "a detection before any window" worth exactly −fpWeight).
 * S(−1) = 0.98661, S(−0.5) = 0.84828, S(0) = 0.
 */
export function scaledSigmoid(x: number): number {
  if (x >= 3) return -1;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

/** The number of leading rows that are never scored: min(floor(0.15·n), 0.15·5000). */
export function nabProbationLength(rowCount: number): number {
  return Math.min(Math.floor(nabProbationShare * rowCount), nabProbationShare * 5000);
}

/** An anomaly window as inclusive row indices of its file. */
export interface NabWindow {
  readonly left: number;
  readonly right: number;
}

/** One file, ready to score: its length, its probationary rows and its windows. */
export interface NabFile {
  readonly name: string;
  readonly rowCount: number;
  readonly probationLength: number;
  /** Windows in time order, not overlapping. */
  readonly windows: readonly NabWindow[];
}

/** Windows built from point labels, and the ones NAB's labeler deletes. */
export interface NabWindowsFromLabels {
  readonly windows: readonly NabWindow[];
  /** Windows that started inside the probationary period (NAB deletes them). */
  readonly deleted: readonly NabWindow[];
}

/**
 * NAB's windows from labelled anomaly rows (§4.1 item 1): each anomaly gets a window centred on it
 * of length floor(0.10 · n / k) rows (k anomalies in the file), clipped to the file; overlapping
 * windows are merged; windows that start inside the probationary period are deleted.
 */
export function nabWindowsFromLabels(anomalyRows: readonly number[], rowCount: number): NabWindowsFromLabels {
  if (anomalyRows.length === 0 || rowCount === 0) return { windows: [], deleted: [] };
  const length = Math.floor((nabWindowShare * rowCount) / anomalyRows.length);
  // labeler.py divides the length by 2 with Python 2 integer division.
  const half = Math.floor(length / 2);
  const raw = [...anomalyRows].sort((a, b) => a - b).map((row): NabWindow => ({ left: Math.max(row - half, 0), right: Math.min(row + half, rowCount - 1) }));
  const probation = nabProbationLength(rowCount);
  const deleted = raw.filter((w) => w.left < probation);
  const merged: NabWindow[] = [];
  for (const window of raw.filter((w) => w.left >= probation)) {
    const last = merged[merged.length - 1];
    if (last !== undefined && window.left <= last.right) merged[merged.length - 1] = { left: last.left, right: Math.max(last.right, window.right) };
    else merged.push(window);
  }
  return { windows: merged, deleted };
}

/**
 * Windows given by time limits (NAB's `combined_windows.json`, or `windows_unix.json`) as row
 * indices: from the first row at or after the start to the last row at or before the end. NAB's
 * own limits are row timestamps, so this is exact for them; a window that holds no row is dropped.
 * Overlapping windows are merged.
 */
export function nabWindowsFromTimes(timestampsMs: ArrayLike<number>, limits: readonly { readonly startMs: number; readonly endMs: number }[]): NabWindow[] {
  const out: NabWindow[] = [];
  const sorted = [...limits].sort((a, b) => a.startMs - b.startMs);
  for (const { startMs, endMs } of sorted) {
    const left = lowerBound(timestampsMs, startMs);
    const right = upperBound(timestampsMs, endMs) - 1;
    if (left > right || left >= timestampsMs.length || right < 0) continue;
    const last = out[out.length - 1];
    if (last !== undefined && left <= last.right) out[out.length - 1] = { left: last.left, right: Math.max(last.right, right) };
    else out.push({ left, right });
  }
  return out;
}

/** First index whose value is >= `target` (the length when there is none). */
function lowerBound(sorted: ArrayLike<number>, target: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is > `target` (the length when there is none). */
function upperBound(sorted: ArrayLike<number>, target: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Row role codes of {@link nabRowWeights}. */
const probationRow = -2;
const outsideRow = -1;

/**
 * What a detection at each row of a file is worth under a profile (NAB's per-row "sweep score"):
 * inside window w, S(−(right − i + 1)/width) · tpWeight / S(−1), so the earliest detection is worth
 * exactly tpWeight; outside any window, S((i − prevRight)/(prevWidth − 1)) · fpWeight after a
 * window and −fpWeight before the first one. `window[i]` is the window index, −1 outside and −2 in
 * the probationary period (never scored).
 */
export function nabRowWeights(file: NabFile, profile: NabProfile): { readonly weight: Float64Array; readonly window: Int32Array } {
  const n = file.rowCount;
  const weight = new Float64Array(n);
  const window = new Int32Array(n).fill(outsideRow);
  const maxTp = scaledSigmoid(-1);
  let next = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const current = file.windows[next];
    if (current !== undefined && i >= current.left && i <= current.right) {
      const width = current.right - current.left + 1;
      weight[i] = (scaledSigmoid(-(current.right - i + 1) / width) * profile.tpWeight) / maxTp;
      window[i] = next;
      if (i === current.right) {
        prevRight = current.right;
        prevWidth = width;
        next++;
      }
    } else {
      // sweeper.py divides by (prevWidth − 1); a one-row window makes that 0, read as "far away".
      const position = prevRight < 0 ? 3 : prevWidth > 1 ? Math.abs(i - prevRight) / (prevWidth - 1) : Number.POSITIVE_INFINITY;
      weight[i] = scaledSigmoid(position) * profile.fpWeight;
    }
    if (i < file.probationLength) window[i] = probationRow;
  }
  return { weight, window };
}

/** The windows NAB scores: those with at least one row after the probationary period. */
export function nabScoredWindows(file: NabFile): number[] {
  const out: number[] = [];
  file.windows.forEach((w, index) => {
    if (w.right >= file.probationLength) out.push(index);
  });
  return out;
}

/** The score of one file at one threshold, with its parts. */
export interface NabFileScore {
  readonly score: number;
  /** Windows with at least one detection. */
  readonly detectedWindows: number;
  /** Scored windows with none (each costs fnWeight). */
  readonly missedWindows: number;
  /** Detections outside every window (after the probationary period). */
  readonly falsePositiveRows: number;
  readonly tpScore: number;
  readonly fpScore: number;
  readonly fnScore: number;
}

/**
 * Scores one file's detections under a profile. `detected[i]` is truthy where the detector fired.
 * Only the best (earliest) detection in a window counts; every detection outside windows costs its
 * (negative) weight; every scored window without a detection costs fnWeight.
 */
export function scoreNabFile(file: NabFile, detected: ArrayLike<boolean | number>, profile: NabProfile): NabFileScore {
  const { weight, window } = nabRowWeights(file, profile);
  const best = new Map<number, number>();
  let fpScore = 0;
  let falsePositiveRows = 0;
  for (let i = 0; i < file.rowCount; i++) {
    if (!detected[i]) continue;
    const w = window[i]!;
    if (w === probationRow) continue;
    if (w === outsideRow) {
      fpScore += weight[i]!;
      falsePositiveRows++;
    } else if (!best.has(w) || weight[i]! > best.get(w)!) best.set(w, weight[i]!);
  }
  let tpScore = 0;
  let fnScore = 0;
  let detectedWindows = 0;
  let missedWindows = 0;
  for (const w of nabScoredWindows(file)) {
    const value = best.get(w);
    if (value === undefined) {
      fnScore -= profile.fnWeight;
      missedWindows++;
    } else {
      tpScore += value;
      detectedWindows++;
    }
  }
  return { score: tpScore + fpScore + fnScore, detectedWindows, missedWindows, falsePositiveRows, tpScore, fpScore, fnScore };
}

/** A file and a detector's anomaly scores for its rows (in [0, 1]; NaN counts as 0). */
export interface NabScoredFile {
  readonly file: NabFile;
  readonly scores: ArrayLike<number>;
}

/** The raw corpus score bounds of a profile: the null detector (never fires) and the perfect one. */
export function nabBounds(files: readonly NabFile[], profile: NabProfile): { readonly nullScore: number; readonly perfectScore: number; readonly windows: number } {
  const windows = files.reduce((sum, file) => sum + nabScoredWindows(file).length, 0);
  return { nullScore: -profile.fnWeight * windows, perfectScore: profile.tpWeight * windows, windows };
}

/** NAB's normalised score: 100 · (raw − null) / (perfect − null); 100 is perfect, 0 is "never fire". */
export function normaliseNabScore(raw: number, bounds: { readonly nullScore: number; readonly perfectScore: number }): number {
  const span = bounds.perfectScore - bounds.nullScore;
  return span === 0 ? 0 : (100 * (raw - bounds.nullScore)) / span;
}

/** The corpus score of one detector at one threshold under one profile. */
export interface NabCorpusScore {
  readonly threshold: number;
  readonly raw: number;
  readonly normalised: number;
  readonly detectedWindows: number;
  readonly missedWindows: number;
  readonly falsePositiveRows: number;
}

/** Scores a whole corpus at a fixed threshold: a row is a detection when its score is >= threshold. */
export function scoreNabCorpus(corpus: readonly NabScoredFile[], threshold: number, profile: NabProfile): NabCorpusScore {
  let raw = 0;
  let detectedWindows = 0;
  let missedWindows = 0;
  let falsePositiveRows = 0;
  for (const { file, scores } of corpus) {
    const detected = new Uint8Array(file.rowCount);
    for (let i = 0; i < file.rowCount; i++) detected[i] = (scores[i] ?? 0) >= threshold ? 1 : 0;
    const s = scoreNabFile(file, detected, profile);
    raw += s.score;
    detectedWindows += s.detectedWindows;
    missedWindows += s.missedWindows;
    falsePositiveRows += s.falsePositiveRows;
  }
  const bounds = nabBounds(
    corpus.map((c) => c.file),
    profile,
  );
  return { threshold, raw, normalised: normaliseNabScore(raw, bounds), detectedWindows, missedWindows, falsePositiveRows };
}

/**
 * NAB's threshold optimisation (§4.1 item 7): sweeps every distinct score over the whole corpus
 * and returns the threshold with the highest total, as NAB does per detector and profile. The
 * threshold is tuned on the corpus it is scored on, so the result is optimistic. O(N log N).
 * Of equal totals the highest threshold wins (fewest detections).
 */
export function optimiseNabThreshold(corpus: readonly NabScoredFile[], profile: NabProfile): NabCorpusScore {
  const rows: { score: number; weight: number; key: number }[] = [];
  const windowBase: number[] = [];
  for (const { file, scores } of corpus) {
    const { weight, window } = nabRowWeights(file, profile);
    const base = windowBase.length;
    for (let w = 0; w < file.windows.length; w++) windowBase.push(0);
    for (let i = 0; i < file.rowCount; i++) {
      const w = window[i]!;
      if (w === probationRow) continue;
      const raw = scores[i];
      const score = raw === undefined || Number.isNaN(raw) ? 0 : raw;
      rows.push({ score, weight: weight[i]!, key: w === outsideRow ? -1 : base + w });
    }
  }
  const bounds = nabBounds(
    corpus.map((c) => c.file),
    profile,
  );
  // Every scored window starts as a miss; only windows with rows after probation appear in `rows`.
  const part = new Map<number, number>();
  for (const row of rows) if (row.key >= 0) part.set(row.key, -profile.fnWeight);
  const detected = new Set<number>();
  let total = bounds.nullScore;
  let detectedWindows = 0;
  let falsePositiveRows = 0;
  const totalWindows = part.size;
  rows.sort((a, b) => b.score - a.score);
  let best: NabCorpusScore = {
    threshold: 1.1,
    raw: total,
    normalised: normaliseNabScore(total, bounds),
    detectedWindows: 0,
    missedWindows: totalWindows,
    falsePositiveRows: 0,
  };
  let i = 0;
  while (i < rows.length) {
    const threshold = rows[i]!.score;
    for (; i < rows.length && rows[i]!.score === threshold; i++) {
      const row = rows[i]!;
      if (row.key < 0) {
        total += row.weight;
        falsePositiveRows++;
      } else {
        const before = part.get(row.key)!;
        if (row.weight > before) {
          if (!detected.has(row.key)) {
            detected.add(row.key);
            detectedWindows++;
          }
          part.set(row.key, row.weight);
          total += row.weight - before;
        }
      }
    }
    if (total > best.raw) {
      best = {
        threshold,
        raw: total,
        normalised: normaliseNabScore(total, bounds),
        detectedWindows,
        missedWindows: totalWindows - detectedWindows,
        falsePositiveRows,
      };
    }
  }
  return best;
}
