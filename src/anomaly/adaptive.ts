import { formatDuration } from '../core/index.js';
import { detectorSettings, noVerdict, referenceThresholdSigmas, rejectPoint, scoreSeriesWithStream } from './detector.js';
import type { AnomalyDetector, AnomalyPoint, AnomalySeverity, AnomalyStream, DetectorSettings } from './detector.js';
import { AlertRest, RangeBreak, RecordRatio, ResidualScale, SeasonalMedian, SelfStandardizer, StuckRun, TrailingMedian } from './baselines.js';

/** The registry name of the service's default detector. */
export const adaptiveDetectorName = 'adaptive';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
const weekMs = 7 * dayMs;

/**
 * The adaptive detector's parameters. One set for every series, chosen by `bench:anomaly` leaving
 * one NAB category out (docs/anomaly-detection.md); only the minimum deviations scale with the
 * metric's threshold.
 */
export interface AdaptiveParameters {
  /** Window of the local baseline (trailing median). */
  readonly localMs: number;
  /** Points the local window must hold before it is used (12 in 6 h: series sampled every 30 min or slower rely on the weekly baseline). */
  readonly localMinPoints: number;
  /** Lags of the seasonal baseline (the same time 1, 2 and 3 weeks ago); empty turns it off. */
  readonly seasonalLagsMs: readonly number[];
  /** Window of the robust residual spread. */
  readonly scaleMs: number;
  /** Residuals the spread needs before residuals are scored. */
  readonly scaleMinPoints: number;
  /**
   * Smoothing weights of the sustained-deviation features, one EWMA of the standardised residual
   * each: an ensemble of time scales (0.1 ≈ the last 10 points, 0.01 ≈ the last 100), so a
   * slow drift and a short burst are each judged at the scale they show at.
   */
  readonly smoothingWeights: readonly number[];
  /** Window in which the smoothed feature is standardised by its own median and MAD. */
  readonly selfStandardizeMs: number;
  readonly selfStandardizeMinPoints: number;
  /** How far back "the largest recent deviation" looks. */
  readonly recordMs: number;
  /** Smallest point deviation (robust sigmas) that can ever alert, at the reference threshold 2.5 (scaled by threshold / 2.5). */
  readonly pointFloor: number;
  /** Smallest smoothed deviation (its own robust sigmas) that can ever alert, at the reference threshold. */
  readonly smoothFloor: number;
  /** Window of the range check and how far outside it (as a share of its width, scaled by threshold / 2.5) counts. */
  readonly rangeMs: number;
  readonly rangeTolerance: number;
  /** Shortest stuck run (points at one value) that can alert, compared with the longest of the record window. */
  readonly stuckFloorPoints: number;
  /** Alert de-duplication: rest period, the score that starts it (0.5, a tie with the record) and the margin that breaks it. */
  readonly restMs: number;
  readonly restLevel: number;
  readonly restMargin: number;
  /** Rest separately for deviations above and below normal (a drop after a burst alerts). */
  readonly restPerDirection: boolean;
  /**
   * How much larger than the reference a deviation must be to alert: the operating threshold is
   * (1 + margin) / (2 + margin) on the score d / (d + r).
   */
  readonly alertMargin: number;
}

/** The parameters the service uses: the benchmark's choice on all categories (it checks they agree). */
export const adaptiveDefaults: AdaptiveParameters = Object.freeze({
  localMs: 6 * hourMs,
  localMinPoints: 12,
  seasonalLagsMs: Object.freeze([weekMs, 2 * weekMs, 3 * weekMs]),
  scaleMs: 3 * dayMs,
  scaleMinPoints: 12,
  smoothingWeights: Object.freeze([0.1]),
  selfStandardizeMs: 7 * dayMs,
  selfStandardizeMinPoints: 50,
  recordMs: 14 * dayMs,
  pointFloor: 8,
  smoothFloor: 5,
  rangeMs: 7 * dayMs,
  rangeTolerance: 0.1,
  stuckFloorPoints: 60,
  restMs: 12 * hourMs,
  restLevel: 0.5,
  restMargin: 0.02,
  restPerDirection: true,
  alertMargin: 0.05,
});

/**
 * The operating threshold: a deviation at least 5 % larger than the largest of the last 14 days
 * (and above the floor): d / (d + r) >= 1.05 r / 2.05 r. "As large as" (0.5) would alert on about
 * every other occurrence of a pattern that repeats at the same size, such as a daily batch job.
 */
export const adaptiveOperatingThreshold = operatingThresholdOf(adaptiveDefaults);

/** The score from which a detector with these parameters alerts. */
export function operatingThresholdOf(p: AdaptiveParameters): number {
  return (1 + p.alertMargin) / (2 + p.alertMargin);
}
/** Critical: 1.5 × the reference deviation, the design's critical rule applied to the adaptive threshold. */
const criticalScore = 0.6;

