import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type express from 'express';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { type Actuator, createActuator } from '../actuate/index.js';
import { buildApi, createExternalMetricsServer, createHttpListener, type ExternalMetricsServer, type HttpListener, type ScalingRulesState } from '../api/index.js';
import type { Config } from '../config/index.js';
import type { Clock } from '../core/index.js';
import {
  createPolicyProvider,
  createWorkloadPolicyProvider,
  inlineModelHost,
  type ModelHostPort,
  ModelProcessPool,
  type ObservationStore,
  nodeTimers,
  ProcessModelHost,
  Reconciler,
  Scheduler,
  SnapshotStore,
  type Timers,
} from '../engine/index.js';
import { tensorCount } from '../forecast/index.js';
import {
  createExternalMetricsInstruments,
  createKedaGrpcServer,
  createKedaMetrics,
  type KedaGrpcServer,
  type KedaMetrics,
  createMetrics,
  type ServiceMetrics,
  createTlsMetrics,
} from '../publish/index.js';
import type { MetricSource } from '../source/index.js';
import { createFileObservationLog, globalModels, lstmOptionsFromConfig, ModelLifecycle, ModelStore } from '../training/index.js';
import { learnedModelsOf } from './learned-models.js';
import { DiscoveryLog } from './discovery-log.js';
import { HistoryLog } from './history-log.js';
import { ConfiguredReadBack, ConfiguredSource } from './source-factory.js';
import { lifecycleEvents } from './training-events.js';

/** Where a relative `decisions.rulesFile` is looked up: the working directory, then the package root (two levels above this file, in src/ and dist/). */
export const rulesBaseDirs: readonly string[] = [process.cwd(), fileURLToPath(new URL('../..', import.meta.url))];

/** Everything the service is built from. Tests pass fakes for `source`, `clock` and `timers`. */
export interface ServiceOptions {
  /** The current configuration (a hot-reloading watcher in production). */
  readonly config: () => Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly build: { readonly version: string; readonly revision: string };
  /** Replaces the configured source (tests). */
  readonly source?: MetricSource;
  readonly timers?: Timers;
  /** The environment, for in-cluster detection (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The composition root: builds every part, wires them and owns their lifetime. Nothing starts
 * until `start()`.
 */
export class Service {
  readonly api: express.Express;
  readonly store: SnapshotStore;
  readonly registry = new Registry();
  readonly metrics: ServiceMetrics;
  readonly reconciler: Reconciler;
  /** Patches workloads from decisions when actuation is enabled (dry-run first); a no-op otherwise. */
  readonly actuator: Actuator;
  readonly kedaMetrics: KedaMetrics;
  /** The external.metrics.k8s.io server on its own HTTPS port (a no-op when disabled). */
  readonly externalMetrics: ExternalMetricsServer;
  /** Loads, retrains (in a low-priority child process) and serves the LSTM of every forecast series. */
  readonly models: ModelLifecycle;
  /** Where the baselines, `auto` and the resource optimizer are fitted and run (a child process unless `forecast.modelProcess` is false). */
  readonly modelHost: ModelHostPort;
  /** The port of the KEDA external-scaler gRPC server once started (undefined when disabled). */
  kedaGrpcPort: number | undefined;
  readonly #keda: KedaGrpcServer;
  readonly #scheduler: Scheduler;
  readonly #options: ServiceOptions;
  /** The HTTP port: plain HTTP, or HTTPS with client certificates (server.tls). */
  readonly #http: HttpListener;
  /** The outcome of the latest compilation of the scaling rules. */
  #rules: ScalingRulesState = { loaded: true };

