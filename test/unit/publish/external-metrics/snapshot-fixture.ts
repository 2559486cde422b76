/**
 * Hand-built snapshots for external-metrics tests: exact values, so that expected quantities can be
 * written down, and no engine or clock in the way.
 */
import type { AnomalyState, QueueState, ResourceDecision, SeriesForecast, Snapshot } from '../../../../src/engine/index.js';

/** One queue of a fixture: observed depth and, per horizon in seconds, [p10, p50, p90]. */
export interface FixtureQueue {
  readonly queue: string;
  readonly depth?: number;
  readonly forecasts?: Readonly<Record<number, readonly [number, number, number]>>;
}

/** What a fixture snapshot holds. */
export interface FixtureOptions {
  readonly completedAtMs: number;
  readonly queues: readonly FixtureQueue[];
  readonly decisions?: readonly ResourceDecision[];
  readonly anomalies?: readonly AnomalyState[];
  readonly cycle?: number;
}

/** A snapshot with the given queues, forecasts, decisions and anomalies (step 60 s). */
export function makeSnapshot(options: FixtureOptions): Snapshot {
  const originMs = Math.floor(options.completedAtMs / 60_000) * 60_000;
  const queues: QueueState[] = options.queues.map((q) => {
    const depthForecasts: SeriesForecast[] = Object.entries(q.forecasts ?? {}).map(([horizon, [p10, value, p90]]) => ({
      seriesKey: `queue/${q.queue}/depth`,
      input: { kind: 'queue', queue: q.queue, metric: 'depth' },
      horizonSeconds: Number(horizon),
      originMs,
      model: 'holt_winters',
      value,
      p10,
      p90,
    }));
    return { queue: q.queue, threshold: 1000, resource: 'worker_processes', current: q.depth === undefined ? {} : { depth: q.depth }, depthForecasts };
  });
  return {
    cycle: options.cycle ?? 1,
    startedAtMs: options.completedAtMs - 200,
    completedAtMs: options.completedAtMs,
    durationSeconds: 0.2,
    inputs: [],
    queues,
    forecasts: queues.flatMap((q) => q.depthForecasts),
    accuracy: [],
    maturedAccuracy: [],
    anomalies: options.anomalies ?? [],
    decisions: options.decisions ?? [],
    problems: [],
  };
}

/** A decision with defaults for the fields tests do not care about. */
export function decision(resource: ResourceDecision['resource'], recommendedReplicas: number): ResourceDecision {
  return { resource, currentReplicas: null, recommendedReplicas, direction: 'hold', reasons: [], confidence: 1 };
}

/** An anomaly verdict with defaults for the fields tests do not care about. */
export function anomaly(metric: string, score: number, queue?: string): AnomalyState {
  return {
    metric,
    ...(queue === undefined ? {} : { queue }),
    seriesKey: queue === undefined ? `system/${metric}` : `queue/${queue}/depth`,
    detector: 'zscore',
    score,
    isAnomaly: score > 0.5,
    severity: score > 0.5 ? 'warning' : 'none',
    confidence: score,
    value: 0,
  };
}

/** A store-like holder of one snapshot. */
export function storeOf(snapshot: Snapshot | undefined): { latest(): Snapshot | undefined; set(next: Snapshot | undefined): void } {
  let current = snapshot;
  return {
    latest: () => current,
    set: (next) => {
      current = next;
    },
  };
}
