import { err, formatDuration, ok, type Result } from '../../core/index.js';
import type { Snapshot } from '../../engine/index.js';
import { type Freshness, type KedaProblem, quoteForMessage, readForecast } from './forecast-selection.js';
import type { ScalerRequest } from './scaler-metadata.js';

// The answers of KEDA's external scaler, computed from a snapshot: the gRPC server only parses
// messages and sends these. Every function is pure, so replicas reading the same snapshot agree.

/** What KEDA receives from GetMetricSpec (the `MetricSpec` message). */
export interface MetricSpecMessage {
  readonly metricName: string;
  /** KEDA's deprecated integer field, filled for older KEDA releases (at least 1). */
  readonly targetSize: number;
  readonly targetSizeFloat: number;
}

/** What KEDA receives from GetMetrics (the `MetricValue` message). */
export interface MetricValueMessage {
  readonly metricName: string;
  /** The integer field; KEDA reads it when the float is 0 (it uses the float only when above 0). */
  readonly metricValue: number;
  readonly metricValueFloat: number;
}

/** The activity verdict with the numbers behind it (logged, and useful in tests). */
export interface Activity {
  readonly active: boolean;
  /** The forecast at the activation quantile. */
  readonly forecast: number;
  readonly currentDepth: number | undefined;
  readonly snapshotCycle: number;
}

/** The settings the spec is checked against: what is configured, not what the last cycle produced. */
export interface ConfiguredForecasts {
  readonly queues: readonly string[];
  readonly horizonsSeconds: readonly number[];
}

/** An int64 field from a non-negative number (rounded; capped where a double stops being exact). */
export function toInt64(value: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.round(value)));
}

/**
 * Whether the workload should run: the forecast at the activation quantile, or the depth observed
 * now, is above the activation threshold. The observed depth is included because a forecast that
 * expects the workers to drain the queue must not scale them to zero while messages still wait.
 */
export function evaluateActivity(request: ScalerRequest, snapshot: Snapshot | undefined, freshness: Freshness): Result<Activity, KedaProblem> {
  const reading = readForecast(snapshot, { ...request.selection, quantile: request.activationQuantile }, freshness, {
    queue: 'metadata.queue',
    horizon: 'metadata.horizon',
  });
  if (!reading.ok) return reading;
  const { value, currentDepth } = reading.value;
  const active = value > request.activationThreshold || (currentDepth !== undefined && currentDepth > request.activationThreshold);
  // readForecast succeeded, so the snapshot is defined.
  return ok({ active, forecast: value, currentDepth, snapshotCycle: snapshot?.cycle ?? 0 });
}

/**
 * The metric spec for the HPA KEDA generates. It depends only on the trigger and the configuration,
 * so it answers before the first cycle; an unknown queue or horizon is refused here already, at
 * the time KEDA builds the HPA, where the error is most visible.
 */
export function buildMetricSpec(request: ScalerRequest, configured: ConfiguredForecasts): Result<MetricSpecMessage, KedaProblem> {
  if (request.targetValue === undefined) {
    return err({ kind: 'invalid_argument', message: 'metadata.targetValue is required: the forecast queue depth one replica should handle' });
  }
  const { queue, horizonSeconds } = request.selection;
  if (!configured.queues.includes(queue)) {
    return err({ kind: 'not_found', message: `metadata.queue ${quoteForMessage(queue)} is not a configured queue (queues in the Foresight configuration)` });
  }
  if (!configured.horizonsSeconds.includes(horizonSeconds)) {
    return err({
      kind: 'not_found',
      message: `metadata.horizon ${formatDuration(horizonSeconds)} is not a configured forecast horizon; horizons: ${configured.horizonsSeconds.map(formatDuration).join(', ')} (forecast.horizons)`,
    });
  }
  return ok({ metricName: request.metricName, targetSize: Math.max(1, toInt64(request.targetValue)), targetSizeFloat: request.targetValue });
}

/**
 * The current metric value. `requestedName` is the name KEDA asks for (its "s<index>-" prefix
 * already stripped); it is echoed back, so that a trigger whose name KEDA rewrote still gets its
 * value.
 */
export function buildMetricValue(request: ScalerRequest, requestedName: string, snapshot: Snapshot | undefined, freshness: Freshness): Result<MetricValueMessage, KedaProblem> {
  const reading = readForecast(snapshot, request.selection, freshness, { queue: 'metadata.queue', horizon: 'metadata.horizon' });
  if (!reading.ok) return reading;
  const value = reading.value.value;
  return ok({ metricName: requestedName === '' ? request.metricName : requestedName, metricValue: toInt64(value), metricValueFloat: value });
}
