// The names of the LSTM's per-step features: part of the shared vocabulary because both the
// configuration (ml.lstm.features) and the model's stored metadata validate against them, and the
// configuration may not import forecast's code. forecast/features/catalog.ts computes them.

/**
 * The per-step features of the design (system, queue, temporal, historical), computed on the grid
 * of the forecast series. Column i of every feature uses data at or before grid index i only, so a
 * window ending at an origin never sees its future. These are the inputs of the LSTM; the engine
 * passes the covariates it reads (CPU, processing rate, ...), `foresight train` from CSV passes the
 * target alone, and a feature whose input is absent is a column of NaN that normalisation turns
 * into the training mean (that is, "no information").
 */
export const featureNames = [
  // The forecast series itself.
  'value',
  'growth',
  // System.
  'cpu_percent',
  'memory_percent',
  'disk_io',
  'network_io',
  'load1',
  'load5',
  'load15',
  // Queue.
  'wait_avg_seconds',
  'processing_rate',
  'enqueue_rate',
  'failed_messages',
  // Temporal.
  'hour_sin',
  'hour_cos',
  'dow_sin',
  'dow_cos',
  'dom_sin',
  'dom_cos',
  'month_sin',
  'month_cos',
  'business_hours',
  'peak_time',
  // Historical.
  'value_1h_ago',
  'value_24h_ago',
  'value_7d_avg',
  'processing_rate_1h_avg',
  'processing_rate_24h_ago',
] as const;

/** The name of one per-step feature. */
export type FeatureName = (typeof featureNames)[number];

/** True when `name` is a known feature. */
export function isFeatureName(name: string): name is FeatureName {
  return (featureNames as readonly string[]).includes(name);
}
