import { ForesightError } from '../core/index.js';
import type { InputRef } from '../core/index.js';

/** The metrics the design monitors for anomalies. */
export const monitoredMetrics = ['cpu', 'memory', 'queue_depth', 'response_time', 'error_rate'] as const;

/** One of {@link monitoredMetrics}. */
export type MonitoredMetric = (typeof monitoredMetrics)[number];

/**
 * The design's per-metric thresholds, in standard deviations: how far from its baseline a metric
 * must be before it counts as anomalous. Error rates are spiky by nature, memory is smooth.
 */
export const defaultThresholdSigmas: Readonly<Record<MonitoredMetric, number>> = Object.freeze({
  cpu: 2.5,
  memory: 2.0,
  queue_depth: 3.0,
  response_time: 2.5,
  error_rate: 4.0,
});

/**
 * The threshold the detectors' own defaults correspond to (the design's cpu and response-time
 * threshold). The adaptive detector scales its minimum deviations by `thresholdSigmas / 2.5`, so
 * its NAB-benchmarked behaviour is the one at 2.5 and a memory series (2.0) is flagged earlier.
 */
export const referenceThresholdSigmas = 2.5;

/** The design's baseline window of the z-score detector: 24 hours. */
export const defaultBaselineSeconds = 86_400;

/** True when `name` is a monitored metric. */
export function isMonitoredMetric(name: string): name is MonitoredMetric {
  return (monitoredMetrics as readonly string[]).includes(name);
}

/**
 * The monitored metric an input is, if any: system CPU and memory, every queue's depth, the p95
 * response time and the error rate. Other inputs (rates, consumers, replicas) are not scored.
 */
export function monitoredMetricOf(input: InputRef): MonitoredMetric | undefined {
  switch (input.kind) {
    case 'system':
      return input.metric === 'cpu_percent' ? 'cpu' : input.metric === 'memory_percent' ? 'memory' : undefined;
    case 'queue':
      return input.metric === 'depth' ? 'queue_depth' : undefined;
    case 'performance':
      return input.metric === 'response_time_p95_seconds' ? 'response_time' : input.metric === 'error_rate_percent' ? 'error_rate' : undefined;
    case 'replicas':
      return undefined;
  }
}

/** Severity of a verdict: the design's warning, and critical at 1.5 × the threshold. */
export type AnomalySeverity = 'none' | 'warning' | 'critical';

/** A detector's verdict on one point. */
export interface AnomalyPoint {
  /**
   * Anomaly score in [0, 1], made from this point and earlier ones only. Every detector maps its
   * own threshold to its `operatingThreshold`, so `isAnomaly` is `score >= operatingThreshold`.
   */
  readonly score: number;
  readonly isAnomaly: boolean;
  readonly severity: AnomalySeverity;
  /** In [0, 0.99]: min(0.99, deviation / threshold), the design's confidence. */
  readonly confidence: number;
  /** What the detector expected at this point (baseline mean or median), when it has a baseline. */
  readonly expected?: number;
  /** Why there is no verdict (score 0), or why a high score was held back. */
  readonly reason?: string;
}

/** What a detector is configured with; per metric, from the configuration's `anomaly` section. */
export interface DetectorSettings {
  /** The metric's threshold in standard deviations ({@link defaultThresholdSigmas}). */
  readonly thresholdSigmas: number;
  /** The baseline window of the z-score detectors, in seconds (24 h by default). */
  readonly baselineSeconds: number;
}

/** The settings for a metric (or the reference settings when no metric is given). */
export function detectorSettings(metric?: MonitoredMetric, overrides: Partial<DetectorSettings> = {}): DetectorSettings {
  return {
    thresholdSigmas: overrides.thresholdSigmas ?? (metric === undefined ? referenceThresholdSigmas : defaultThresholdSigmas[metric]),
    baselineSeconds: overrides.baselineSeconds ?? defaultBaselineSeconds,
  };
}

/**
 * The detector state of one series, updated point by point. This is how the engine uses a
 * detector: one stream per series, fed only the points it has not seen, so a cycle costs
 * O(new points · log w) whatever the length of the history.
 */
export interface AnomalyStream {
  /**
   * Scores a new point and then adds it to the state. A non-finite value, or a timestamp at or
   * before the last one pushed, is not added and gets a score-0 verdict with a `reason`.
   */
  push(timestampMs: number, value: number): AnomalyPoint;
  /** Time of the last point added (−Infinity before the first). */
  readonly lastTimestampMs: number;
}

/**
 * The port every anomaly detector implements. Detectors are pure: no clock, no I/O, no
 * randomness. Scores are causal (the score of a point depends on it and earlier points only) and
 * deterministic. `scoreSeries` is exactly `createStream()` pushed with every point, in one pass.
 */
export interface AnomalyDetector {
  /** The detector's name, as in the registry and the configuration. */
  readonly name: string;
  /** The score at and above which a point is an anomaly (the service's operating threshold). */
  readonly operatingThreshold: number;
  readonly settings: DetectorSettings;
  /** A fresh state for one series. */
  createStream(): AnomalyStream;
  /**
   * Scores a whole series in time order in one pass (the CLI and benchmark path). `values[i]` was
   * observed at `timestampsMs[i]`. Throws a FORESIGHT_ERR_INPUT_INVALID error when the two arrays
   * differ in length.
   */
  scoreSeries(values: ArrayLike<number>, timestampsMs: ArrayLike<number>): AnomalyPoint[];
}

/** A verdict with no score, and why. */
export function noVerdict(reason: string, expected?: number): AnomalyPoint {
  return {
    score: 0,
    isAnomaly: false,
    severity: 'none',
    confidence: 0,
    ...(expected !== undefined && Number.isFinite(expected) ? { expected } : {}),
    reason,
  };
}

/** `scoreSeries` for any detector: one stream, every point pushed in order. */
export function scoreSeriesWithStream(stream: AnomalyStream, values: ArrayLike<number>, timestampsMs: ArrayLike<number>): AnomalyPoint[] {
  if (values.length !== timestampsMs.length) {
    throw new ForesightError('FORESIGHT_ERR_INPUT_INVALID', `scoreSeries needs one timestamp per value: got ${values.length} values and ${timestampsMs.length} timestamps`);
  }
  const out = new Array<AnomalyPoint>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = stream.push(timestampsMs[i]!, values[i]!);
  return out;
}

/**
 * The checks every stream makes before scoring a point; returns the verdict to give instead when
 * the point cannot be scored.
 */
export function rejectPoint(timestampMs: number, value: number, lastTimestampMs: number): AnomalyPoint | undefined {
  if (!Number.isFinite(timestampMs)) return noVerdict('timestamp is not a finite number');
  if (!Number.isFinite(value)) return noVerdict('value is missing or not a finite number');
  if (timestampMs <= lastTimestampMs) return noVerdict(`timestamp ${timestampMs} is not after the previous point (${lastTimestampMs})`);
  return undefined;
}
