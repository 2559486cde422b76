import { err, formatDuration, ok, parseDurationSeconds, type Result, servableValue } from '../../core/index.js';
import type { QueueState, SeriesForecast, Snapshot } from '../../engine/index.js';

/** The forecast quantiles Foresight publishes, as the `quantile` label writes them. */
export const forecastQuantiles = ['0.1', '0.5', '0.9'] as const;

/** One of {@link forecastQuantiles}. */
export type ForecastQuantile = (typeof forecastQuantiles)[number];

/** Which forecast field holds each quantile. */
const quantileField: Readonly<Record<ForecastQuantile, 'p10' | 'value' | 'p90'>> = { '0.1': 'p10', '0.5': 'value', '0.9': 'p90' };

/** One published forecast of a queue's depth: the series `predicted_queue_depth{queue,horizon,quantile}`. */
export interface ForecastSelection {
  readonly queue: string;
  readonly horizonSeconds: number;
  readonly quantile: ForecastQuantile;
}

/**
 * Why a KEDA request could not be answered. The kinds map onto HTTP codes (400, 404, 503) and gRPC
 * codes (INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE); the message names the offending parameter.
 */
export interface KedaProblem {
  readonly kind: 'invalid_argument' | 'not_found' | 'unavailable';
  readonly message: string;
}

/** Raw selection parameters as they arrive (query string or trigger metadata); absent means default. */
export interface RawSelection {
  readonly queue?: string | undefined;
  readonly horizon?: string | undefined;
  readonly quantile?: string | undefined;
}

/** Defaults applied to absent parameters, the same ones the external-metrics API applies. */
export interface SelectionDefaults {
  /** The first configured forecast horizon. */
  readonly horizonSeconds: number;
  /** "0.5": the point forecast, as DESIGN.md sets for `predicted_queue_depth`. */
  readonly quantile: ForecastQuantile;
}