  constructor(options: ServiceOptions) {
    this.#options = options;
    const { config, clock, logger } = options;
    this.store = new SnapshotStore({ historyRetentionSeconds: config().snapshot.historyRetention });
    this.metrics = createMetrics({
      registry: this.registry,
      store: this.store,
      clock,
      config,
      build: options.build,
      tensorCount: () => {
        const model = this.modelHost.tensorCount();
        return { service: tensorCount(), ...(model === undefined ? {} : { model }) };
      },
      queuedRefits: () => this.modelHost.queuedRefits(),
      modelCpuSeconds: () => this.modelHost.cpuSeconds(),
    });
    // A Service is built from a configuration that loaded: foresight_config_last_reload_successful
    // starts at 1 (as Prometheus' own), so ForesightConfigReloadFailing fires only on a refused reload.
    this.metrics.configReloaded(true, clock.nowMs());
    this.kedaMetrics = createKedaMetrics(this.registry);
    // One instance for both TLS servers: the two families are registered once per registry.
    const tlsMetrics = createTlsMetrics(this.registry);
    this.#keda = createKedaGrpcServer({
      store: this.store,
      clock,
      config,
      logger: logger.child({ module: 'keda' }),
      metrics: this.kedaMetrics,
      tlsMetrics,
      ...(options.timers === undefined ? {} : { timers: options.timers }),
    });
    this.externalMetrics = createExternalMetricsServer({
      store: this.store,
      clock,
      config,
      logger: logger.child({ module: 'external-metrics' }),
      build: options.build,
      metrics: createExternalMetricsInstruments(this.registry),
      tlsMetrics,
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    this.actuator = createActuator({
      config,
      clock,
      logger: logger.child({ module: 'actuate' }),
      metrics: this.metrics.actuation,
      ...(options.timers === undefined ? {} : { timers: options.timers }),
    });
    const source = options.source ?? new ConfiguredSource(config, clock, this.metrics, logger.child({ module: 'source' }));
    const rulesLog = logger.child({ module: 'decide' });
    // A refused rules file shows in the log, in foresight_scaling_rules_last_reload_successful and in /scaling/status.
    // Only one of the two providers decides in a cycle (the seed's rules, or the workloads' rule sets), so they share that state.
    const rulesRefused = (message: string): void => {
      this.metrics.rulesReloaded(false);
      this.#rules = { loaded: false, refusedAtMs: clock.nowMs(), lastError: message };
    };
    const rulesLoaded = (): void => {
      this.metrics.rulesReloaded(true);
      this.#rules = { loaded: true };
    };
    const policy = createPolicyProvider(
      config,
      rulesBaseDirs,
      (message) => {
        rulesLog.error({ problems: message }, 'scaling rules refused; the previous rules keep deciding');
        rulesRefused(message);
      },
      rulesLoaded,
    );
    const workloadPolicies = createWorkloadPolicyProvider(
      config,
      rulesBaseDirs,
      (message) => {
        rulesLog.error({ problems: message }, 'workload rule sets refused; the previous rules keep deciding');
        rulesRefused(message);
      },
      rulesLoaded,
    );
    // The model folder is read once: moving it needs a restart (models already loaded keep serving).
    this.models = new ModelLifecycle({
      store: new ModelStore(config().scaling.modelPath, globalModels),
      lstm: () => lstmOptionsFromConfig(config().ml.lstm),
      fineTune: () => ({ epochs: config().ml.lstm.fineTuneEpochs, maxWindows: config().ml.lstm.fineTuneWindows }),
      retrainIntervalSeconds: () => config().scaling.modelRetrainInterval,
      accuracyThresholdPercent: () => config().ml.accuracyThresholdPercent,
      backend: config().ml.lstm.backend,
      events: lifecycleEvents(this.metrics, logger.child({ module: 'training' })),
    });
    const engineLog = logger.child({ module: 'engine' });
    const discoveryLog = new DiscoveryLog(engineLog);
    const historyLog = new HistoryLog(engineLog);
    // Read once: switching between a child process and the event loop needs a restart.
    const modelProcess = (): ProcessModelHost =>
      new ProcessModelHost({
        onExit: (reason) => engineLog.error({ reason }, 'the model process ended; the next cycle starts a new one and refits every series'),
        callTimeoutSeconds: () => config().forecast.modelProcessTimeout,
      });
    const processes = modelProcessCount(config().forecast.modelProcesses);
    this.modelHost = !config().forecast.modelProcess ? inlineModelHost() : processes === 1 ? modelProcess() : new ModelProcessPool(Array.from({ length: processes }, modelProcess));
    this.reconciler = new Reconciler({
      source,
      clock,
      store: this.store,
      recorder: this.metrics.recorder,
      config,
      policy,
      workloadPolicies,
      learned: learnedModelsOf(this.models, this.modelHost, () => config().ml.lstm.backend),
      models: this.modelHost,
      observations: observationStore(join(config().scaling.modelPath, 'optimizer'), engineLog),
      // Used only when sharding.replicas > 1: the other shards' values, read back from the shared store.
      readBack: new ConfiguredReadBack(config),
    });
    this.#scheduler = new Scheduler({
      runCycle: async () => {
        const snapshot = await this.reconciler.runCycle();
        engineLog.debug({ cycle: snapshot.cycle, durationSeconds: snapshot.durationSeconds, problems: snapshot.problems.length }, 'cycle completed');
        discoveryLog.report(snapshot.discovery ?? []);
        historyLog.report(snapshot.history);
        // Only scheduled cycles act; "evaluate now" from the API only computes.
        await this.actuator.apply(snapshot);
      },
      intervalSeconds: () => config().scaling.monitoringInterval,
      timers: options.timers ?? nodeTimers,
      onError: (err: unknown) => engineLog.warn({ err }, 'cycle failed; keeping the previous snapshot'),
    });
    this.api = buildApi({
      store: this.store,
      exposition: this.metrics.exposition,
      clock,
      config,
      evaluate: () => this.reconciler.runCycle(),
      cycleWaiting: () => this.reconciler.cycleWaiting,
      scalingRules: () => this.#rules,
      build: options.build,
      logger: logger.child({ module: 'api' }),
      kedaMetrics: this.kedaMetrics,
      clientCertificates: () => this.#http.clientCertificates(),
    });
    this.#http = createHttpListener({ app: this.api, config, logger: logger.child({ module: 'api' }), tlsMetrics });
  }

  /** Starts the servers, then the reconcile loop; resolves once every server listens. */
  async start(): Promise<void> {
    // Listeners first: one that cannot start (a port in use, a bad TLS file) fails start() before any cycle runs or acts.
    if (this.#options.config().keda.grpc.enabled) this.kedaGrpcPort = await this.#keda.start();
    await this.externalMetrics.start();
    await this.#http.start();
    await this.actuator.start();
    this.#scheduler.start();
  }

  /** The HTTP base URL (`https://` with server.tls), once started. */
  get url(): string {
    return this.#http.url;
  }

  /** Re-reads the HTTP port's TLS files now (a timer does it every server.tls.reloadInterval). */
  reloadHttpCertificates(): Promise<boolean> {
    return this.#http.reload();
  }

  /** Stops accepting requests, waits for a running cycle, and closes the server. */
  async stop(): Promise<void> {
    await this.#scheduler.stop();
    // Aborts running trainings (their workers end) and frees the models' tensors.
    await this.models.close();
    await this.modelHost.close();
    // Releases the Lease so another replica can take over at once.
    await this.actuator.stop();
    await this.#keda.stop();
    await this.externalMetrics.stop();
    await this.#http.stop();
  }
}

/**
 * The optimizer's observations as JSON Lines files beside the learned models (read once at start,
 * like the model folder). A write that fails is logged and the cycle goes on: the observation is
 * still used from memory, only a restart would miss it.
 */
function observationStore(dir: string, log: Logger): ObservationStore {
  const file = createFileObservationLog(dir, (problem) => log.warn(problem, 'stored optimizer observation skipped'));
  return {
    load: (resource, max) => file.load(resource, max),
    append: (resource, observations, max) => file.append(resource, observations, max).catch((error: unknown) => log.warn({ resource, err: error }, 'could not store an optimizer observation')),
  };
}

/** `forecast.modelProcesses`: "auto" is one per core beyond the first (which serves), at most 4. */
export function modelProcessCount(setting: number | 'auto', cores: number = availableParallelism()): number {
  return setting === 'auto' ? Math.max(1, Math.min(4, cores - 1)) : setting;
}
