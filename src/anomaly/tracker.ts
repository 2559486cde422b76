import type { RegularSeries } from '../core/index.js';
import { detectorSettings } from './detector.js';
import type { AnomalyDetector, AnomalyPoint, AnomalySeverity, AnomalyStream, MonitoredMetric } from './detector.js';
import { createDetector } from './registry.js';
import type { DetectorName } from './registry.js';

/**
 * The verdict on one monitored metric in a cycle (the engine publishes it as `AnomalyState`).
 * `metric` is one of the design's monitored metrics (`cpu`, `memory`, `queue_depth`,
 * `response_time`, `error_rate`); queue depth verdicts also name their queue.
 */
export interface AnomalyVerdict {
  readonly metric: string;
  readonly queue?: string;
  /** The namespace and workload of a workload's input (its queue or its own CPU, latency…); absent for cluster-wide inputs. */
  readonly namespace?: string;
  readonly workload?: string;
  /** The input the verdict is about ("queue/orders/depth"). */
  readonly seriesKey: string;
  /** The detector that produced it (the service's default unless configured). */
  readonly detector: string;
  /** Anomaly score in [0, 1]; `isAnomaly` is the detector's operating threshold applied to it. */
  readonly score: number;
  readonly isAnomaly: boolean;
  readonly severity: AnomalySeverity;
  /** min(0.99, z / threshold) for the z-score detector; the detector's own confidence otherwise. */
  readonly confidence: number;
  readonly value: number;
  /** What the detector expected (baseline mean, seasonal median, forecast), when it has one. */
  readonly expected?: number;
  /** Why there is no verdict yet (e.g. "baseline not full"), when score is 0 for that reason. */
  readonly reason?: string;
}

/** What a verdict is about. */
export interface VerdictSubject {
  readonly metric: string;
  readonly queue?: string;
  /** Set together, for a workload's input only. */
  readonly namespace?: string;
  readonly workload?: string;
  readonly seriesKey: string;
  readonly detector: string;
  /** The value that was scored. */
  readonly value: number;
}

/** Maps a detector's point verdict to the snapshot's verdict shape (a pure function). */
export function toAnomalyVerdict(subject: VerdictSubject, point: AnomalyPoint): AnomalyVerdict {
  return {
    metric: subject.metric,
    ...(subject.queue !== undefined ? { queue: subject.queue } : {}),
    ...(subject.namespace !== undefined && subject.workload !== undefined ? { namespace: subject.namespace, workload: subject.workload } : {}),
    seriesKey: subject.seriesKey,
    detector: subject.detector,
    score: point.score,
    isAnomaly: point.isAnomaly,
    severity: point.severity,
    confidence: point.confidence,
    value: subject.value,
    ...(point.expected !== undefined ? { expected: point.expected } : {}),
    ...(point.reason !== undefined ? { reason: point.reason } : {}),
  };
}

/** How the tracker makes a detector for a metric. */
export interface TrackerOptions {
  /** The detector to use (the service's default unless configured). */
  readonly detector: DetectorName;
  /** Per-metric thresholds in standard deviations (the design's defaults when absent). */
  readonly thresholdSigmas?: Partial<Readonly<Record<MonitoredMetric, number>>>;
  /** Baseline window of the z-score detectors, seconds. */
  readonly baselineSeconds?: number;
}

/** The latest verdict of one series, and what it was made from. */
export interface TrackedVerdict {
  readonly point: AnomalyPoint;
  readonly timestampMs: number;
  readonly value: number;
}

interface Tracked {
  readonly stream: AnomalyStream;
  latest: TrackedVerdict | undefined;
}

/**
 * Keeps one detector stream per series for the engine, so that each cycle scores only the points
 * it has not seen: O(new points) per series and cycle. The first call for a series scores its
 * whole history window (a warm start: with 24 h or more of history the baseline is full at once).
 * Not thread-safe; one tracker belongs to one reconcile loop.
 */
/**
 * The value a verdict reports. The engine's history is held in 32 bits, so 42.1 comes back as
 * 42.099998474121094: seven significant digits, all a 32-bit float holds, show the reading as it was read.
 */
