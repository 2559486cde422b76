import type { Logger } from 'pino';
import { type Config, defaultWorkloadQueries } from '../config/index.js';
import { allInputs, type Clock, type InputRef, type WorkloadRef } from '../core/index.js';
import type { ServiceMetrics } from '../publish/index.js';
import {
  defaultReplayDir,
  loadReplayDir,
  type MetricSource,
  PrometheusSource,
  type PublishedRead,
  type PublishedSeriesReader,
  ReplaySource,
  type TimeRange,
  type WorkloadQueries,
} from '../source/index.js';

/**
 * The source named by the current configuration. It is rebuilt when the source settings,
 * queries or queues change on reload, so a reload takes effect from the next cycle.
 */
export class ConfiguredSource implements MetricSource {
  #key = '';
  #source: MetricSource | undefined;

  constructor(
    private readonly config: () => Config,
    private readonly clock: Clock,
    private readonly metrics: ServiceMetrics,
    private readonly logger: Logger,
  ) {}

  readLatest(inputs: readonly InputRef[], atMs: number, signal?: AbortSignal) {
    return this.#current().readLatest(inputs, atMs, signal);
  }

  readHistory(inputs: readonly InputRef[], range: TimeRange, signal?: AbortSignal) {
    return this.#current().readHistory(inputs, range, signal);
  }

  async discoverQueues(workload: WorkloadRef, atMs: number, signal?: AbortSignal) {
    return this.#current().discoverQueues?.(workload, atMs, signal);
  }

  #current(): MetricSource {
    const config = this.config();
    const key = JSON.stringify([config.source, config.queries, config.queues, config.workloads]);
    if (this.#source === undefined || key !== this.#key) {
      this.#source = createSource(config, this.clock, this.metrics, this.logger);
      this.#key = key;
    }
    return this.#source;
  }
}

/**
 * Builds the source the configuration names (the service and `foresight train` both use it).
 * `metrics` times the queries and `logger` reports bad replay rows; both are optional.
 */
export function createSource(config: Config, clock: Clock, metrics?: ServiceMetrics, logger?: Logger): MetricSource {
  if (config.source.type === 'prometheus') {
    logger?.info({ url: config.source.prometheus.url }, 'reading inputs from Prometheus');
    return new PrometheusSource({
      ...prometheusConnection(config.source.prometheus),
      queueLabel: config.queries.queueLabel,
      queries: { queue: config.queries.queue, system: config.queries.system, performance: config.queries.performance, replicas: config.queries.replicas, workloads: workloadQueries(config) },
      ...(metrics === undefined ? {} : { onQuery: (event) => metrics.observeQuery(event.kind, event.outcome, event.durationSeconds) }),
    });
  }
  const dir = config.source.replay.dir ?? defaultReplayDir();
  const loaded = loadReplayDir(dir, allInputs(config.queues.map((q) => q.name)));
  for (const problem of loaded.problems) logger?.warn({ problem }, 'skipped a bad row in a replay trace');
  logger?.info({ dir, series: loaded.traces.size }, 'replaying recorded traces (no Prometheus configured)');
  return new ReplaySource({ traces: loaded.traces, clock, speed: config.source.replay.speed });
}

/** Each workload's templates: its own where set, else the defaults of its kind (inputs) or queries.queue (queues). */
export function workloadQueries(config: Config): WorkloadQueries[] {
  return config.workloads.map((w, index) => {
    const { queue, ...own } = w.queries;
    return {
      namespace: w.namespace,
      workload: w.name,
      where: `workloads[${index}].queries`,
      inputs: { ...defaultWorkloadQueries(w.kind), ...definedOnly(own) },
      queue: { ...config.queries.queue, ...definedOnly(queue) },
      ...(w.discovery === undefined ? {} : { discovery: { query: w.discovery.query, label: w.discovery.label } }),
    };
  });
}

function definedOnly<T extends Record<string, string | undefined>>(values: T): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined));
}

type PrometheusSettings = Config['source']['prometheus'];

/** How to reach a Prometheus-compatible API, from the source.prometheus section (url, authentication, TLS, limits). */
function prometheusConnection(p: PrometheusSettings, url: string = p.url) {
  return {
    url,
    auth:
      p.bearerToken !== undefined
        ? ({ type: 'bearer', token: p.bearerToken } as const)
        : p.bearerTokenFile !== undefined
          ? ({ type: 'bearerFile', tokenFile: p.bearerTokenFile } as const)
          : p.basicAuth !== undefined
            ? ({
                type: 'basic',
                username: p.basicAuth.username,
                ...(p.basicAuth.password === undefined ? {} : { password: p.basicAuth.password }),
                ...(p.basicAuth.passwordFile === undefined ? {} : { passwordFile: p.basicAuth.passwordFile }),
              } as const)
            : ({ type: 'none' } as const),
    headers: p.headers,
    ...(p.tls?.caFile === undefined ? {} : { caFile: p.tls.caFile }),
    timeoutSeconds: p.timeout,
    maxPointsPerQuery: p.maxPointsPerQuery,
    maxResponseBytes: p.maxResponseBytes,
    batchMaxQueries: p.batchMaxQueries,
    gzip: p.gzip,
  };
}

/**
 * Where a sharded replica reads the other shards back: sharding.readBack.url (Thanos Query, Mimir…)
 * or else the source's Prometheus, with source.prometheus' authentication and limits either way.
 * Rebuilt when those settings change on reload.
 */
export class ConfiguredReadBack implements PublishedSeriesReader {
  #key = '';
  #reader: PrometheusSource | undefined;

  constructor(private readonly config: () => Config) {}

  readPublished(matchers: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<PublishedRead> {
    const config = this.config();
    const key = JSON.stringify([config.source.prometheus, config.sharding.readBack.url]);
    if (this.#reader === undefined || key !== this.#key) {
      const p = config.source.prometheus;
      this.#reader = new PrometheusSource({
        ...prometheusConnection(p, config.sharding.readBack.url ?? p.url),
        queries: { queue: config.queries.queue, system: config.queries.system, performance: config.queries.performance, replicas: config.queries.replicas },
      });
      this.#key = key;
    }
    return this.#reader.readPublished(matchers, signal);
  }
}
