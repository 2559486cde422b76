import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { allInputs, type Clock, type InputRef } from '../core/index.js';
import type { ServiceMetrics } from '../publish/index.js';
import { defaultReplayDir, loadReplayDir, type MetricSource, PrometheusSource, ReplaySource, type TimeRange } from '../source/index.js';

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

  #current(): MetricSource {
    const config = this.config();
    const key = JSON.stringify([config.source, config.queries, config.queues]);
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
    const p = config.source.prometheus;
    logger?.info({ url: p.url }, 'reading inputs from Prometheus');
    return new PrometheusSource({
      url: p.url,
      auth:
        p.bearerToken !== undefined
          ? { type: 'bearer', token: p.bearerToken }
          : p.bearerTokenFile !== undefined
            ? { type: 'bearerFile', tokenFile: p.bearerTokenFile }
            : p.basicAuth !== undefined
              ? {
                  type: 'basic',
                  username: p.basicAuth.username,
                  ...(p.basicAuth.password === undefined ? {} : { password: p.basicAuth.password }),
                  ...(p.basicAuth.passwordFile === undefined ? {} : { passwordFile: p.basicAuth.passwordFile }),
                }
              : { type: 'none' },
      headers: p.headers,
      ...(p.tls?.caFile === undefined ? {} : { caFile: p.tls.caFile }),
      timeoutSeconds: p.timeout,
      maxPointsPerQuery: p.maxPointsPerQuery,
      maxResponseBytes: p.maxResponseBytes,
      queueLabel: config.queries.queueLabel,
      queries: { queue: config.queries.queue, system: config.queries.system, performance: config.queries.performance, replicas: config.queries.replicas },
      ...(metrics === undefined ? {} : { onQuery: (event) => metrics.observeQuery(event.kind, event.outcome, event.durationSeconds) }),
    });
  }
  const dir = config.source.replay.dir ?? defaultReplayDir();
  const loaded = loadReplayDir(dir, allInputs(config.queues.map((q) => q.name)));
  for (const problem of loaded.problems) logger?.warn({ problem }, 'skipped a bad row in a replay trace');
  logger?.info({ dir, series: loaded.traces.size }, 'replaying recorded traces (no Prometheus configured)');
  return new ReplaySource({ traces: loaded.traces, clock, speed: config.source.replay.speed });
}