/** One baseline and the two features scored against it. */
class BaselineFeatures {
  readonly #scale: ResidualScale;
  readonly #pointRecord: RecordRatio;
  readonly #weights: readonly number[];
  readonly #smoothed: SelfStandardizer[];
  readonly #smoothRecords: RecordRatio[];
  readonly #ewma: number[];

  constructor(p: AdaptiveParameters, floorFactor: number) {
    this.#scale = new ResidualScale(p.scaleMs, p.scaleMinPoints);
    this.#pointRecord = new RecordRatio(p.recordMs, p.pointFloor * floorFactor);
    this.#weights = p.smoothingWeights;
    this.#smoothed = p.smoothingWeights.map(() => new SelfStandardizer(p.selfStandardizeMs, p.selfStandardizeMinPoints));
    this.#smoothRecords = p.smoothingWeights.map(() => new RecordRatio(p.recordMs, p.smoothFloor * floorFactor));
    this.#ewma = p.smoothingWeights.map(() => Number.NaN);
  }

  /**
   * The largest of the point and sustained-deviation ratios for `value` against `expected`,
   * signed by the direction of that deviation (negative below the baseline); NaN when none
   * exists yet.
   */
  next(timeMs: number, value: number, expected: number): number {
    if (Number.isNaN(expected)) return Number.NaN;
    const residual = value - expected;
    const scale = this.#scale.scale(timeMs, expected);
    this.#scale.add(timeMs, residual);
    if (Number.isNaN(scale)) return Number.NaN;
    // Clamped so that one absurd value cannot turn the EWMA (and everything after it) into NaN.
    const z = Math.max(-1e12, Math.min(1e12, residual / scale));
    const point = this.#pointRecord.next(timeMs, z);
    let strongest = z < 0 ? -point : point;
    this.#weights.forEach((weight, k) => {
      const previous = this.#ewma[k]!;
      const ewma = Number.isNaN(previous) ? z : previous + weight * (z - previous);
      this.#ewma[k] = ewma;
      const standardized = this.#smoothed[k]!.next(timeMs, ewma);
      const smooth = this.#smoothRecords[k]!.next(timeMs, standardized);
      if (smooth > Math.abs(strongest)) strongest = standardized < 0 ? -smooth : smooth;
    });
    return strongest;
  }
}

class AdaptiveStream implements AnomalyStream {
  readonly #local: TrailingMedian;
  readonly #seasonal: SeasonalMedian;
  readonly #localFeatures: BaselineFeatures;
  readonly #seasonalFeatures: BaselineFeatures;
  readonly #range: RangeBreak;
  readonly #stuck: StuckRun;
  readonly #restUp: AlertRest;
  readonly #restDown: AlertRest;
  readonly #restSeconds: number;
  readonly #threshold: number;
  #lastMs = Number.NEGATIVE_INFINITY;

  constructor(p: AdaptiveParameters, settings: DetectorSettings) {
    // The design's per-metric thresholds set how large a deviation must at least be: they scale
    // the floors and the range tolerance (memory, 2.0, is flagged earlier than the reference 2.5).
    const floorFactor = settings.thresholdSigmas / referenceThresholdSigmas;
    this.#local = new TrailingMedian(p.localMs, p.localMinPoints);
    this.#seasonal = new SeasonalMedian(p.seasonalLagsMs);
    this.#localFeatures = new BaselineFeatures(p, floorFactor);
    this.#seasonalFeatures = new BaselineFeatures(p, floorFactor);
    this.#range = new RangeBreak(p.rangeMs, p.rangeTolerance * floorFactor, dayMs);
    this.#stuck = new StuckRun(p.recordMs, p.stuckFloorPoints * floorFactor);
    this.#restUp = new AlertRest(p.restMs, p.restLevel, p.restMargin);
    this.#restDown = p.restPerDirection ? new AlertRest(p.restMs, p.restLevel, p.restMargin) : this.#restUp;
    this.#restSeconds = p.restMs / 1000;
    this.#threshold = operatingThresholdOf(p);
  }

  get lastTimestampMs(): number {
    return this.#lastMs;
  }

