import type { Resource } from '../../core/index.js';
import type { ContextVariableName, VariableTable } from '../context.js';
import type { DecisionInput, QueueBinding } from '../input.js';
import type { ReplicaRange } from '../policy.js';
import { type QueueTrend, trendDirection } from '../trend.js';

/** The context of one resource: a value per variable slot (NaN = missing), and what it was built from. */
export interface CollectedContext {
  readonly values: Float64Array;
  /** Observed replicas, or null. */
  readonly currentReplicas: number | null;
  /** Number of readings (not constants, not derived values) that were present. */
  readonly readingsPresent: number;
}

/** Reads a numeric input by key; NaN when absent or not finite. */
function reading(input: DecisionInput, key: string): number {
  const value = input.readings.get(key);
  return value !== undefined && Number.isFinite(value) ? value : Number.NaN;
}

/** Sum over the queues; NaN when any queue lacks the value (a partial sum would understate the load). */
function sumOver(input: DecisionInput, queues: readonly QueueBinding[], metric: string): number {
  let sum = 0;
  for (const q of queues) sum += reading(input, `queue/${q.queue}/${metric}`);
  return queues.length === 0 ? Number.NaN : sum;
}

/** Worst (largest) value over the queues; NaN when any queue lacks it. */
function maxOver(input: DecisionInput, queues: readonly QueueBinding[], metric: string): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const q of queues) {
    const value = reading(input, `queue/${q.queue}/${metric}`);
    if (Number.isNaN(value)) return Number.NaN;
    max = Math.max(max, value);
  }
  return queues.length === 0 ? Number.NaN : max;
}

/** The queues that drain into `resource`. */
export function queuesOf(input: DecisionInput, resource: Resource): readonly QueueBinding[] {
  return input.queues.filter((q) => q.resource === resource);
}

/**
 * Stage 1, collect: the observed part of a resource's context. Queue values are summed over the
 * resource's queues (wait times: the worst queue), times are converted to milliseconds, and the
 * trend of the summed depth is added. Forecast variables are left missing for the predict stage.
 */
export function collectContext(
  input: DecisionInput,
  resource: Resource,
  table: VariableTable,
  constants: ReadonlyMap<string, number>,
  range: ReplicaRange,
  trend: QueueTrend | undefined,
): CollectedContext {
  const values = table.emptyValues();
  let readingsPresent = 0;
  const set = (name: ContextVariableName, value: number, isReading = true): void => {
    const slot = table.indexOf(name);
    if (slot === undefined) return;
    values[slot] = value;
    if (isReading && Number.isFinite(value)) readingsPresent++;
  };
  const queues = queuesOf(input, resource);
  set('queue_depth', sumOver(input, queues, 'depth'));
  set('queue_threshold', queues.length === 0 ? Number.NaN : queues.reduce((sum, q) => sum + q.threshold, 0), false);
  const enqueue = sumOver(input, queues, 'enqueue_rate_per_second');
  const dequeue = sumOver(input, queues, 'dequeue_rate_per_second');
  set('enqueue_rate_per_second', enqueue);
  set('dequeue_rate_per_second', dequeue);
  set('queue_wait_time_avg_ms', maxOver(input, queues, 'wait_avg_seconds') * 1000);
  set('queue_wait_time_max_ms', maxOver(input, queues, 'wait_max_seconds') * 1000);
  set('queue_consumers', sumOver(input, queues, 'consumers'));
  set('queue_failed_messages', sumOver(input, queues, 'failed_messages'));
  const trendKnown = trend !== undefined && trend.trend !== 'insufficient_data';
  const growth = Number.isFinite(enqueue - dequeue) ? enqueue - dequeue : trendKnown ? trend.slopePerSecond : Number.NaN;
  set('queue_growth_rate', growth, false);
  if (trendKnown) {
    set('queue_trend_slope', trend.slopePerSecond, false);
    set('queue_trend_r2', trend.r2, false);
    set('queue_trend_volatility', trend.volatility, false);
    set('queue_trend_confidence', trend.confidence, false);
    set('queue_trend_direction', trendDirection(trend.trend), false);
  }
  set('cpu_percent', reading(input, 'system/cpu_percent'));
  set('memory_percent', reading(input, 'system/memory_percent'));
  set('disk_io_bytes_per_second', reading(input, 'system/disk_io_bytes_per_second'));
  set('network_io_bytes_per_second', reading(input, 'system/network_io_bytes_per_second'));
  set('load1', reading(input, 'system/load1'));
  set('load5', reading(input, 'system/load5'));
  set('load15', reading(input, 'system/load15'));
  set('response_time_p95_ms', reading(input, 'performance/response_time_p95_seconds') * 1000);
  set('error_rate_percent', reading(input, 'performance/error_rate_percent'));
  set('db_connection_utilization_percent', reading(input, 'performance/db_connection_utilization_percent'));
  const current = reading(input, `replicas/${resource}`);
  set('current_replicas', current);
  set('min_replicas', range.min, false);
  set('max_replicas', range.max, false);
  // Present only when the engine passed a trusted optimizer recommendation; not counted as a
  // reading, so that its presence changes nothing but the expressions that read it.
  set('learned_replicas', reading(input, `optimizer/${resource}`), false);
  let scoreMax = Number.NaN;
  let critical = 0;
  for (const anomaly of input.anomalies) {
    if (Number.isFinite(anomaly.score)) scoreMax = Number.isNaN(scoreMax) ? anomaly.score : Math.max(scoreMax, anomaly.score);
    if (anomaly.isAnomaly && anomaly.severity === 'critical') critical++;
  }
  set('anomaly_score_max', scoreMax, false);
  // With no verdicts at all, "no critical anomaly" is still a fact worth reading in a rule.
  set('critical_anomalies', critical, false);
  for (const [name, value] of constants) {
    const slot = table.indexOf(name);
    if (slot !== undefined) values[slot] = value;
  }
  return { values, currentReplicas: Number.isFinite(current) ? current : null, readingsPresent };
}
