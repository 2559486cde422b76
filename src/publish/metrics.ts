import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import { type Clock, implausibleReasons, type Resource } from '../core/index.js';
import type { Recorder, SnapshotStore } from '../engine/index.js';
import { type MetricDefinition, metricCatalog } from './metric-catalog.js';
import { SnapshotExposition, workloadLabels } from './snapshot-families.js';

export * from './metric-catalog.js';
export * from './tls-metrics.js';

const newline = Buffer.from('\n');

/** What the metrics read at scrape time. */
export interface MetricsDeps {
  readonly registry: Registry;
  readonly store: SnapshotStore;
  readonly clock: Clock;
  readonly config: () => Config;
  readonly build: { readonly version: string; readonly revision: string };
  /**
   * Tensors alive in TensorFlow.js: in this process (forecast's `tensorCount`; 0 without it) and in
   * the model process, when there is one and it has answered.
   */
  readonly tensorCount?: () => { readonly service: number; readonly model?: number };
  /** Series waiting for a background refit in the model processes (undefined before they answer). */
  readonly queuedRefits?: () => number | undefined;
  /** CPU seconds the model processes spent answering calls and refitting in the background (totals that only grow). */
  readonly modelCpuSeconds?: () => { readonly callsSeconds: number; readonly refitsSeconds: number };
}

/** What /metrics serves. */
export interface MetricsExposition {
  readonly contentType: string;
  /**
   * The body as UTF-8 bytes in parts, to be sent one after the other: the snapshot's part is the
   * same buffer every scrape until the next cycle, neither encoded nor copied again.
   */
  body(): Promise<readonly Buffer[]>;
  /** The same as text. */
  text(): Promise<string>;
}

/** The metrics that the rest of the service updates as events happen, and their exposition. */
export interface ServiceMetrics {
  /**
   * /metrics: the registry's families (counters, histograms, the runtime's, the gauges read at
   * scrape time), then the snapshot's, whose text is made once per snapshot (snapshot-families.ts).
   */
  readonly exposition: MetricsExposition;
  /** The engine's recorder, backed by the catalog's counters and histograms. */
  readonly recorder: Recorder;
  /** Times one source query (the hook given to the source). */
  observeQuery(kind: 'instant' | 'range', outcome: 'success' | 'error', durationSeconds: number): void;
  /** Reports the outcome of a configuration (re)load. */
  configReloaded(successful: boolean, atMs: number): void;
  /** Records whether the scaling rules of a new configuration compiled. */
  rulesReloaded(successful: boolean): void;
  /** Actuation events (the shape of actuate's ActuationMetrics, so publish needn't import it). */
  readonly actuation: {
    patched(resource: Resource, outcome: 'applied' | 'dry_run' | 'failed' | 'skipped_not_leader'): void;
    setLeader(isLeader: boolean): void;
  };
  /** Learned-model lifecycle events (training's ModelLifecycle events map onto these). */
  readonly learned: {
    trained(seriesKey: string, model: string, trainedAtMs: number, durationSeconds: number): void;
    /** A stored model was loaded at start-up: its training time, without a training duration (none ran). */
    loaded(seriesKey: string, model: string, trainedAtMs: number): void;
    failed(model: string, reason: string): void;
    forget(seriesKey: string, model: string): void;
  };
}

/**
 * Registers the catalog's live families on `registry` and writes the snapshot's beside them. The
 * families that describe the snapshot are written from the latest snapshot alone, so /metrics
 * always shows one consistent cycle, and series of queues removed from the configuration
 * disappear with the next cycle's snapshot.
 */
