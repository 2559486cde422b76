import type { Resource } from '../core/index.js';

/**
 * One forecast the engine made this cycle: the value of input `seriesKey` (an input key such as
 * "queue/orders/depth") `horizonSeconds` after the latest data.
 */
export interface ForecastInput {
  readonly seriesKey: string;
  readonly horizonSeconds: number;
  readonly value: number;
  readonly p10: number;
  readonly p90: number;
  /**
   * 0–1; the engine passes 1 − WAPE of the serving model's backtest. When absent, the band gives
   * one: 1 − (p90 − p10) / (p90 + p10).
   */
  readonly confidence?: number;
}

/** One anomaly verdict of this cycle. */
export interface AnomalyInput {
  readonly seriesKey: string;
  readonly score: number;
  readonly isAnomaly: boolean;
  readonly severity: 'none' | 'warning' | 'critical';
}

/** A queue and the resource that drains it. */
export interface QueueBinding {
  readonly queue: string;
  readonly resource: Resource;
  /** The queue's overload threshold (queue_threshold in rules). */
  readonly threshold: number;
}

/** What one cycle observed: decide()'s input. */
export interface DecisionInput {
  /** Latest value of each input, by input key ("queue/orders/depth", "system/cpu_percent", "replicas/ml_workers"). */
  readonly readings: ReadonlyMap<string, number>;
  readonly forecasts: readonly ForecastInput[];
  readonly anomalies: readonly AnomalyInput[];
  readonly queues: readonly QueueBinding[];
}
