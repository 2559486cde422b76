import { formatDuration } from '../core/index.js';
import { detectorSettings, noVerdict, rejectPoint, scoreSeriesWithStream } from './detector.js';
import type { AnomalyDetector, AnomalyPoint, AnomalySeverity, AnomalyStream, DetectorSettings } from './detector.js';

/** The registry name of the design's detector. */
export const zscoreDetectorName = 'zscore';

/**
 * Maps a deviation `z` (in units of the threshold's own scale) to a score in [0, 1]:
 * z / (z + threshold), so the score is exactly 0.5 at the threshold, 0.6 at 1.5 × the threshold
 * (the design's critical level), and tends to 1 as z grows.
 */
export function deviationScore(z: number, threshold: number): number {
  if (z === Number.POSITIVE_INFINITY) return 1;
  return z / (z + threshold);
}

/** The design's severity: warning from the threshold, critical from 1.5 × the threshold. */
export function designSeverity(z: number, threshold: number): AnomalySeverity {
  if (z >= 1.5 * threshold) return 'critical';
  return z >= threshold ? 'warning' : 'none';
}

/** The design's confidence: min(0.99, z / threshold). */
export function designConfidence(z: number, threshold: number): number {
  return Math.min(0.99, z / threshold);
}

/** A verdict from a deviation and a threshold, the design's way. */
export function verdictFromDeviation(z: number, threshold: number, expected: number): AnomalyPoint {
  return {
    score: deviationScore(z, threshold),
    isAnomaly: z >= threshold,
    severity: designSeverity(z, threshold),
    confidence: designConfidence(z, threshold),
    ...(Number.isFinite(expected) ? { expected } : {}),
  };
}

// Sums are re-computed from the window this often, so rounding never accumulates.
const resumEvery = 4096;

class ZScoreStream implements AnomalyStream {
  readonly #spanMs: number;
  readonly #threshold: number;
  #firstMs = Number.NaN;
  #lastMs = Number.NEGATIVE_INFINITY;
  // The window as parallel arrays from #head; values are stored minus #shift, which keeps the
  // sum of squares well conditioned for series far from zero (7,000,000 ± 10).
  #times: number[] = [];
  #values: number[] = [];
  #head = 0;
  #shift = Number.NaN;
  #sum = 0;
  #sumSquares = 0;
  #sinceResum = 0;

  constructor(settings: DetectorSettings) {
    this.#spanMs = settings.baselineSeconds * 1000;
    this.#threshold = settings.thresholdSigmas;
  }

  get lastTimestampMs(): number {
    return this.#lastMs;
  }

  push(timestampMs: number, value: number): AnomalyPoint {
    const rejected = rejectPoint(timestampMs, value, this.#lastMs);
    if (rejected !== undefined) return rejected;
    if (Number.isNaN(this.#firstMs)) {
      this.#firstMs = timestampMs;
      this.#shift = value;
    }
    this.#evict(timestampMs);
    const verdict = this.#score(timestampMs, value);
    this.#add(timestampMs, value);
    this.#lastMs = timestampMs;
    return verdict;
  }

  #score(timestampMs: number, value: number): AnomalyPoint {
    const coveredMs = timestampMs - this.#firstMs;
    if (coveredMs < this.#spanMs) {
      return noVerdict(`baseline not full: needs ${formatDuration(this.#spanMs / 1000)} of history, has ${formatDuration(Math.floor(coveredMs / 1000))}`);
    }
    const count = this.#times.length - this.#head;
    if (count < 2) return noVerdict(`baseline has ${count} point(s) in the last ${formatDuration(this.#spanMs / 1000)}; needs 2`);
    const meanShifted = this.#sum / count;
    const mean = this.#shift + meanShifted;
    const deviation = Math.abs(value - mean);
    const sd = Math.sqrt(Math.max(0, this.#sumSquares / count - meanShifted * meanShifted));
    const scale = Math.max(1, Math.abs(mean));
    let z: number;
    // A flat baseline has no spread, so every visible change from it is infinitely unusual, and
    // rounding noise (1e-16 of the level) is no change at all.
    if (sd <= 1e-12 * scale) z = deviation <= 1e-9 * scale ? 0 : Number.POSITIVE_INFINITY;
    else z = deviation / sd;
    return verdictFromDeviation(z, this.#threshold, mean);
  }

  #evict(nowMs: number): void {
    while (this.#head < this.#times.length && this.#times[this.#head]! <= nowMs - this.#spanMs) {
      const v = this.#values[this.#head]!;
      this.#sum -= v;
      this.#sumSquares -= v * v;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#values = this.#values.slice(this.#head);
      this.#head = 0;
    }
  }

  #add(timestampMs: number, value: number): void {
    const v = value - this.#shift;
    this.#times.push(timestampMs);
    this.#values.push(v);
    this.#sum += v;
    this.#sumSquares += v * v;
    if (++this.#sinceResum >= resumEvery) {
      this.#sinceResum = 0;
      this.#sum = 0;
      this.#sumSquares = 0;
      for (let i = this.#head; i < this.#values.length; i++) {
        this.#sum += this.#values[i]!;
        this.#sumSquares += this.#values[i]! * this.#values[i]!;
      }
    }
  }
}

/**
 * The design's detector: the z-score of each point against the mean and standard deviation of
 * the points of the previous `baselineSeconds` (24 h), with the metric's threshold (cpu 2.5,
 * memory 2.0, queue depth 3.0, response time 2.5, error rate 4.0 standard deviations). Warning
 * from the threshold, critical from 1.5 × the threshold, confidence min(0.99, z / threshold).
 * Before the series covers a whole baseline window there is no verdict: score 0 and a reason.
 * Score z / (z + threshold), so the operating threshold is 0.5. O(1) amortised per point.
 */
export function createZScoreDetector(settings: DetectorSettings = detectorSettings()): AnomalyDetector {
  return {
    name: zscoreDetectorName,
    operatingThreshold: 0.5,
    settings,
    createStream: () => new ZScoreStream(settings),
    scoreSeries(values, timestampsMs) {
      return scoreSeriesWithStream(new ZScoreStream(settings), values, timestampsMs);
    },
  };
}
