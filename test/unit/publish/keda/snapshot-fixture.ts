import type { QueueState, SeriesForecast, Snapshot } from '../../../../src/engine/index.js';

/** The forecast of one queue at one horizon, as the engine publishes it. */
export interface ForecastSpec {
  readonly horizonSeconds: number;
  readonly p10: number;
  readonly value: number;
  readonly p90: number;
  readonly model?: string;
  readonly fallbackReason?: string;
}

/** A queue for a fixture snapshot: its observed depth (absent: the source had none) and its forecasts. */
export interface QueueSpec {
  readonly queue: string;
  readonly depth?: number;
  readonly forecasts: readonly ForecastSpec[];
}

/** A snapshot completed at `completedAtMs` whose forecasts originate one minute earlier. */
export function fixtureSnapshot(cycle: number, completedAtMs: number, queues: readonly QueueSpec[]): Snapshot {
  const originMs = completedAtMs - 60_000;
  const states: QueueState[] = queues.map((q) => ({
    queue: q.queue,
    threshold: 1000,
    resource: 'worker_processes',
    current: q.depth === undefined ? {} : { depth: q.depth },
    depthForecasts: q.forecasts.map(
      (f): SeriesForecast => ({
        seriesKey: `queue/${q.queue}/depth`,
        input: { kind: 'queue', queue: q.queue, metric: 'depth' },
        horizonSeconds: f.horizonSeconds,
        originMs,
        model: f.model ?? 'holt_winters',
        ...(f.fallbackReason === undefined ? {} : { fallbackReason: f.fallbackReason }),
        value: f.value,
        p10: f.p10,
        p90: f.p90,
      }),
    ),
  }));
  return {
    cycle,
    startedAtMs: completedAtMs - 500,
    completedAtMs,
    durationSeconds: 0.5,
    inputs: [],
    queues: states,
    forecasts: states.flatMap((s) => s.depthForecasts),
    accuracy: [],
    maturedAccuracy: [],
    anomalies: [],
    decisions: [],
    problems: [],
  };
}
