import { linearRegression, mean, rSquared, standardDeviation, variance } from 'simple-statistics';
import type { Sample } from '../core/index.js';

/** How many of the latest measurements the queue trend is fitted on. */
export const trendWindowMeasurements = 30;

/** Fewest measurements that give a trend class; fewer give `insufficient_data`. */
export const trendMinimumMeasurements = 5;

/** The trend classes of a queue, from the relative change the fitted line makes over the window. */
export const trendClasses = ['increasing_rapidly', 'increasing', 'stable', 'decreasing', 'decreasing_rapidly', 'volatile', 'insufficient_data'] as const;

/** One of {@link trendClasses}. */
export type TrendClass = (typeof trendClasses)[number];

/** The trend of a queue's depth over its latest measurements. */
export interface QueueTrend {
  readonly trend: TrendClass;
  /** Slope of the least-squares line, messages per second. */
  readonly slopePerSecond: number;
  /** Coefficient of determination of the line, 0–1 (0 when the depths do not vary). */
  readonly r2: number;
  /** Standard deviation of the depths over their mean (0 when the mean is 0). */
  readonly volatility: number;
  /** Confidence in `trend`, 0–1: r² for a moving queue, 1 − volatility for a stable one, scaled down while the window fills. */
  readonly confidence: number;
  /** The change the line makes across the window, relative to the mean depth (at least 1 message). */
  readonly relativeChange: number;
  /** Measurements used. */
  readonly measurements: number;
  /** Time of the latest measurement used. */
  readonly lastTimestampMs: number | undefined;
}

/** Thresholds of the classes: relative change over the window, and what counts as noise. */
export const trendThresholds = {
  /** |relative change| at or above this is "rapid". */
  rapid: 0.5,
  /** |relative change| at or above this is a trend at all; below it the queue is stable. */
  trend: 0.1,
  /** A line explaining less than this share of the variance... */
  volatileR2: 0.3,
  /** ...on depths varying more than this (std / mean) is "volatile": there is movement, but no direction. */
  volatileSpread: 0.5,
} as const;

/** The numeric code of a class for rules (`queue_trend_direction`). */
export function trendDirection(trend: TrendClass): number {
  switch (trend) {
    case 'increasing_rapidly':
      return 2;
    case 'increasing':
      return 1;
    case 'decreasing':
      return -1;
    case 'decreasing_rapidly':
      return -2;
    default:
      return 0;
  }
}

/**
 * Linear regression of depth on time over the latest {@link trendWindowMeasurements} finite
 * measurements: slope, r², volatility, a trend class and a confidence. Pure; samples need not be
 * evenly spaced (time is the regressor, so a missed cycle does not bend the slope).
 */
export function analyzeQueueTrend(samples: readonly Sample[], windowMeasurements: number = trendWindowMeasurements): QueueTrend {
  const finite = samples.filter((s) => Number.isFinite(s.value) && Number.isFinite(s.timestampMs));
  const used = finite.slice(Math.max(0, finite.length - windowMeasurements));
  const n = used.length;
  const lastTimestampMs = used[n - 1]?.timestampMs;
  const empty = (trend: TrendClass, extra: Partial<QueueTrend> = {}): QueueTrend => ({
    trend,
    slopePerSecond: 0,
    r2: 0,
    volatility: 0,
    confidence: 0,
    relativeChange: 0,
    measurements: n,
    lastTimestampMs,
    ...extra,
  });
  if (n < trendMinimumMeasurements) return empty('insufficient_data');
  // Time in seconds from the first sample, so large epoch milliseconds do not cost precision.
  const t0 = used[0]!.timestampMs;
  const points = used.map((s) => [(s.timestampMs - t0) / 1000, s.value]);
  const depths = used.map((s) => s.value);
  const meanY = mean(depths);
  const volatility = meanY > 0 ? standardDeviation(depths) / meanY : 0;
  // One time for every sample: no line through them.
  if (used.every((s) => s.timestampMs === t0)) return empty('insufficient_data', { volatility });
  const { m: slopePerSecond, b: intercept } = linearRegression(points);
  // A constant depth is perfectly "explained" by a flat line, but that says nothing about a trend.
  const r2 =
    variance(depths) === 0
      ? 0
      : Math.min(
          1,
          Math.max(
            0,
            rSquared(points, (t) => intercept + slopePerSecond * t),
          ),
        );
  const spanSeconds = (used[n - 1]!.timestampMs - t0) / 1000;
  const relativeChange = (slopePerSecond * spanSeconds) / Math.max(meanY, 1);
  const fill = Math.min(1, n / windowMeasurements);
  const magnitude = Math.abs(relativeChange);
  let trend: TrendClass;
  if (r2 < trendThresholds.volatileR2 && volatility > trendThresholds.volatileSpread) trend = 'volatile';
  else if (magnitude < trendThresholds.trend) trend = 'stable';
  else if (relativeChange > 0) trend = magnitude >= trendThresholds.rapid ? 'increasing_rapidly' : 'increasing';
  else trend = magnitude >= trendThresholds.rapid ? 'decreasing_rapidly' : 'decreasing';
  const base = trend === 'stable' ? Math.max(0, 1 - volatility) : trend === 'volatile' ? 1 - r2 : r2;
  return { trend, slopePerSecond, r2, volatility, confidence: base * fill, relativeChange, measurements: n, lastTimestampMs };
}
