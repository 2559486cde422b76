/**
 * The variables a scaling rule can read. Every rule, demand expression and the context builder use
 * this one catalog, so that a rule naming anything else is refused when the rules file is loaded.
 * All values are numbers; a missing input is NaN (a rule that needs it cannot be decided).
 */

/** One context variable: its name in rules, its unit, and what it holds. */
export interface ContextVariable {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

/** The catalog, in the order the documentation lists it. */
export const contextVariables = [
  // Queue: summed over the queues that drain into the resource (wait times: the worst queue).
  { name: 'queue_depth', unit: 'messages', description: 'Messages waiting in the queues of the resource.' },
  { name: 'queue_threshold', unit: 'messages', description: 'The configured overload threshold of those queues (summed).' },
  { name: 'enqueue_rate_per_second', unit: 'messages/s', description: 'Messages arriving per second.' },
  { name: 'dequeue_rate_per_second', unit: 'messages/s', description: 'Messages consumed per second.' },
  {
    name: 'queue_growth_rate',
    unit: 'messages/s',
    description: 'Enqueue minus dequeue rate; the queue trend slope when the rates are not read.',
  },
  { name: 'queue_wait_time_avg_ms', unit: 'ms', description: 'Average wait of consumed messages.' },
  { name: 'queue_wait_time_max_ms', unit: 'ms', description: 'Age of the oldest waiting message.' },
  { name: 'queue_consumers', unit: 'consumers', description: 'Consumers attached to the queues.' },
  { name: 'queue_failed_messages', unit: 'messages', description: 'Messages that failed in the last 5 minutes.' },
  { name: 'queue_trend_slope', unit: 'messages/s', description: 'Slope of the linear fit over the last 30 queue depth measurements.' },
  { name: 'queue_trend_r2', unit: 'ratio', description: 'r² of that fit (0–1).' },
  { name: 'queue_trend_volatility', unit: 'ratio', description: 'Standard deviation of the depths over their mean.' },
  { name: 'queue_trend_confidence', unit: 'ratio', description: 'Confidence in the trend class (0–1).' },
  {
    name: 'queue_trend_direction',
    unit: 'class',
    description: 'The trend class as a number: 2 increasing_rapidly, 1 increasing, 0 stable/volatile, -1 decreasing, -2 decreasing_rapidly.',
  },
  // System and service.
  { name: 'cpu_percent', unit: '%', description: 'Node CPU utilisation.' },
  { name: 'memory_percent', unit: '%', description: 'Node memory utilisation.' },
  { name: 'disk_io_bytes_per_second', unit: 'bytes/s', description: 'Disk read plus write throughput.' },
  { name: 'network_io_bytes_per_second', unit: 'bytes/s', description: 'Network receive plus transmit throughput.' },
  { name: 'load1', unit: 'load', description: 'Load average over 1 minute.' },
  { name: 'load5', unit: 'load', description: 'Load average over 5 minutes.' },
  { name: 'load15', unit: 'load', description: 'Load average over 15 minutes.' },
  { name: 'response_time_p95_ms', unit: 'ms', description: '95th percentile response time.' },
  { name: 'error_rate_percent', unit: '%', description: 'Share of requests answered with a 5xx.' },
  { name: 'db_connection_utilization_percent', unit: '%', description: 'Connections in use over pool size.' },
  // Forecasts at the decision horizon: the median, and the 90th percentile.
  { name: 'predicted_queue_depth', unit: 'messages', description: 'Forecast queue depth (median).' },
  { name: 'predicted_queue_depth_p90', unit: 'messages', description: 'Forecast queue depth, 90th percentile.' },
  { name: 'predicted_enqueue_rate_per_second', unit: 'messages/s', description: 'Forecast arrival rate (median).' },
  { name: 'predicted_enqueue_rate_per_second_p90', unit: 'messages/s', description: 'Forecast arrival rate, 90th percentile.' },
  { name: 'predicted_cpu_percent', unit: '%', description: 'Forecast CPU utilisation (median).' },
  { name: 'predicted_cpu_percent_p90', unit: '%', description: 'Forecast CPU utilisation, 90th percentile.' },
  { name: 'predicted_memory_percent', unit: '%', description: 'Forecast memory utilisation (median).' },
  { name: 'predicted_memory_percent_p90', unit: '%', description: 'Forecast memory utilisation, 90th percentile.' },
  { name: 'predicted_response_time_p95_ms', unit: 'ms', description: 'Forecast p95 response time (median).' },
  { name: 'predicted_response_time_p95_ms_p90', unit: 'ms', description: 'Forecast p95 response time, 90th percentile.' },
  { name: 'forecast_confidence', unit: 'ratio', description: 'Confidence of the forecasts the resource relies on (0–1).' },
  // Anomalies.
  { name: 'anomaly_score_max', unit: 'score', description: 'Highest anomaly score over the monitored metrics (0–1).' },
  { name: 'critical_anomalies', unit: 'count', description: 'Metrics with a critical anomaly now.' },
  // The resource itself.
  { name: 'current_replicas', unit: 'replicas', description: 'Observed replicas (pool size for db_connections).' },
  { name: 'min_replicas', unit: 'replicas', description: 'Fewest replicas allowed.' },
  { name: 'max_replicas', unit: 'replicas', description: 'Most replicas allowed.' },
  // The Random Forest resource optimizer (docs/ml-models.md).
  {
    name: 'learned_replicas',
    unit: 'replicas',
    description: 'Replicas the resource optimizer learned the predicted load needs; missing unless its recommendation is trusted.',
  },
] as const satisfies readonly ContextVariable[];

/** The name of a catalog variable. */
export type ContextVariableName = (typeof contextVariables)[number]['name'];

/**
 * The forecast variables and the 90th-percentile twin each one is read as when a demand
 * expression is evaluated "at the upper quantile".
 */
export const upperQuantileTwins: ReadonlyMap<ContextVariableName, ContextVariableName> = new Map<ContextVariableName, ContextVariableName>([
  ['predicted_queue_depth', 'predicted_queue_depth_p90'],
  ['predicted_enqueue_rate_per_second', 'predicted_enqueue_rate_per_second_p90'],
  ['predicted_cpu_percent', 'predicted_cpu_percent_p90'],
  ['predicted_memory_percent', 'predicted_memory_percent_p90'],
  ['predicted_response_time_p95_ms', 'predicted_response_time_p95_ms_p90'],
]);

/**
 * Names to slots: the catalog first, then the rules file's constants. Expressions are compiled
 * against a table, so that evaluation reads a Float64Array slot, never a property by name.
 */
export class VariableTable {
  readonly #index = new Map<string, number>();
  readonly #names: string[] = [];

  constructor(extraNames: readonly string[] = []) {
    for (const variable of contextVariables) this.#add(variable.name);
    for (const name of extraNames) this.#add(name);
  }

  #add(name: string): void {
    if (this.#index.has(name)) return;
    this.#index.set(name, this.#names.length);
    this.#names.push(name);
  }

  /** The slot of `name`, or undefined when the name is not known. */
  indexOf(name: string): number | undefined {
    return this.#index.get(name);
  }

  /** Every name, in slot order. */
  get names(): readonly string[] {
    return this.#names;
  }

  /** Number of slots. */
  get size(): number {
    return this.#names.length;
  }

  /** A fresh value array: every slot missing (NaN). */
  emptyValues(): Float64Array {
    return new Float64Array(this.#names.length).fill(Number.NaN);
  }
}

/** True when `name` is a catalog variable. */
export function isContextVariableName(name: string): name is ContextVariableName {
  return catalogNames.has(name);
}

const catalogNames: ReadonlySet<string> = new Set(contextVariables.map((v) => v.name));