// The queue name grammar of the configuration (a Kubernetes label value); anything else cannot name a queue.
const queueNamePattern = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** A value quoted for an error message, cut short so that a hostile parameter cannot flood logs. */
export function quoteForMessage(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/**
 * Parses a quantile written as the `quantile` label does ("0.9"), or as another decimal spelling of
 * the same number ("0.90", ".9"). Returns undefined for anything else.
 */
export function parseQuantile(raw: string): ForecastQuantile | undefined {
  if (!/^(0?\.\d{1,6}|0|1)$/.test(raw.trim())) return undefined;
  const value = Number(raw);
  return forecastQuantiles.find((q) => Number(q) === value);
}

/**
 * Validates selection parameters and applies defaults. `names` gives the parameter names to use in
 * messages (`queue` for a query string, `metadata.queue` for a trigger), so the user sees where the
 * bad value came from.
 */
export function parseSelection(
  raw: RawSelection,
  defaults: SelectionDefaults,
  names: { readonly queue: string; readonly horizon: string; readonly quantile: string } = { queue: 'queue', horizon: 'horizon', quantile: 'quantile' },
): Result<ForecastSelection, KedaProblem> {
  if (raw.queue === undefined || raw.queue === '') {
    return err({ kind: 'invalid_argument', message: `${names.queue} is required: the name of a configured queue` });
  }
  if (!queueNamePattern.test(raw.queue)) {
    return err({
      kind: 'invalid_argument',
      message: `${names.queue} must be a queue name (letters, digits, "-", "_", ".", at most 63 characters), got ${quoteForMessage(raw.queue)}`,
    });
  }
  let horizonSeconds = defaults.horizonSeconds;
  if (raw.horizon !== undefined) {
    const parsed = parseDurationSeconds(raw.horizon);
    if (parsed === undefined || parsed <= 0) {
      return err({ kind: 'invalid_argument', message: `${names.horizon} must be a duration such as "15m" or "1h", got ${quoteForMessage(raw.horizon)}` });
    }
    horizonSeconds = parsed;
  }
  let quantile = defaults.quantile;
  if (raw.quantile !== undefined) {
    const parsed = parseQuantile(raw.quantile);
    if (parsed === undefined) {
      return err({ kind: 'invalid_argument', message: `${names.quantile} must be one of ${forecastQuantiles.join(', ')}, got ${quoteForMessage(raw.quantile)}` });
    }
    quantile = parsed;
  }
  return ok({ queue: raw.queue, horizonSeconds, quantile });
}

/** The freshness rule every KEDA answer obeys. */
export interface Freshness {
  readonly nowMs: number;
  /** snapshot.maxAge: older snapshots are not served (KEDA then keeps its current scale or falls back). */
  readonly maxAgeSeconds: number;
}

/** A forecast read from the snapshot, ready to serve. */
export interface ForecastReading {
  readonly selection: ForecastSelection;
  /** The forecast at the selected quantile, finite and never below zero (a queue cannot be negative). */
  readonly value: number;
  readonly model: string;
  readonly fallbackReason?: string;
  /** The time the forecast is for: its origin plus the horizon. */
  readonly forecastForMs: number;
  /** The observed depth in the same cycle, when the source had one. */
  readonly currentDepth: number | undefined;
  readonly snapshotCompletedAtMs: number;
  readonly snapshotAgeSeconds: number;
}

/** The snapshot if it is fresh enough to serve, or why not. */
export function freshSnapshot(snapshot: Snapshot | undefined, freshness: Freshness): Result<Snapshot, KedaProblem> {
  if (snapshot === undefined) return err({ kind: 'unavailable', message: 'no forecast yet: the first reconcile cycle has not completed' });
  const ageSeconds = Math.max(0, (freshness.nowMs - snapshot.completedAtMs) / 1000);
  if (ageSeconds > freshness.maxAgeSeconds) {
    return err({
      kind: 'unavailable',
      message: `the latest forecast is ${Math.round(ageSeconds)}s old, older than snapshot.maxAge (${formatDuration(freshness.maxAgeSeconds)}); the last reconcile cycles failed`,
    });
  }
  return ok(snapshot);
}

/** A short list of names for an error message (snapshots may hold a thousand queues). */
function listForMessage(names: readonly string[]): string {
  const shown = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

/** What KEDA is answered from: a queue of this replica's cycle, or another shard's read back (docs/sharding.md). */
export interface ServedQueue {
  readonly queue: string;
  readonly current: QueueState['current'];
  readonly depthForecasts: readonly Pick<SeriesForecast, 'input' | 'horizonSeconds' | 'value' | 'p10' | 'p90' | 'model' | 'originMs' | 'fallbackReason'>[];
}

/** Another shard's queue as read back: its model is not published, so it shows as "read_back", made at its sample time. */
function readBackQueue(q: NonNullable<Snapshot['shard']>['queues'][number]): ServedQueue {
  const input = { kind: 'queue', queue: q.queue, metric: 'depth', namespace: q.namespace, workload: q.workload } as const;
  return {
    queue: q.queue,
    current: q.depth === undefined ? {} : { depth: q.depth.value },
    depthForecasts: q.depthForecasts.map((f) => ({ input, horizonSeconds: f.horizonSeconds, value: f.value, p10: f.p10, p90: f.p90, model: 'read_back', originMs: f.sampleMs })),
  };
}

/** The queue's state in a snapshot (its own, or read back from another shard), or a not-found problem naming the queues there are. */
export function findQueue(snapshot: Snapshot, queue: string, parameter = 'queue'): Result<ServedQueue, KedaProblem> {
  const state = snapshot.queues.find((q) => q.queue === queue);
  if (state !== undefined) return ok(state);
  const remote = snapshot.shard?.queues.find((q) => q.queue === queue);
  if (remote !== undefined) return ok(readBackQueue(remote));
  return err({
    kind: 'not_found',
    message: `${parameter} ${quoteForMessage(queue)} is not a configured queue; configured queues: ${listForMessage([...snapshot.queues, ...(snapshot.shard?.queues ?? [])].map((q) => q.queue))}`,
  });
}

/**
 * Reads one published forecast from a fresh snapshot. Pure: the same snapshot, selection and time
 * give the same answer on every replica. NaN or infinite forecasts are never served (unavailable);
 * a forecast below zero is served as 0, as KEDA itself does with negative values.
 */
export function readForecast(
  snapshot: Snapshot | undefined,
  selection: ForecastSelection,
  freshness: Freshness,
  parameters: { readonly queue: string; readonly horizon: string } = { queue: 'queue', horizon: 'horizon' },
): Result<ForecastReading, KedaProblem> {
  const fresh = freshSnapshot(snapshot, freshness);
  if (!fresh.ok) return fresh;
  const queue = findQueue(fresh.value, selection.queue, parameters.queue);
  if (!queue.ok) return queue;
  const forecast = queue.value.depthForecasts.find((f) => f.horizonSeconds === selection.horizonSeconds);
  if (forecast === undefined) {
    const horizons = queue.value.depthForecasts.map((f) => formatDuration(f.horizonSeconds));
    return err({
      kind: 'not_found',
      message:
        horizons.length === 0
          ? `queue ${quoteForMessage(selection.queue)} has no forecast in the latest cycle (not enough history yet, or its depth query failed)`
          : `${parameters.horizon} ${formatDuration(selection.horizonSeconds)} is not a forecast horizon of queue ${quoteForMessage(selection.queue)}; horizons: ${horizons.join(', ')} (forecast.horizons)`,
    });
  }
  const raw = servableValue(forecast.input, forecast[quantileField[selection.quantile]]);
  if (raw === undefined) {
    return err({
      kind: 'unavailable',
      message: `the ${formatDuration(selection.horizonSeconds)} forecast of queue ${quoteForMessage(selection.queue)} at quantile ${selection.quantile} is not a servable number in the latest cycle`,
    });
  }
  const depth = queue.value.current['depth'];
  return ok({
    selection,
    value: raw,
    model: forecast.model,
    ...(forecast.fallbackReason === undefined ? {} : { fallbackReason: forecast.fallbackReason }),
    forecastForMs: forecast.originMs + forecast.horizonSeconds * 1000,
    currentDepth: depth !== undefined && Number.isFinite(depth) ? depth : undefined,
    snapshotCompletedAtMs: fresh.value.completedAtMs,
    snapshotAgeSeconds: Math.max(0, (freshness.nowMs - fresh.value.completedAtMs) / 1000),
  });
}