  push(timestampMs: number, value: number): AnomalyPoint {
    const rejected = rejectPoint(timestampMs, value, this.#lastMs);
    if (rejected !== undefined) return rejected;
    this.#lastMs = timestampMs;
    const localExpected = this.#local.expected(timestampMs);
    const seasonalExpected = this.#seasonal.expected(timestampMs);
    const local = this.#localFeatures.next(timestampMs, value, localExpected);
    const seasonal = this.#seasonalFeatures.next(timestampMs, value, seasonalExpected);
    const range = this.#range.next(timestampMs, value);
    const stuckRatio = this.#stuck.next(timestampMs, value);
    // A stuck value is below normal when it sits under the local baseline (traffic gone to zero).
    const stuck = value < localExpected || (Number.isNaN(localExpected) && value < seasonalExpected) ? -stuckRatio : stuckRatio;
    this.#local.add(timestampMs, value);
    this.#seasonal.add(timestampMs, value);

    if (Number.isNaN(local) && Number.isNaN(seasonal)) {
      return noVerdict('no baseline yet: the 6h median needs 12 points and the residual spread 12 more, or 1 week of history for the seasonal baseline');
    }
    // The strongest signed evidence; its sign says whether the value is above or below normal.
    let strongest = 0;
    for (const candidate of [local, seasonal, range, stuck]) if (Math.abs(candidate) > Math.abs(strongest)) strongest = candidate;
    const raw = Math.abs(strongest);
    // Report the baseline behind the larger deviation: the one that flagged the point, if any.
    const expected = Number.isNaN(seasonal) || (!Number.isNaN(local) && Math.abs(local) >= Math.abs(seasonal)) ? localExpected : seasonalExpected;
    // A drop after an alert on a burst is a new incident, so each direction rests on its own.
    const rest = (strongest < 0 ? this.#restDown : this.#restUp).decide(timestampMs, raw);
    if (rest.heldBack) {
      // Capped below the operating threshold: the incident has been reported already.
      const score = Math.min(raw / 2, 0.49);
      return {
        ...verdict(score, expected, this.#threshold),
        reason: `held back: repeats an alert from ${formatDuration(Math.round((timestampMs - rest.alertMs) / 1000))} ago without getting clearly worse (rest period ${formatDuration(this.#restSeconds)})`,
      };
    }
    return verdict(raw, expected, this.#threshold);
  }
}

function verdict(score: number, expected: number, threshold: number): AnomalyPoint {
  const severity: AnomalySeverity = score >= Math.max(criticalScore, threshold) ? 'critical' : score >= threshold ? 'warning' : 'none';
  return {
    score,
    isAnomaly: score >= threshold,
    severity,
    // score = d / (d + reference), so d / reference = score / (1 − score).
    confidence: score >= 1 ? 0.99 : Math.min(0.99, score / (1 - score)),
    ...(Number.isFinite(expected) ? { expected } : {}),
  };
}

/**
 * The service's default detector, the best of the registry on the NAB standard profile. Per point:
 *
 * 1. Two baselines: the median of the last 6 hours, and the median of the same time 1, 2 and 3
 *    weeks ago.
 * 2. Against each, the residual in robust sigmas (median |residual| of 3 days), and a sustained
 *    deviation per smoothing weight: an EWMA of that residual standardised by its own median and
 *    MAD over 7 days.
 * 3. Each deviation is compared with the largest of the previous 14 days:
 *    d / (d + max(record, floor)), with floors 8 (point) and 5 (sustained) at the reference
 *    threshold 2.5, scaled by the metric's threshold.
 * 4. A range check: a value more than 10 % of last week's range outside it (tolerance also
 *    scaled by the metric's threshold), once a day of history exists.
 * 5. A stuck-run check: a run of identical values 5 % longer than any run of the last 14 days
 *    and at least 60 points (an outage to zero, an exporter repeating itself).
 * 6. The score is the largest of these. Once a score reaches 0.5 (a deviation as large as the
 *    record), 12 hours of rest follow in which only a clearly worse score (+0.02) alerts again;
 *    the repeats are halved and capped at 0.49, with a reason.
 *
 * Operating threshold (1 + margin) / (2 + margin) = 1.05 / 2.05 ≈ 0.512 ("at least 5 % larger
 * than anything in the last two weeks"), critical from 0.6 (1.5 × as large). The settings were
 * chosen leaving one NAB category out (bench/anomaly.ts). Before either baseline exists (the
 * 6 h median needs 12 points in its window, the weekly one a week of history) there is no verdict.
 * Deterministic and causal. Per point O(log w) plus a typed-array shift over the sorted windows
 * (up to 7 days of points: 10,080 at a 1-minute step). State per series: 3 weeks of points for
 * the seasonal look-ups, plus the windows.
 */
export function createAdaptiveDetector(settings: DetectorSettings = detectorSettings(), parameters: AdaptiveParameters = adaptiveDefaults): AnomalyDetector {
  if (!(parameters.alertMargin >= 0)) throw new RangeError(`adaptive detector: alertMargin must be >= 0, got ${parameters.alertMargin}`);
  const badWeight = parameters.smoothingWeights.find((w) => !(w > 0 && w <= 1));
  if (badWeight !== undefined) throw new RangeError(`adaptive detector: smoothingWeights must be in (0, 1], got ${badWeight}`);
  return {
    name: adaptiveDetectorName,
    operatingThreshold: operatingThresholdOf(parameters),
    settings,
    createStream: () => new AdaptiveStream(parameters, settings),
    scoreSeries(values, timestampsMs) {
      return scoreSeriesWithStream(new AdaptiveStream(parameters, settings), values, timestampsMs);
    },
  };
}
