import { formatDuration } from '../core/index.js';
import { ResidualScale, TrailingMedian } from './baselines.js';
import { detectorSettings, noVerdict, rejectPoint, scoreSeriesWithStream } from './detector.js';
import type { AnomalyDetector, AnomalyPoint, AnomalyStream, DetectorSettings } from './detector.js';
import { verdictFromDeviation } from './zscore.js';

/** The registry name of the robust local detector. */
export const madDetectorName = 'mad';

/** Points the 24 h window must hold before its median and spread are used. */
const minPoints = 12;

class MadStream implements AnomalyStream {
  readonly #spanMs: number;
  readonly #threshold: number;
  readonly #median: TrailingMedian;
  readonly #scale: ResidualScale;
  #firstMs = Number.NaN;
  #lastMs = Number.NEGATIVE_INFINITY;

  constructor(settings: DetectorSettings) {
    this.#spanMs = settings.baselineSeconds * 1000;
    this.#threshold = settings.thresholdSigmas;
    this.#median = new TrailingMedian(this.#spanMs, minPoints);
    this.#scale = new ResidualScale(this.#spanMs, minPoints);
  }

  get lastTimestampMs(): number {
    return this.#lastMs;
  }

  push(timestampMs: number, value: number): AnomalyPoint {
    const rejected = rejectPoint(timestampMs, value, this.#lastMs);
    if (rejected !== undefined) return rejected;
    if (Number.isNaN(this.#firstMs)) this.#firstMs = timestampMs;
    this.#lastMs = timestampMs;
    const expected = this.#median.expected(timestampMs);
    this.#median.add(timestampMs, value);
    if (Number.isNaN(expected)) return noVerdict(`baseline has fewer than ${minPoints} points in the last ${formatDuration(this.#spanMs / 1000)}`);
    const residual = value - expected;
    const scale = this.#scale.scale(timestampMs, expected);
    this.#scale.add(timestampMs, residual);
    const coveredMs = timestampMs - this.#firstMs;
    if (coveredMs < this.#spanMs) {
      return noVerdict(`baseline not full: needs ${formatDuration(this.#spanMs / 1000)} of history, has ${formatDuration(Math.floor(coveredMs / 1000))}`, expected);
    }
    if (Number.isNaN(scale)) return noVerdict(`residual spread has fewer than ${minPoints} points`, expected);
    return verdictFromDeviation(Math.abs(residual) / scale, this.#threshold, expected);
  }
}

/**
 * The robust version of the design's detector: the deviation from the median of the previous
 * 24 h in robust sigmas, 1.4826 · the median absolute residual of the same window (floored by
 * half the mean absolute residual so far, so mostly-flat series do not divide by zero). The
 * median and MAD are not dragged by the outliers they are meant to find, unlike mean and standard
 * deviation. Thresholds, severity, confidence and score as the z-score detector.
 */
export function createMadDetector(settings: DetectorSettings = detectorSettings()): AnomalyDetector {
  return {
    name: madDetectorName,
    operatingThreshold: 0.5,
    settings,
    createStream: () => new MadStream(settings),
    scoreSeries(values, timestampsMs) {
      return scoreSeriesWithStream(new MadStream(settings), values, timestampsMs);
    },
  };
}