function shownValue(series: RegularSeries, value: number): number {
  return series.values instanceof Float32Array ? Number(value.toPrecision(7)) : value;
}

export class AnomalyTracker {
  readonly options: TrackerOptions;
  readonly #detectors = new Map<MonitoredMetric, AnomalyDetector>();
  readonly #series = new Map<string, Tracked>();

  constructor(options: TrackerOptions) {
    this.options = options;
  }

  /** The detector used for a metric. */
  detectorFor(metric: MonitoredMetric): AnomalyDetector {
    let detector = this.#detectors.get(metric);
    if (detector === undefined) {
      const settings = detectorSettings(metric, {
        ...(this.options.thresholdSigmas?.[metric] !== undefined ? { thresholdSigmas: this.options.thresholdSigmas[metric] } : {}),
        ...(this.options.baselineSeconds !== undefined ? { baselineSeconds: this.options.baselineSeconds } : {}),
      });
      detector = createDetector(this.options.detector, settings);
      this.#detectors.set(metric, detector);
    }
    return detector;
  }

  /**
   * Feeds the finite points of a regular series that are newer than the last point fed for
   * `seriesKey`, and returns the verdict of the newest point (undefined before any point). NaN
   * grid points (gaps) are skipped, not scored.
   *
   * `budget` bounds the points fed (it is decremented, and may be shared by every series of a
   * cycle): a series whose history is not all fed when it runs out has no verdict this time (its
   * newest point is not scored yet) and carries on from there at the next call. A start with
   * thousands of week-long histories thus catches up over a few cycles instead of delaying the first.
   */
  observeSeries(seriesKey: string, metric: MonitoredMetric, series: RegularSeries, budget?: { points: number }): TrackedVerdict | undefined {
    const tracked = this.#tracked(seriesKey, metric);
    const stepMs = series.stepSeconds * 1000;
    const last = tracked.stream.lastTimestampMs;
    // First grid index strictly after the last point fed.
    const from = last === Number.NEGATIVE_INFINITY ? 0 : Math.max(0, Math.floor((last - series.startMs) / stepMs) + 1);
    let fed: TrackedVerdict | undefined;
    for (let i = from; i < series.values.length; i++) {
      const value = series.values[i]!;
      if (!Number.isFinite(value)) continue;
      const timestampMs = series.startMs + i * stepMs;
      if (timestampMs <= tracked.stream.lastTimestampMs) continue;
      if (budget !== undefined && budget.points-- <= 0) {
        if (fed !== undefined) tracked.latest = fed;
        return undefined;
      }
      fed = { point: tracked.stream.push(timestampMs, value), timestampMs, value };
    }
    if (fed !== undefined) tracked.latest = { ...fed, value: shownValue(series, fed.value) };
    return tracked.latest;
  }

  /** Feeds one reading (ignored when it is not newer than the last one) and returns the latest verdict. */
  observePoint(seriesKey: string, metric: MonitoredMetric, timestampMs: number, value: number): TrackedVerdict | undefined {
    const tracked = this.#tracked(seriesKey, metric);
    if (Number.isFinite(value) && timestampMs > tracked.stream.lastTimestampMs) {
      tracked.latest = { point: tracked.stream.push(timestampMs, value), timestampMs, value };
    }
    return tracked.latest;
  }

  /** Forgets series not in `keep` (a queue removed by a reload). */
  retain(keep: ReadonlySet<string>): void {
    for (const key of [...this.#series.keys()]) if (!keep.has(key)) this.#series.delete(key);
  }

  /** How many series it tracks. */
  get size(): number {
    return this.#series.size;
  }

  #tracked(seriesKey: string, metric: MonitoredMetric): Tracked {
    let tracked = this.#series.get(seriesKey);
    if (tracked === undefined) {
      tracked = { stream: this.detectorFor(metric).createStream(), latest: undefined };
      this.#series.set(seriesKey, tracked);
    }
    return tracked;
  }
}
