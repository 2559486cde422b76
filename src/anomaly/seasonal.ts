import { ResidualScale, SeasonalMedian } from './baselines.js';
import { detectorSettings, noVerdict, rejectPoint, scoreSeriesWithStream } from './detector.js';
import type { AnomalyDetector, AnomalyPoint, AnomalyStream, DetectorSettings } from './detector.js';
import { verdictFromDeviation } from './zscore.js';

/** The registry name of the seasonal detector. */
export const seasonalDetectorName = 'seasonal';

const dayMs = 86_400_000;

/**
 * The same time yesterday, last week and the week before. With both daily and weekly lags the
 * median follows a weekly pattern (Saturday is compared with Saturdays, as two of three lags)
 * and still reacts to a new level within a day or two.
 */
export const seasonalLagsMs: readonly number[] = Object.freeze([1, 7, 14].map((days) => days * dayMs));

/** Window of the residual spread. */
const scaleMs = 3 * dayMs;
const minPoints = 12;

class SeasonalStream implements AnomalyStream {
  readonly #threshold: number;
  readonly #baseline = new SeasonalMedian(seasonalLagsMs);
  readonly #scale = new ResidualScale(scaleMs, minPoints);
  #lastMs = Number.NEGATIVE_INFINITY;

  constructor(settings: DetectorSettings) {
    this.#threshold = settings.thresholdSigmas;
  }

  get lastTimestampMs(): number {
    return this.#lastMs;
  }

  push(timestampMs: number, value: number): AnomalyPoint {
    const rejected = rejectPoint(timestampMs, value, this.#lastMs);
    if (rejected !== undefined) return rejected;
    this.#lastMs = timestampMs;
    const expected = this.#baseline.expected(timestampMs);
    this.#baseline.add(timestampMs, value);
    if (Number.isNaN(expected)) return noVerdict('no seasonal baseline: no point at this time yesterday, last week or 2 weeks ago');
    const residual = value - expected;
    const scale = this.#scale.scale(timestampMs, expected);
    this.#scale.add(timestampMs, residual);
    if (Number.isNaN(scale)) return noVerdict(`seasonal residual spread has fewer than ${minPoints} points`, expected);
    return verdictFromDeviation(Math.abs(residual) / scale, this.#threshold, expected);
  }
}

/**
 * "Same time yesterday / last week": the expected value is the median of the values at the same
 * time yesterday, last week and two weeks ago (whichever exist), so a daily peak or a quiet
 * weekend is expected. The deviation is in robust sigmas of the seasonal residuals of the last
 * 3 days. Thresholds, severity, confidence and score as the z-score detector. State: 2 weeks of
 * points per series.
 */
export function createSeasonalDetector(settings: DetectorSettings = detectorSettings()): AnomalyDetector {
  return {
    name: seasonalDetectorName,
    operatingThreshold: 0.5,
    settings,
    createStream: () => new SeasonalStream(settings),
    scoreSeries(values, timestampsMs) {
      return scoreSeriesWithStream(new SeasonalStream(settings), values, timestampsMs);
    },
  };
}
