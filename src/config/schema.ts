import { z } from 'zod';
import { formatDuration, parseDurationSeconds, performanceMetrics, queueMetrics, resources, systemMetrics } from '../core/index.js';

/**
 * A duration: a Prometheus duration string ("30s", "15m", "1h30m") or a number of seconds.
 * Parsed to seconds here, at the boundary, so nothing inside ever parses a duration again.
 * Exported so that the configuration reference can show duration defaults as "15m", not 900.
 */
export const durationSchema = z
  .union([z.number().positive(), z.string()], {
    // Without this, a wrong type (true, a list) would read "Invalid input" with no hint of the format.
    error: 'expected a duration such as "30s", "15m" or "1h30m", or a number of seconds',
  })
  .transform((raw, ctx): number => {
    if (typeof raw === 'number') return raw;
    const seconds = parseDurationSeconds(raw);
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "30s", "15m" or "1h30m", got "${raw}"` });
      return z.NEVER;
    }
    if (seconds <= 0) {
      ctx.addIssue({ code: 'custom', message: `expected a duration greater than zero, got "${raw}"` });
      return z.NEVER;
    }
    return seconds;
  });
const duration = durationSchema;

/** A name usable as a Prometheus label value and a Kubernetes selector value. */
const queueName = z
  .string()
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'expected a Kubernetes label value (letters, digits, "-", "_", ".", at most 63 characters)');

/** A replica (or pool size) range; `what` names the resource in the description. */
const range = (min: number, max: number, what: string) =>
  z
    .strictObject({
      min: z.number().int().nonnegative().default(min).describe('Fewest replicas (or pool connections) ever recommended.'),
      max: z.number().int().positive().default(max).describe('Most replicas (or pool connections) ever recommended.'),
    })
    .prefault({})
    .superRefine((r, ctx) => {
      // The values go into the message: one of them may come from an environment variable.
      if (r.min > r.max) ctx.addIssue({ code: 'custom', message: `min (${r.min}) must not be greater than max (${r.max})` });
    })
    .describe(what);

/** A PromQL template; an empty string turns the input off. */
const promql = z.string();
const queueQueryText =
  'PromQL; "{{queue}}" is replaced by the queue name, escaped for a string literal. Without "{{queue}}", one query returns a series per queue, told apart by queries.queueLabel. "" turns it off.';
const seriesQueryText = 'PromQL returning one series. "" turns it off.';

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
function queryMap<K extends string>(defaults: Record<K, string>, description: string) {
  const shape = Object.fromEntries(Object.entries(defaults).map(([key, query]) => [key, promql.default(query as string).describe(description)]));
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

const forecastModels = ['holt_winters', 'seasonal_naive', 'seasonal_mean', 'naive', 'linear_trend', 'lag_regression', 'random_forest', 'auto'] as const;

/** The LSTM's per-step features (forecast/features/catalog.ts; a test keeps the two lists equal). */
const lstmFeatureNames = [
  'value', 'growth', 'cpu_percent', 'memory_percent', 'disk_io', 'network_io', 'load1', 'load5', 'load15',
  'wait_avg_seconds', 'processing_rate', 'enqueue_rate', 'failed_messages',
  'hour_sin', 'hour_cos', 'dow_sin', 'dow_cos', 'dom_sin', 'dom_cos', 'month_sin', 'month_cos', 'business_hours', 'peak_time',
  'value_1h_ago', 'value_24h_ago', 'value_7d_avg', 'processing_rate_1h_avg', 'processing_rate_24h_ago',
] as const;

/** A Kubernetes object name (DNS-1123 subdomain), checked here because it becomes part of an API path. */
const kubernetesName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'expected a Kubernetes object name (lower-case letters, digits, "-" and ".")');
/** A Kubernetes namespace (DNS-1123 label). */
const kubernetesNamespace = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a Kubernetes namespace (lower-case letters, digits and "-", at most 63 characters)');
/** A Deployment or StatefulSet whose scale subresource actuation patches. */
const workloadTarget = z.strictObject({
  kind: z.enum(['Deployment', 'StatefulSet']).default('Deployment').describe('Kind of the workload.'),
  name: kubernetesName.describe('Name of the workload.'),
  namespace: kubernetesNamespace.describe('Namespace of the workload.'),
});

/** The whole configuration file. Every key is optional; unknown keys are errors. */
export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().default('0.0.0.0').describe('Address the HTTP server binds to.'),
        port: z.number().int().min(0).max(65535).default(8000).describe('HTTP port for /scaling/*, /metrics, health and the web view (PORT overrides).'),
      })
      .prefault({})
      .describe('The HTTP server.'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level (LOG_LEVEL overrides).'),
    source: z
      .strictObject({
        type: z.enum(['replay', 'prometheus']).default('replay').describe('Where inputs come from: the bundled replay traces, or Prometheus.'),
        prometheus: z
          .strictObject({
            url: z
              // Only http(s): "prometheus:9090" is a valid URL with the scheme "prometheus:", and a classic slip.
              .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL such as "http://prometheus:9090"' })
              .default('http://127.0.0.1:9090').describe('Base URL of the Prometheus-compatible API (Prometheus, Thanos, Mimir, Cortex).'),
            bearerToken: z.string().optional().describe('Bearer token sent as "Authorization: Bearer ...".'),
            bearerTokenFile: z.string().optional().describe('File to read the bearer token from (re-read on every query, so rotation works).'),
            basicAuth: z
              .strictObject({
                username: z.string().describe('User name.'),
                password: z.string().optional().describe('Password (prefer passwordFile, which keeps it out of the config).'),
                passwordFile: z.string().optional().describe('File to read the password from (re-read on every query).'),
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
          })
          .describe('How to reach Prometheus (used when source.type is prometheus).'),
        replay: z
          .strictObject({
            dir: z.string().optional().describe('Folder of CSV traces (timestamp,value) named after input keys; default: the bundled demo workload.'),
            speed: z.number().positive().default(1).describe('Replay speed: 1 plays the trace in real time.'),
          })
          .prefault({})
          .describe('The recorded traces played when source.type is replay.'),
      })
      .prefault({})
      .describe('Where the input series come from.'),
    queues: z
      .array(queueSchema)
      .min(1)
      .default(defaultQueues.map((q) => ({ ...q })))
      .describe('The queues to watch; a list replaces the five default queues as a whole.'),
    queries: z
      .strictObject({
        queueLabel: z.string().default('queue').describe('Label that names the queue in results of templates without "{{queue}}" (one query serves all queues).'),
        queue: queryMap(queueQueryDefaults, queueQueryText).describe('Per-queue inputs (RabbitMQ exporter names by default).'),
        system: queryMap(systemQueryDefaults, seriesQueryText).describe('Node-level inputs (node_exporter by default).'),
        performance: queryMap(performanceQueryDefaults, seriesQueryText).describe('Service-level inputs.'),
        replicas: queryMap(replicaQueryDefaults, seriesQueryText).describe('Current replicas (or pool size) of each resource, from kube-state-metrics by default.'),
      })
      .prefault({})
      .describe('PromQL templates for every input; set one to "" to turn that input off.'),
    forecast: z
      .strictObject({
        model: z
          .enum(forecastModels)
          .default('holt_winters')
          .describe('Model used for published forecasts. "auto" picks or combines models per series on a validation split (best on the benchmark; its refits cost about 2 s of CPU per series).'),
        step: duration.default(60).describe('Grid step of the history the models are fitted on.'),
        season: duration.default(86400).describe('Length of the seasonal cycle.'),
        history: duration.default(7 * 86400).describe('How much history to fit on.'),
        refitInterval: duration.default(3600).describe('How often model parameters are refitted (forecasts themselves are updated every cycle).'),
        modelProcess: z
          .boolean()
          .default(true)
          .describe('Fit and run the models (refits, backtests, the resource optimizer) in a child process at a lower OS priority, so a slow refit never delays an HTTP answer; false runs them on the service\'s event loop. Read at start.'),
        modelProcessTimeout: duration
          .default(1800)
          .describe('A model-process call (one cycle\'s fits and forecasts) that takes longer is abandoned: the process is killed, that cycle fails and the next starts a fresh process. Raise it if refits of many series with `auto` take longer.'),
        horizons: z
          .array(duration)
          .min(1)
          .default([900])
          .describe('Forecast horizons; the first is the default "horizon" label (SCALING_PREDICTION_HORIZON_MINUTES replaces the list with one horizon).'),
      })
      .prefault({})
      .describe('How series are forecast.'),
    snapshot: z
      .strictObject({
        maxAge: duration.default(300).describe('A snapshot older than this is reported stale (and the external-metrics API answers 503).'),
        historyRetention: duration.default(86400).describe('How long past cycles are kept for /scaling/history.'),
      })
      .prefault({})
      .describe('The results of the latest cycles, which every API answer is served from.'),
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
            worker_processes: range(2, 20, 'Replica range of the queue workers (SCALING_WORKER_MIN, SCALING_WORKER_MAX).'),
            api_instances: range(2, 10, 'Replica range of the API servers (SCALING_API_MIN, SCALING_API_MAX).'),
            batch_processors: range(1, 8, 'Replica range of the batch processors (SCALING_BATCH_MIN, SCALING_BATCH_MAX).'),
            ml_workers: range(1, 6, 'Replica range of the ML inference workers.'),
            db_connections: range(20, 200, 'Size range of the database connection pool.'),
          })
          .prefault({})
          .describe('The least and most replicas recommended for each resource (design ranges by default).'),
        cooldowns: z
          .strictObject({
            scaleUp: duration.default(180).describe('Least time between two scale-ups of a resource (SCALING_COOLDOWN_SCALE_UP_MINUTES).'),
            scaleDown: duration.default(600).describe('Least time after any scaling before a scale-down (SCALING_COOLDOWN_SCALE_DOWN_MINUTES).'),
            emergency: duration.default(60).describe('Least time between emergency scale-ups (SCALING_COOLDOWN_EMERGENCY_MINUTES).'),
          })
          .prefault({})
          .describe('Least times between scaling actions, which damp oscillation.'),
      })
      .prefault({})
      .describe('Scaling recommendations.'),
    actuation: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Write recommendations to the mapped Kubernetes objects (off by default; see docs/actuation.md).'),
        dryRun: z.boolean().default(true).describe('Only log and count the patches that would be made; set false to make them.'),
        minPatchInterval: duration.default(60).describe('Least time between two patches of the same resource.'),
        targets: z
          .strictObject({
            worker_processes: workloadTarget.optional().describe('The workload whose replicas follow worker_processes.'),
            api_instances: workloadTarget.optional().describe('The workload whose replicas follow api_instances.'),
            batch_processors: workloadTarget.optional().describe('The workload whose replicas follow batch_processors.'),
            ml_workers: workloadTarget.optional().describe('The workload whose replicas follow ml_workers.'),
            db_connections: z
              .strictObject({
                name: kubernetesName.describe('Name of the ConfigMap that holds the pool size.'),
                namespace: kubernetesNamespace.describe('Namespace of the ConfigMap.'),
                key: z.string().regex(/^[-._a-zA-Z0-9]{1,253}$/, 'expected a ConfigMap key (letters, digits, "-", "_", ".")').describe('The data key whose value is the pool size.'),
              })
              .optional()
              .describe('The ConfigMap whose data key holds the database connection pool size.'),
          })
          .prefault({})
          .describe('The object each resource is written to; resources without one are left alone.'),
        leaderElection: z
          .strictObject({
            leaseName: kubernetesName.default('foresight-actuator').describe('Name of the coordination.k8s.io/v1 Lease that elects the one replica that patches.'),
            leaseNamespace: kubernetesNamespace.optional().describe("Namespace of the Lease; default: the pod's own namespace, else the kubeconfig context's, else default."),
            identity: z.string().min(1).max(128).optional().describe("This replica's name in the Lease; default: POD_NAME or the hostname, plus a random suffix."),
            leaseDuration: duration.default(15).describe('How long others wait after the last renewal they saw before taking the lease over (client-go default).'),
            renewDeadline: duration.default(10).describe('The leader stops patching when it could not renew for this long (client-go default).'),
            retryPeriod: duration.default(2).describe('Time between two attempts to acquire or renew the lease (client-go default).'),
          })
          .prefault({})
          .superRefine((l, ctx) => {
            // client-go's own checks: without them two replicas could both believe they lead.
            if (l.renewDeadline >= l.leaseDuration) {
              ctx.addIssue({ code: 'custom', path: ['renewDeadline'], message: `must be shorter than leaseDuration (${formatDuration(l.leaseDuration)}), got ${formatDuration(l.renewDeadline)}`, params: { related: ['actuation.leaderElection.leaseDuration'] } });
            }
            if (l.renewDeadline <= 1.2 * l.retryPeriod) {
              ctx.addIssue({ code: 'custom', path: ['retryPeriod'], message: `must be shorter than renewDeadline (${formatDuration(l.renewDeadline)}) / 1.2, got ${formatDuration(l.retryPeriod)}`, params: { related: ['actuation.leaderElection.renewDeadline'] } });
            }
          })
          .describe('Leader election, so that only one replica ever patches.'),
      })
      .prefault({})
      .describe('Optional actuation: patch the scale subresource of mapped Deployments and StatefulSets, and the pool size ConfigMap.'),
    externalMetrics: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Serve the Kubernetes external.metrics.k8s.io/v1beta1 API over HTTPS (docs/external-metrics.md).'),
        host: z.string().default('0.0.0.0').describe('Address the external-metrics HTTPS server binds to.'),
        port: z.number().int().min(0).max(65535).default(6443).describe('HTTPS port of the external-metrics API (0 picks a free port).'),
        tls: z
          .strictObject({
            certFile: z.string().optional().describe('PEM serving certificate (with its chain), reloaded when it changes. Without certFile and keyFile a certificate is generated at start.'),
            keyFile: z.string().optional().describe('PEM private key of tls.certFile, reloaded with it.'),
            generatedHosts: z
              .array(z.string().min(1))
              .default([])
              .describe('Extra DNS names or IP addresses of a generated serving certificate, e.g. "foresight.monitoring.svc" (localhost, 127.0.0.1 and ::1 are always in it).'),
          })
          .prefault({})
          .superRefine((t, ctx) => {
            if ((t.certFile === undefined) !== (t.keyFile === undefined)) {
              ctx.addIssue({ code: 'custom', path: [t.certFile === undefined ? 'certFile' : 'keyFile'], message: 'set both tls.certFile and tls.keyFile, or neither (then a certificate is generated)' });
            }
          })
          .describe('The serving certificate.'),
        clientCAFile: z.string().optional().describe('PEM CA bundle for client certificates (user = CN, groups = O), like kube-apiserver --client-ca-file; reloaded when it changes.'),
        requestHeader: z
          .strictObject({
            clientCAFile: z.string().optional().describe('PEM CA bundle of the front proxy (the kube-apiserver aggregator) client certificate; X-Remote-* headers are trusted only on connections that present a certificate from it.'),
            allowedNames: z.array(z.string().min(1)).default([]).describe('Common names the front-proxy certificate may have (empty: every certificate from requestHeader.clientCAFile is accepted).'),
            usernameHeaders: z.array(z.string().min(1)).min(1).default(['X-Remote-User']).describe('Headers that carry the user name, first one present wins.'),
            uidHeaders: z.array(z.string().min(1)).default(['X-Remote-Uid']).describe('Headers that carry the user UID.'),
            groupHeaders: z.array(z.string().min(1)).default(['X-Remote-Group']).describe('Headers that carry the groups (every value counts).'),
            extraHeaderPrefixes: z.array(z.string().min(1)).default(['X-Remote-Extra-']).describe('Header prefixes that carry extra user attributes.'),
          })
          .prefault({})
          .describe('Front-proxy (aggregation layer) authentication, like the kube-apiserver --requestheader-* flags.'),
        authenticationConfigMap: z
          .enum(['auto', 'on', 'off'])
          .default('auto')
          .describe('Take the client CA, the front-proxy CA and header names from kube-system/extension-apiserver-authentication (auto: when a Kubernetes API is reachable, in a cluster or through externalMetrics.kubeconfig).'),
        tokenReview: z.enum(['auto', 'on', 'off']).default('auto').describe('Authenticate bearer tokens with a TokenReview (auto: when a Kubernetes API is reachable).'),
        subjectAccessReview: z
          .enum(['auto', 'on', 'off'])
          .default('auto')
          .describe('Authorize every request with a SubjectAccessReview (auto: when a Kubernetes API is reachable; off: every authenticated user may read).'),
        authCacheTTL: duration.default(10).describe('How long TokenReview and SubjectAccessReview answers are cached.'),
        kubeconfig: z.string().optional().describe('Kubeconfig for TokenReview, SubjectAccessReview and the ConfigMap when running outside a cluster (in a cluster the service account is used).'),
        pkiDir: z.string().default('.foresight').describe('Folder for the generated local CA, serving and client certificates and kubeconfig (used when no authentication is configured outside a cluster).'),
        reloadInterval: duration.default(30).describe('How often certificate and CA files, and the extension-apiserver-authentication ConfigMap, are checked for changes.'),
        defaultHorizon: duration.optional().describe('The horizon label assumed when a selector names none; one of forecast.horizons (default: the first).'),
        defaultQuantile: z.enum(['0.1', '0.5', '0.9']).default('0.5').describe('The quantile label assumed when a selector names none (0.9 scales for the bad case).'),
        exposure: z
          .array(
            z.strictObject({
              namespaces: z.array(z.string().regex(/^[-A-Za-z0-9._*]{1,253}$/, 'expected a name or a pattern with "*" (letters, digits, "-", "_", ".", "*")')).min(1).describe('Namespaces the rule applies to ("*" matches any run of characters).'),
              queues: z.array(z.string().regex(/^[-A-Za-z0-9._*]{1,253}$/, 'expected a name or a pattern with "*" (letters, digits, "-", "_", ".", "*")')).default([]).describe('Queues they may read (predicted_queue_depth, queue_depth, and anomaly_score of a queue).'),
              resources: z.array(z.string().regex(/^[-A-Za-z0-9._*]{1,253}$/, 'expected a name or a pattern with "*" (letters, digits, "-", "_", ".", "*")')).default([]).describe('Resources whose recommended_replicas they may read.'),
              systemMetrics: z.boolean().default(false).describe('Whether they may read anomaly scores that belong to no queue (cpu, memory, response_time, error_rate).'),
            }),
          )
          .default([])
          .describe('Which queues each namespace may read. Empty: every namespace reads everything. Otherwise a namespace reads what the rules naming it allow, and nothing when none does.'),
      })
      .prefault({})
      .describe('The Kubernetes external-metrics API that a HorizontalPodAutoscaler reads.'),
    keda: z
      .strictObject({
        metricsApi: z
          .strictObject({
            enabled: z.boolean().default(true).describe('Serve GET /keda/metrics on the HTTP port, the JSON endpoint of the KEDA metrics-api trigger.'),
          })
          .prefault({})
          .describe('The JSON endpoint for the KEDA metrics-api trigger (docs/keda.md).'),
        grpc: z
          .strictObject({
            enabled: z.boolean().default(true).describe('Serve the KEDA external scaler over gRPC, for "external" and "external-push" triggers.'),
            host: z.string().default('0.0.0.0').describe('Address the gRPC server binds to.'),
            port: z.number().int().min(0).max(65535).default(9000).describe('gRPC port of the external scaler (0 picks a free port).'),
            pushCheckInterval: duration.default(1).describe('How often open external-push streams look for a new snapshot (a check is one comparison; a new snapshot is pushed within this time).'),
            tls: z
              .strictObject({
                certFile: z.string().min(1).optional().describe('PEM serving certificate (with its chain) of the gRPC port. With keyFile the port serves TLS only (KEDA: enableTLS "true", or a caCert); reloaded when it changes.'),
                keyFile: z.string().min(1).optional().describe('PEM private key of keda.grpc.tls.certFile, reloaded with it.'),
                clientCAFile: z
                  .string()
                  .min(1)
                  .optional()
                  .describe('PEM CA bundle: every client must present a certificate it signed (mutual TLS; KEDA sends tlsClientCert and tlsClientKey from a TriggerAuthentication). Reloaded when it changes.'),
                reloadInterval: duration.default(30).describe('How often the three files are checked for changes; a renewed certificate is served to new connections without a restart.'),
              })
              .prefault({})
              .superRefine((t, ctx) => {
                if ((t.certFile === undefined) !== (t.keyFile === undefined)) {
                  ctx.addIssue({ code: 'custom', path: [t.certFile === undefined ? 'certFile' : 'keyFile'], message: 'set both tls.certFile and tls.keyFile, or neither (then the port is plaintext)' });
                }
                if (t.clientCAFile !== undefined && t.certFile === undefined) {
                  ctx.addIssue({ code: 'custom', path: ['clientCAFile'], message: 'needs tls.certFile and tls.keyFile: client certificates are only asked for over TLS' });
                }
              })
              .describe('TLS of the gRPC port. Without certFile and keyFile the port is plaintext (docs/keda.md).'),
          })
          .prefault({})
          .describe('The KEDA external scaler (docs/keda.md).'),
      })
      .prefault({})
      .describe('The KEDA surfaces besides the Prometheus series: the metrics-api JSON endpoint and the external scaler.'),
    ml: z
      .strictObject({
        lstm: z
          .strictObject({
            enabled: z.boolean().default(true).describe('Train one global LSTM across every forecast series (with their covariates) in a low-priority child process, fine-tune it on new data every scaling.modelRetrainInterval, and serve it on a series only where it beats the baseline on recent history it never trained on.'),
            lookbackSteps: z.number().int().positive().default(60).describe('Steps of history each forecast sees.'),
            features: z.array(z.enum(lstmFeatureNames)).min(1).default(['value', 'growth', 'hour_sin', 'hour_cos', 'dow_sin', 'dow_cos', 'value_24h_ago', 'value_7d_avg']).describe('Per-step input features (docs/ml-models.md lists them).'),
            units: z.array(z.number().int().positive()).min(1).default([64, 32]).describe('Units of the stacked LSTM layers, first to last.'),
            dropout: z.number().min(0).lt(1).default(0.2).describe('Dropout after each LSTM layer.'),
            denseUnits: z.number().int().positive().default(16).describe('Units of the ReLU layer before the output.'),
            epochs: z.number().int().positive().default(5).describe('Passes over the training windows (from scratch).'),
            batchSize: z.number().int().positive().default(128).describe('Windows per gradient step.'),
            learningRate: z.number().positive().default(0.002).describe('Adam learning rate.'),
            maxWindows: z.number().int().positive().default(8192).describe('Training windows per epoch, shared evenly by the series (a time-ordered random sample: epochs × windows bounds training time).'),
            fineTuneEpochs: z.number().int().positive().default(2).describe('Passes over the windows of a fine-tune (new data since the last training, and as many replayed older windows).'),
            fineTuneWindows: z.number().int().positive().default(1024).describe('Most windows of a fine-tune, shared by the series.'),
            seed: z.number().int().default(1).describe('Seed of weights and window sampling (same data and seed, same model).'),
            backend: z.enum(['auto', 'wasm', 'cpu', 'tensorflow']).default('auto').describe('TensorFlow.js backend: auto uses @tensorflow/tfjs-node when installed, else wasm.'),
          })
          .prefault({})
          .describe('The LSTM forecaster (the design shape by default).'),
        randomForest: z
          .strictObject({
            trees: z.number().int().positive().default(25).describe('Trees of the resource optimizer forest.'),
            minSaturatedSamples: z.number().int().positive().default(30).describe('Saturated observations (work waiting) needed before its recommendations can be trusted.'),
            headroom: z.number().min(1).default(1.2).describe('Capacity provisioned per unit of predicted load (1.2 keeps replicas at most 83 % busy).'),
            seed: z.number().int().default(1).describe('Seed of the forest.'),
          })
          .prefault({})
          .describe('The Random Forest resource optimizer.'),
        accuracyThresholdPercent: z.number().min(0).max(100).default(70).describe('Retrain a learned model early when its matured-forecast accuracy, 100 × (1 − WAPE), falls under this.'),
        accuracyWindow: duration.default(86400).describe('Trailing window of matured forecasts that accuracy is computed over.'),
        maxConcurrentTrainings: z.number().int().min(1).default(1).describe('No effect since the LSTM is one global model (one training at a time); kept so that existing files load.'),
      })
      .prefault({})
      .describe('Learned models: the LSTM, the Random Forest optimizer, and when they are retrained (the interval is scaling.modelRetrainInterval).'),
    anomaly: z
      .strictObject({
        detector: z
          .enum(['zscore', 'mad', 'seasonal', 'adaptive'])
          .default('adaptive')
          .describe('Detector of every monitored metric: adaptive (the best on the NAB benchmark), or zscore (the design\'s), mad or seasonal (docs/anomaly-detection.md).'),
        thresholds: z
          .strictObject({
            cpu: z.number().positive().default(2.5).describe('CPU threshold, in standard deviations.'),
            memory: z.number().positive().default(2.0).describe('Memory threshold, in standard deviations.'),
            queue_depth: z.number().positive().default(3.0).describe('Queue depth threshold (every queue), in standard deviations.'),
            response_time: z.number().positive().default(2.5).describe('p95 response time threshold, in standard deviations.'),
            error_rate: z.number().positive().default(4.0).describe('Error rate threshold, in standard deviations.'),
          })
          .prefault({})
          .describe('Per-metric thresholds: how unusual a value must be to count (critical from 1.5 ×); the adaptive detector scales its minimum deviations by threshold / 2.5.'),
        baselineWindow: duration.default(86400).describe('Baseline window of the zscore and mad detectors (the design: 24h); no verdict before a series covers it.'),
      })
      .prefault({})
      .describe('Anomaly detection, when scaling.anomalyDetectionEnabled is on.'),
    decisions: z
      .strictObject({
        rulesFile: z.string().default('rules/scaling.rules.yaml').describe('The scaling rules file (docs/scaling-decisions.md); its min/max can only narrow scaling.resources.'),
        tolerance: z.number().min(0).max(0.99).default(0.1).describe('Changes of at most this share of the replicas are not made (the HPA\'s tolerance).'),
        stabilization: z
          .strictObject({
            scaleUp: duration.optional().describe('Scale up no further than the lowest recommendation of this window (unset: no window, the HPA default).'),
            scaleDown: duration.default(300).describe('Scale down no further than the highest recommendation of this window (the HPA default).'),
          })
          .prefault({})
          .describe('HPA-style stabilization windows.'),
        oscillationWindow: duration.default(1800).describe('Four scaling events alternating within this window count as oscillation, and a further reversal is held.'),
        reactiveFloor: z.boolean().default(true).describe('Never recommend less than the observed load needs now (the rules file\'s demand.observed).'),
        useUpperQuantile: z.boolean().default(true).describe('Scale up on the forecast\'s 90th percentile rather than its median (scale-down always needs the 90th percentile to agree).'),
      })
      .prefault({})
      .describe('How scaling recommendations are decided (rules, damping, forecasts).'),
  })
  .superRefine((config, ctx) => {
    // Cross-field rules. Each issue lists the keys it involves in `params.related`, so that an error
    // caused by an environment variable can name that variable even when the issue sits on another key.
    const seen = new Set<string>();
    config.queues.forEach((queue, index) => {
      if (seen.has(queue.name)) ctx.addIssue({ code: 'custom', path: ['queues', index, 'name'], message: `queue "${queue.name}" is listed twice` });
      seen.add(queue.name);
    });
    const f = config.forecast;
    if (f.history < 2 * f.season) {
      ctx.addIssue({
        code: 'custom',
        path: ['forecast', 'history'],
        message: `must cover at least two forecast.season cycles (2 × ${formatDuration(f.season)}), got ${formatDuration(f.history)}`,
        params: { related: ['forecast.season'] },
      });
    }
    const seenHorizons = new Set<number>();
    for (const [index, horizon] of f.horizons.entries()) {
      if (horizon % f.step !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['forecast', 'horizons', index],
          message: `must be a whole number of forecast.step (${formatDuration(f.step)}), got ${formatDuration(horizon)}`,
          params: { related: ['forecast.step'] },
        });
      }
      // Horizons become label values of published series; a repeated one would publish the same series twice.
      if (seenHorizons.has(horizon)) {
        ctx.addIssue({ code: 'custom', path: ['forecast', 'horizons', index], message: `horizon ${formatDuration(horizon)} is listed twice` });
      }
      seenHorizons.add(horizon);
    }
    if (f.season % f.step !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['forecast', 'season'],
        message: `must be a whole number of forecast.step (${formatDuration(f.step)}), got ${formatDuration(f.season)}`,
        params: { related: ['forecast.step'] },
      });
    }
    // A snapshot is replaced once per cycle; a maximum age below the cycle would report every snapshot stale.
    if (config.snapshot.maxAge <= config.scaling.monitoringInterval) {
      ctx.addIssue({
        code: 'custom',
        path: ['snapshot', 'maxAge'],
        message: `must be longer than scaling.monitoringInterval (${formatDuration(config.scaling.monitoringInterval)}), got ${formatDuration(config.snapshot.maxAge)}`,
        params: { related: ['scaling.monitoringInterval'] },
      });
    }
  });

/** The configuration file as written (before defaults). */
export type ConfigInput = z.input<typeof configSchema>;

/** The validated configuration: every default filled in, every duration in seconds. Deep-frozen once loaded. */
export type Config = z.output<typeof configSchema>;

/** The names of the forecasting models the configuration may choose. */
export type ForecastModelName = (typeof forecastModels)[number];
