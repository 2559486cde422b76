import { z } from 'zod';
import { parseDurationSeconds, performanceMetrics, queueMetrics, resources, systemMetrics } from '../core/index.js';

/**
 * A duration: a Prometheus duration string ("30s", "15m", "1h30m") or a number of seconds.
 * Parsed to seconds here, at the boundary, so nothing inside ever parses a duration again.
 */
const duration = z
  .union([z.number().positive(), z.string()])
  .transform((raw, ctx): number => {
    if (typeof raw === 'number') return raw;
    const seconds = parseDurationSeconds(raw);
    if (seconds === undefined || seconds <= 0) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "30s", "15m" or "1h30m", got "${raw}"` });
      return z.NEVER;
    }
    return seconds;
  });

/** A name usable as a Prometheus label value and a Kubernetes selector value. */
const queueName = z
  .string()
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'expected a Kubernetes label value (letters, digits, "-", "_", ".", at most 63 characters)');

const range = (min: number, max: number) =>
  z
    .strictObject({
      min: z.number().int().nonnegative().default(min).describe('Fewest replicas (or pool connections) ever recommended.'),
      max: z.number().int().positive().default(max).describe('Most replicas (or pool connections) ever recommended.'),
    })
    .prefault({})
    .refine((r) => r.min <= r.max, { message: 'min must not be greater than max' });

/** A PromQL template; an empty string turns the input off. */
const promql = z.string().describe('PromQL; "{{queue}}" is replaced by the queue name, escaped for a string literal.');

const queueQueryDefaults: Record<(typeof queueMetrics)[number], string> = {
  depth: 'sum(rabbitmq_queue_messages_ready{queue="{{queue}}"})',
  enqueue_rate_per_second: 'sum(rate(rabbitmq_queue_messages_published_total{queue="{{queue}}"}[5m]))',
  dequeue_rate_per_second: 'sum(rate(rabbitmq_queue_messages_delivered_total{queue="{{queue}}"}[5m]))',
  wait_avg_seconds:
    'sum(rate(queue_wait_seconds_sum{queue="{{queue}}"}[5m])) / sum(rate(queue_wait_seconds_count{queue="{{queue}}"}[5m]))',
  wait_max_seconds: 'time() - min(rabbitmq_queue_head_message_timestamp{queue="{{queue}}"})',
  consumers: 'sum(rabbitmq_queue_consumers{queue="{{queue}}"})',
  failed_messages: 'sum(increase(queue_failed_messages_total{queue="{{queue}}"}[5m]))',
};

const systemQueryDefaults: Record<(typeof systemMetrics)[number], string> = {
  cpu_percent: '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[5m])))',
  memory_percent: '100 * (1 - sum(node_memory_MemAvailable_bytes) / sum(node_memory_MemTotal_bytes))',
  disk_io_bytes_per_second: 'sum(rate(node_disk_read_bytes_total[5m])) + sum(rate(node_disk_written_bytes_total[5m]))',
  network_io_bytes_per_second:
    'sum(rate(node_network_receive_bytes_total{device!="lo"}[5m])) + sum(rate(node_network_transmit_bytes_total{device!="lo"}[5m]))',
  load1: 'avg(node_load1)',
  load5: 'avg(node_load5)',
  load15: 'avg(node_load15)',
};

const performanceQueryDefaults: Record<(typeof performanceMetrics)[number], string> = {
  response_time_p95_seconds: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))',
  error_rate_percent: '100 * sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
  db_connection_utilization_percent: '100 * sum(db_connections_in_use) / sum(db_connection_pool_size)',
};

const replicaQueryDefaults: Record<(typeof resources)[number], string> = {
  worker_processes: 'sum(kube_deployment_spec_replicas{deployment="worker"})',
  api_instances: 'sum(kube_deployment_spec_replicas{deployment="api"})',
  batch_processors: 'sum(kube_deployment_spec_replicas{deployment="batch-processor"})',
  ml_workers: 'sum(kube_deployment_spec_replicas{deployment="ml-worker"})',
  db_connections: 'max(db_connection_pool_size)',
};

/** Builds a strict object of PromQL templates whose every key defaults to the given query. */
function queryMap<K extends string>(defaults: Record<K, string>) {
  const shape = Object.fromEntries(Object.entries(defaults).map(([key, query]) => [key, promql.default(query as string)]));
  const schema = z.strictObject(shape as Record<K, z.ZodDefault<z.ZodString>>);
  return schema.prefault({} as z.input<typeof schema>);
}

const queueSchema = z.strictObject({
  name: queueName.describe('The queue name, as in the "queue" label of the queue metrics.'),
  threshold: z.number().positive().describe('Queue depth above which the queue counts as overloaded (published as queue_depth_threshold).'),
  resource: z.enum(resources).default('worker_processes').describe('The resource whose replicas drain this queue.'),
});

/** The design's five queues, with thresholds taken from the resource triggers of DESIGN.md. */
const defaultQueues = [
  { name: 'batch_processing', threshold: 5000, resource: 'batch_processors' },
  { name: 'ml_inference', threshold: 500, resource: 'ml_workers' },
  { name: 'validation', threshold: 1000, resource: 'worker_processes' },
  { name: 'failed_claims', threshold: 1000, resource: 'worker_processes' },
  { name: 'priority_claims', threshold: 1000, resource: 'worker_processes' },
] as const;

const forecastModels = ['holt_winters', 'seasonal_naive', 'seasonal_mean', 'naive', 'linear_trend'] as const;

/** The whole configuration file. Every key is optional; unknown keys are errors. */
export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().default('0.0.0.0').describe('Address the HTTP server binds to.'),
        port: z.number().int().min(0).max(65535).default(8000).describe('HTTP port for /scaling/*, /metrics, health and the web view (PORT overrides).'),
      })
      .prefault({}),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level (LOG_LEVEL overrides).'),
    source: z
      .strictObject({
        type: z.enum(['replay', 'prometheus']).default('replay').describe('Where inputs come from: the bundled replay traces, or Prometheus.'),
        prometheus: z
          .strictObject({
            url: z.url().default('http://127.0.0.1:9090').describe('Base URL of the Prometheus-compatible API (Prometheus, Thanos, Mimir, Cortex).'),
            bearerToken: z.string().optional().describe('Bearer token sent as "Authorization: Bearer ...".'),
            bearerTokenFile: z.string().optional().describe('File to read the bearer token from (re-read on every query, so rotation works).'),
            basicAuth: z
              .strictObject({
                username: z.string(),
                password: z.string().optional(),
                passwordFile: z.string().optional(),
              })
              .optional()
              .describe('HTTP basic authentication.'),
            headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers, e.g. X-Scope-OrgID for Mimir/Cortex tenants.'),
            timeout: duration.default(10).describe('Timeout of one query.'),
            maxPointsPerQuery: z.number().int().positive().max(11000).default(10000).describe('Range queries are split so that no series returns more points than this (Prometheus refuses more than 11,000).'),
          })
          .prefault({})
          .superRefine((p, ctx) => {
            if (p.bearerToken !== undefined && p.bearerTokenFile !== undefined) {
              ctx.addIssue({ code: 'custom', path: ['bearerTokenFile'], message: 'set at most one of bearerToken and bearerTokenFile' });
            }
            if ((p.bearerToken !== undefined || p.bearerTokenFile !== undefined) && p.basicAuth !== undefined) {
              ctx.addIssue({ code: 'custom', path: ['basicAuth'], message: 'set at most one of basicAuth and a bearer token' });
            }
            if (p.basicAuth?.password !== undefined && p.basicAuth.passwordFile !== undefined) {
              ctx.addIssue({ code: 'custom', path: ['basicAuth', 'passwordFile'], message: 'set at most one of password and passwordFile' });
            }
          }),
        replay: z
          .strictObject({
            dir: z.string().optional().describe('Folder of CSV traces (timestamp,value) named after input keys; default: the bundled demo workload.'),
            speed: z.number().positive().default(1).describe('Replay speed: 1 plays the trace in real time.'),
          })
          .prefault({}),
      })
      .prefault({}),
    queues: z.array(queueSchema).min(1).default(defaultQueues.map((q) => ({ ...q }))).describe('The queues to watch.'),
    queries: z
      .strictObject({
        queueLabel: z.string().default('queue').describe('Label that names the queue in results of templates without "{{queue}}" (one query serves all queues).'),
        queue: queryMap(queueQueryDefaults),
        system: queryMap(systemQueryDefaults),
        performance: queryMap(performanceQueryDefaults),
        replicas: queryMap(replicaQueryDefaults),
      })
      .prefault({}),
    forecast: z
      .strictObject({
        model: z.enum(forecastModels).default('holt_winters').describe('Model used for published forecasts.'),
        step: duration.default(60).describe('Grid step of the history the models are fitted on.'),
        season: duration.default(86400).describe('Length of the seasonal cycle.'),
        history: duration.default(7 * 86400).describe('How much history to fit on.'),
        refitInterval: duration.default(3600).describe('How often model parameters are refitted (forecasts themselves are updated every cycle).'),
        horizons: z.array(duration).min(1).default([900]).describe('Forecast horizons; the first is the default "horizon" label (SCALING_PREDICTION_HORIZON_MINUTES sets it).'),
      })
      .prefault({}),
    snapshot: z
      .strictObject({
        maxAge: duration.default(300).describe('A snapshot older than this is reported stale (and the external-metrics API answers 503).'),
        historyRetention: duration.default(86400).describe('How long past cycles are kept for /scaling/history.'),
      })
      .prefault({}),
    scaling: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Master switch for recommendations (SCALING_ENABLED).'),
        mlPredictionEnabled: z.boolean().default(true).describe('Use forecasts in decisions (SCALING_ML_PREDICTION_ENABLED).'),
        anomalyDetectionEnabled: z.boolean().default(true).describe('Score anomalies (SCALING_ANOMALY_DETECTION_ENABLED).'),
        monitoringInterval: duration.default(30).describe('Time between reconcile cycles (SCALING_MONITORING_INTERVAL_SECONDS).'),
        predictionConfidenceThreshold: z.number().min(0).max(1).default(0.7).describe('Forecasts with less confidence than this are not acted on (SCALING_PREDICTION_CONFIDENCE_THRESHOLD).'),
        modelPath: z.string().default('models').describe('Folder for trained models (SCALING_ML_MODEL_PATH).'),
        modelRetrainInterval: duration.default(24 * 3600).describe('How often learned models are retrained (SCALING_MODEL_RETRAIN_HOURS).'),
        resources: z
          .strictObject({
            worker_processes: range(2, 20),
            api_instances: range(2, 10),
            batch_processors: range(1, 8),
            ml_workers: range(1, 6),
            db_connections: range(20, 200),
          })
          .prefault({}),
        cooldowns: z
          .strictObject({
            scaleUp: duration.default(180).describe('Least time between two scale-ups of a resource (SCALING_COOLDOWN_SCALE_UP_MINUTES).'),
            scaleDown: duration.default(600).describe('Least time after any scaling before a scale-down (SCALING_COOLDOWN_SCALE_DOWN_MINUTES).'),
            emergency: duration.default(60).describe('Least time between emergency scale-ups (SCALING_COOLDOWN_EMERGENCY_MINUTES).'),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.queues.forEach((queue, index) => {
      if (seen.has(queue.name)) ctx.addIssue({ code: 'custom', path: ['queues', index, 'name'], message: `queue "${queue.name}" is listed twice` });
      seen.add(queue.name);
    });
    const f = config.forecast;
    if (f.history < 2 * f.season) {
      ctx.addIssue({ code: 'custom', path: ['forecast', 'history'], message: 'forecast.history must cover at least two forecast.season cycles' });
    }
    for (const [index, horizon] of f.horizons.entries()) {
      if (horizon % f.step !== 0) {
        ctx.addIssue({ code: 'custom', path: ['forecast', 'horizons', index], message: 'each horizon must be a whole number of forecast.step' });
      }
    }
    if (f.season % f.step !== 0) ctx.addIssue({ code: 'custom', path: ['forecast', 'season'], message: 'forecast.season must be a whole number of forecast.step' });
  });

/** The configuration file as written (before defaults). */
export type ConfigInput = z.input<typeof configSchema>;

/** The validated configuration: every default filled in, every duration in seconds. Deep-frozen once loaded. */
export type Config = z.output<typeof configSchema>;

/** The names of the forecasting models the configuration may choose. */
export type ForecastModelName = (typeof forecastModels)[number];