export function createMetrics(deps: MetricsDeps): ServiceMetrics {
  const { registry, store, clock } = deps;
  const registers = [registry];
  const gauge = (d: MetricDefinition, collect?: (g: Gauge) => void): Gauge =>
    new Gauge({
      name: d.name,
      help: d.help,
      labelNames: d.labelNames,
      registers,
      ...(collect === undefined
        ? {}
        : {
            collect(this: Gauge) {
              this.reset();
              collect(this);
            },
          }),
    });
  const c = metricCatalog;
  // The runtime's own series (process_* and nodejs_*: CPU, resident memory, open file descriptors,
  // heap, event-loop lag, GC), named as every Node.js exporter names them, so that the standard
  // dashboards and the ForesightDown triage work. Listed in docs/metrics.md apart from the catalog.
  collectDefaultMetrics({ register: registry });
  // Three of them are gauges named like counters, which `promtool check metrics` rejects; their
  // per-type breakdowns (nodejs_active_handles{type}, …) carry the same information.
  for (const misnamed of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(misnamed);

  // The seed's thresholds come from the configuration, so they show even before the first cycle;
  // workloads' queues (some discovered) from the snapshot.
  gauge(c.queueDepthThreshold, (g) => {
    const config = deps.config();
    if (config.workloads.length === 0) for (const q of config.queues) g.set({ queue: q.name }, q.threshold);
    else for (const q of store.latest()?.queues ?? []) g.set({ queue: q.queue, ...workloadLabels(q) }, q.threshold);
  });
  gauge(c.buildInfo).set({ version: deps.build.version, revision: deps.build.revision, nodejs_version: process.version }, 1);
  gauge(c.sourceUp, (g) => {
    const status = store.status();
    if (status.lastAttemptAtMs > 0) g.set(status.lastError === undefined ? 1 : 0);
  });
  // Read at scrape time: the age grows between cycles.
  gauge(c.shardReadBackAge, (g) => {
    const oldest = store.latest()?.shard?.readBack.oldestSampleMs;
    if (oldest !== undefined) g.set(Math.max(0, (clock.nowMs() - oldest) / 1000));
  });
  gauge(c.snapshotAge, (g) => {
    const age = store.ageSeconds(clock.nowMs());
    if (Number.isFinite(age)) g.set(age);
  });
  gauge(c.snapshotStale, (g) => {
    g.set(store.ageSeconds(clock.nowMs()) > deps.config().snapshot.maxAge ? 1 : 0);
  });
  gauge(c.lastSuccess, (g) => {
    const at = store.status().lastSuccessAtMs;
    if (at !== undefined) g.set(at / 1000);
  });

  const queryDuration = new Histogram({
    name: c.sourceQueryDuration.name,
    help: c.sourceQueryDuration.help,
    labelNames: c.sourceQueryDuration.labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const problems = new Counter({ name: c.sourceProblems.name, help: c.sourceProblems.help, labelNames: c.sourceProblems.labelNames, registers });
  for (const reason of ['empty', 'multiple_series', 'not_finite', 'query_failed']) problems.inc({ reason }, 0);
  const rejectedSamples = new Counter({ name: c.sourceRejectedSamples.name, help: c.sourceRejectedSamples.help, labelNames: c.sourceRejectedSamples.labelNames, registers });
  const readBackFailures = new Counter({ name: c.shardReadBackFailures.name, help: c.shardReadBackFailures.help, registers });
  const readBackRejected = new Counter({ name: c.shardReadBackRejected.name, help: c.shardReadBackRejected.help, labelNames: c.shardReadBackRejected.labelNames, registers });
  const rejectedForecasts = new Counter({ name: c.forecastRejected.name, help: c.forecastRejected.help, labelNames: c.forecastRejected.labelNames, registers });
  for (const reason of ['not_finite', 'implausible']) rejectedForecasts.inc({ reason }, 0);
  const cycleDuration = new Histogram({
    name: c.cycleDuration.name,
    help: c.cycleDuration.help,
    labelNames: c.cycleDuration.labelNames,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const cycles = new Counter({ name: c.cycles.name, help: c.cycles.help, labelNames: c.cycles.labelNames, registers });
  for (const outcome of ['success', 'failure']) cycles.inc({ outcome }, 0);
  const fitDuration = new Histogram({
    name: c.modelFitDuration.name,
    help: c.modelFitDuration.help,
    labelNames: c.modelFitDuration.labelNames,
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers,
  });
  const actions = new Counter({ name: c.scalingActions.name, help: c.scalingActions.help, labelNames: c.scalingActions.labelNames, registers });
  const decisionTime = new Histogram({ name: c.decisionTime.name, help: c.decisionTime.help, buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers });
  const anomalies = new Counter({ name: c.anomaliesDetected.name, help: c.anomaliesDetected.help, labelNames: c.anomaliesDetected.labelNames, registers });
  const actuationPatches = new Counter({ name: c.actuationPatches.name, help: c.actuationPatches.help, labelNames: c.actuationPatches.labelNames, registers });
  const leader = gauge(c.leader);
  leader.set(0);
  const reloadOk = gauge(c.configReloadSuccessful);
  const reloadAt = gauge(c.configReloadTimestamp);
  const rulesOk = gauge(c.rulesReloadSuccessful);
  gauge(c.tfjsTensors, (g) => {
    const counts = deps.tensorCount?.();
    g.set({ process: 'service' }, counts?.service ?? 0);
    if (counts?.model !== undefined) g.set({ process: 'model' }, counts.model);
  });
  gauge(c.modelRefitsQueued, (g) => {
    g.set(deps.queuedRefits?.() ?? 0);
  });
  // Totals kept by the model host: the counter is moved up to them at each scrape.
  const modelCpuCounted = { calls: 0, refits: 0 };
  new Counter({
    name: c.modelProcessCpu.name,
    help: c.modelProcessCpu.help,
    labelNames: c.modelProcessCpu.labelNames,
    registers,
    collect() {
      const now = deps.modelCpuSeconds?.();
      if (now === undefined) return;
      for (const [work, seconds] of [
        ['calls', now.callsSeconds],
        ['refits', now.refitsSeconds],
      ] as const) {
        if (seconds > modelCpuCounted[work]) this.inc({ work }, seconds - modelCpuCounted[work]);
        modelCpuCounted[work] = Math.max(modelCpuCounted[work], seconds);
      }
    },
  });
  const trainedAt = gauge(c.modelTrainedTimestamp);
  const trainingDuration = new Histogram({
    name: c.modelTrainingDuration.name,
    help: c.modelTrainingDuration.help,
    labelNames: c.modelTrainingDuration.labelNames,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers,
  });
  const trainingFailures = new Counter({ name: c.modelTrainingFailures.name, help: c.modelTrainingFailures.help, labelNames: c.modelTrainingFailures.labelNames, registers });

  const snapshotText = new SnapshotExposition();
  const body = async (): Promise<readonly Buffer[]> => [Buffer.from(`${await registry.metrics()}\n`, 'utf8'), snapshotText.bytes(store.latest()), newline];
  return {
    exposition: {
      contentType: registry.contentType,
      body,
      text: async () => Buffer.concat(await body()).toString('utf8'),
    },
    recorder: {
      cycleFinished(outcome, durationSeconds) {
        cycles.inc({ outcome });
        cycleDuration.observe({ outcome }, durationSeconds);
      },
      sourceProblem(reason) {
        problems.inc({ reason });
      },
      sourceRejected(inputKey, reason, count) {
        rejectedSamples.inc({ input: inputKey, reason }, count);
      },
      seriesForgotten(inputKeys) {
        // Without this, every discovered queue that ever had a refused sample would keep its series.
        for (const input of inputKeys) for (const reason of implausibleReasons) rejectedSamples.remove({ input, reason });
      },
      readBack(outcome) {
        if (outcome === 'failure') readBackFailures.inc();
      },
      readBackRejected(reason, count) {
        readBackRejected.inc({ reason }, count);
      },
      forecastRejected(_seriesKey, reason) {
        rejectedForecasts.inc({ reason });
      },
      modelFitted(_seriesKey, model, durationSeconds) {
        fitDuration.observe({ model }, durationSeconds);
      },
      decided(decisions, durationSeconds) {
        decisionTime.observe(durationSeconds);
        // A recommendation the cluster has not followed yet repeats every cycle: count changes only.
        for (const d of decisions) {
          if (d.changed !== true) continue;
          const up = d.baselineReplicas === null || d.baselineReplicas === undefined || d.recommendedReplicas > d.baselineReplicas;
          actions.inc({ resource: d.resource, direction: up ? 'up' : 'down' });
        }
      },
      anomaliesScored(verdicts) {
        for (const a of verdicts) if (a.isAnomaly) anomalies.inc({ metric: a.metric, severity: a.severity });
      },
    },
    observeQuery(kind, outcome, durationSeconds) {
      queryDuration.observe({ kind, outcome }, durationSeconds);
    },
    actuation: {
      patched(resource, outcome) {
        actuationPatches.inc({ resource, outcome });
      },
      setLeader(isLeader) {
        leader.set(isLeader ? 1 : 0);
      },
    },
    learned: {
      trained(seriesKey, model, trainedAtMs, durationSeconds) {
        trainedAt.set({ series: seriesKey, model }, trainedAtMs / 1000);
        trainingDuration.observe({ model }, durationSeconds);
      },
      loaded(seriesKey, model, trainedAtMs) {
        trainedAt.set({ series: seriesKey, model }, trainedAtMs / 1000);
      },
      failed(model, reason) {
        trainingFailures.inc({ model, reason });
      },
      forget(seriesKey, model) {
        trainedAt.remove({ series: seriesKey, model });
      },
    },
    configReloaded(successful, atMs) {
      reloadOk.set(successful ? 1 : 0);
      if (successful) reloadAt.set(atMs / 1000);
    },
    rulesReloaded(successful) {
      rulesOk.set(successful ? 1 : 0);
    },
  };
}
