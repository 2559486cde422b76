import type { AnomalySeverity as Severity, AnomalyVerdict } from '../anomaly/index.js';
import type { LearnedModelStatus } from './learned-models.js';
import type { HostPointForecast } from './model-host-port.js';
import type { InputRef, Resource } from '../core/index.js';

/** The latest value of one input in a cycle. */
export interface InputValue {
  readonly input: InputRef;
  readonly key: string;
  readonly timestampMs: number;
  readonly value: number;
}

/** One forecast published by a cycle: the value of `seriesKey` at `originMs + horizonSeconds`. */
export interface SeriesForecast extends HostPointForecast {
  readonly seriesKey: string;
  readonly input: InputRef;
  /** Time of the last history point the forecast was made from. */
  readonly originMs: number;
}

/** Backtest accuracy of one model on one series, measured at the last refit. */
export interface ModelAccuracy {
  readonly seriesKey: string;
  readonly model: string;
  /** Mean absolute scaled error (scale: in-sample seasonal naive); below 1 beats seasonal naive. */
  readonly mase: number;
  /** Weighted absolute percentage error as a ratio: Σ|y−ŷ| / Σ|y|. */
  readonly wape: number;
  /** Prediction accuracy in percent: 100 × max(0, 1 − Σ|y−ŷ| / Σ max(|y|, MASE scale)). */
  readonly accuracyPercent: number;
  /** Share of actual values inside [p10, p90]; 0.8 is ideal. */
  readonly coverage: number;
  readonly horizonSeconds: number;
  /** Origins scored. */
  readonly points: number;
  readonly evaluatedAtMs: number;
}

/**
 * Accuracy of the forecasts that have matured (their target time has passed and its actual is
 * known), per series and horizon over a trailing 24 h: the design's "prediction accuracy".
 */
export interface MaturedAccuracyState {
  readonly seriesKey: string;
  readonly horizonSeconds: number;
  /** 100 × max(0, 1 − Σ|y−ŷ| / Σ max(|y|, MASE scale)); NaN when nothing matured yet. */
  readonly accuracyPercent: number;
  readonly wape: number;
  readonly mase: number;
  /** Share of actuals inside [p10, p90]. */
  readonly coverage: number;
  readonly points: number;
  readonly pending: number;
}

/** What one queue looked like in a cycle. */
export interface QueueState {
  readonly queue: string;
  /** The namespace and workload of a workload's queue; absent for the seed's cluster-wide queues. */
  readonly namespace?: string;
  readonly workload?: string;
  /** True for a discovered queue that vanished from its discovery query (kept until it expires). */
  readonly stale?: boolean;
  readonly threshold: number;
  readonly resource: Resource;
  /** Latest readings by queue metric name ("depth", "consumers", ...). */
  readonly current: Readonly<Record<string, number>>;
  /** Forecasts of this queue's depth, one per configured horizon. */
  readonly depthForecasts: readonly SeriesForecast[];
  /** The queue's trend, once the decision stage has seen enough measurements. */
  readonly trend?: QueueTrendState;
}

/** Severity of an anomaly verdict: the design's warning, and critical beyond 1.5 × the threshold. */
export type AnomalySeverity = Severity;

/** The anomaly verdict on one monitored metric in a cycle, as the anomaly module makes it (its fields are documented there). */
export type AnomalyState = AnomalyVerdict;

/** Direction of a scaling decision. */
export type ScalingDirection = 'up' | 'down' | 'hold';

/** The recommendation for one resource in a cycle, with the reasons that produced it. */
export interface ResourceDecision {
  /** The resource; for a workload, the rules profile it was decided with. */
  readonly resource: Resource;
  /** The namespace and name of a configured workload; absent for the seed's five resources. */
  readonly namespace?: string;
  readonly workload?: string;
  /** Observed replicas (pool size for db_connections); null when the source has none. */
  readonly currentReplicas: number | null;
  /** What Foresight recommends now, after rules, cooldowns, damping and clamps. */
  readonly recommendedReplicas: number;
  readonly direction: ScalingDirection;
  /** Reason codes, in the order the stages applied them (a closed set, see decide/). */
  readonly reasons: readonly string[];
  /** Confidence in [0, 1]. */
  readonly confidence: number;
  /** The scaling rule that fired, if any. */
  readonly rule?: string;
  /** True when the action would be an emergency scale-up. */
  readonly emergency?: boolean;
  /** What the change is measured against: the previous recommendation (current replicas at first). */
  readonly baselineReplicas?: number | null;
  /** True when the recommendation differs from the baseline: a scaling action. */
  readonly changed?: boolean;
}

/** The trend of one queue over the last measurements (decide's queue trend analysis). */
export interface QueueTrendState {
  /** The trend class: increasing_rapidly, increasing, stable, volatile, decreasing, decreasing_rapidly. */
  readonly trend: string;
  /** Slope of the least-squares line over the window, messages per second. */
  readonly slopePerSecond: number;
  readonly r2: number;
  readonly volatility: number;
  readonly confidence: number;
  readonly measurements: number;
}

/** A source problem seen in a cycle, in a serialisable form. */
export interface CycleProblem {
  readonly inputKey: string;
  readonly reason: string;
  readonly message: string;
}

/**
 * The immutable result of one successful reconcile cycle: everything every surface publishes.
 * Readers never see a half-built snapshot: a new one replaces the old one in a single assignment.
 */
export interface Snapshot {
  /** Sequence number of the cycle (1 for the first). */
  readonly cycle: number;
  readonly startedAtMs: number;
  readonly completedAtMs: number;
  readonly durationSeconds: number;
  readonly inputs: readonly InputValue[];
  readonly queues: readonly QueueState[];
  readonly forecasts: readonly SeriesForecast[];
  readonly accuracy: readonly ModelAccuracy[];
  /** Accuracy of matured forecasts (what was published, scored against what happened). */
  readonly maturedAccuracy: readonly MaturedAccuracyState[];
  /** Anomaly verdicts (empty when anomaly detection is off). */
  readonly anomalies: readonly AnomalyState[];
  /** One decision per resource (empty when scaling is off). */
  readonly decisions: readonly ResourceDecision[];
  readonly problems: readonly CycleProblem[];
  /** Learned models (LSTM) per series, when they are enabled; absent otherwise. */
  readonly learnedModels?: readonly LearnedModelStatus[];
  /**
   * The Random Forest resource optimizer's recommendation per queue-consuming resource that has a
   * trained model this cycle; only `trusted` ones reach the decisions (as `learned_replicas`).
   * Absent in snapshots not built by the reconciler.
   */
  readonly optimizer?: readonly OptimizerState[];
  /** Queue discovery per workload with a discovery query; absent when none has one. */
  readonly discovery?: readonly DiscoveryState[];
  /** This replica's shard and what it read back of the others; absent unless sharding.replicas > 1. */
  readonly shard?: ShardState;
  /** What is left to read of the history windows (engine/history-window.ts); absent in snapshots not built by the reconciler. */
  readonly history?: HistoryState;
}

/**
 * How much of the history windows is still to be read. A series' first read covers the recent past
 * a forecast needs; the older part of its window (forecast.history) is read in slices over the next cycles.
 */
export interface HistoryState {
  /** Series (forecast series and the LSTM's covariates) whose window is not all read yet. */
  readonly pendingSeries: number;
  /** Grid points of those windows still to be read. */
  readonly pendingPoints: number;
  /** Series whose older slice failed this cycle; it is asked again next cycle. */
  readonly failedSeries: number;
  /** The first of those failures. */
  readonly error?: string;
}

/**
 * A sharded replica's shard, and the other shards' values it read back from the shared store
 * (docs/sharding.md). The read-back values are served by the external-metrics API only: /metrics,
 * /scaling/* and decisions use this replica's own workloads, so that nothing is published twice.
 */
export interface ShardState {
  readonly index: number;
  readonly replicas: number;
  /** Workloads this replica forecasts and decides. */
  readonly ownWorkloads: number;
  readonly readBack: {
    readonly attemptedAtMs: number;
    /** When the store last answered; absent before the first answer. */
    readonly lastSuccessAtMs?: number;
    /** Why the latest read failed (the values of the last good read are kept while young enough). */
    readonly error?: string;
    /** Values read back and served. */
    readonly series: number;
    /** Scrape time of the oldest value served: its age is the lag of the other shards here. */
    readonly oldestSampleMs?: number;
  };
  readonly queues: readonly ReadBackQueue[];
  readonly decisions: readonly ReadBackDecision[];
  readonly anomalies: readonly ReadBackAnomaly[];
}

/** Another shard's queue as read back: its depth forecasts and observed depth, each with its sample time. */
export interface ReadBackQueue {
  readonly namespace: string;
  readonly workload: string;
  readonly queue: string;
  readonly depth?: { readonly value: number; readonly sampleMs: number } | undefined;
  readonly depthForecasts: readonly { readonly horizonSeconds: number; readonly value: number; readonly p10: number; readonly p90: number; readonly sampleMs: number }[];
}

/** Another shard's recommendation for one of its workloads, as read back. */
export interface ReadBackDecision {
  readonly namespace: string;
  readonly workload: string;
  readonly resource: string;
  readonly recommendedReplicas: number;
  readonly sampleMs: number;
}

/** Another shard's anomaly score of one of its workloads' inputs (a queue's depth, the workload's CPU…), as read back. */
export interface ReadBackAnomaly {
  readonly namespace: string;
  readonly workload: string;
  /** One of the monitored metrics (cpu, memory, queue_depth, response_time, error_rate). */
  readonly metric: string;
  /** The queue of a queue-depth score. */
  readonly queue?: string;
  /** In [0, 1]. */
  readonly score: number;
  readonly sampleMs: number;
}

/** What one workload's discovery query found this cycle. */
export interface DiscoveryState {
  readonly namespace: string;
  readonly workload: string;
  /** Discovered queues the query returned this cycle (and that are served). */
  readonly active: number;
  /** Discovered queues that vanished and are kept until discovery.staleAfter. */
  readonly stale: number;
  /** New queues left out because the workload reached discovery.limit. */
  readonly leftOut: number;
  readonly limit: number;
  /** Why the query gave no answer this cycle (the known queues were kept). */
  readonly error?: string;
}

/** One resource optimizer recommendation, as served (see docs/ml-models.md "Random Forest resource optimizer"). */
export interface OptimizerState {
  readonly resource: Resource;
  /** Replicas that cover `predictedLoad` × headroom with the learned per-replica capacity. */
  readonly recommendedReplicas: number;
  /** 0–1. */
  readonly confidence: number;
  /** Confidence reached `scaling.predictionConfidenceThreshold`: the decision engine reads it. */
  readonly trusted: boolean;
  /** Learned work per replica per second at the recommended count. */
  readonly capacityPerReplica: number;
  /** Work per second the recommendation is for (messages/s arriving). */
  readonly predictedLoad: number;
  /** Reason codes of the confidence (learned_capacity, few_saturated_samples, …). */
  readonly reasons: readonly string[];
}

/** A compact record of a past cycle, kept for /scaling/history. */
export interface HistoryEntry {
  readonly cycle: number;
  readonly completedAtMs: number;
  readonly queues: readonly {
    readonly queue: string;
    readonly depth: number | null;
    readonly predicted: readonly {
      readonly horizonSeconds: number;
      /** Time of the last history point the forecast was made from (the grid point, not the cycle's end). */
      readonly originMs: number;
      readonly value: number;
      readonly p10: number;
      readonly p90: number;
    }[];
  }[];
  readonly decisions: readonly ResourceDecision[];
  readonly anomalies: readonly AnomalyState[];
}

/** The outcome of the latest cycle attempt, successful or not. */
export interface CycleStatus {
  readonly lastAttemptAtMs: number;
  readonly lastSuccessAtMs: number | undefined;
  readonly lastError: string | undefined;
  readonly consecutiveFailures: number;
}

/**
 * Holds the latest snapshot and a bounded history. Written only by the engine; read by every
 * surface. Reads are plain property reads, so serving never waits for a cycle.
 */
export class SnapshotStore {
  #latest: Snapshot | undefined;
  #history: HistoryEntry[] = [];
  #status: CycleStatus = { lastAttemptAtMs: 0, lastSuccessAtMs: undefined, lastError: undefined, consecutiveFailures: 0 };
  readonly #retentionMs: number;

  constructor(options: { readonly historyRetentionSeconds: number }) {
    this.#retentionMs = options.historyRetentionSeconds * 1000;
  }

  /** The latest successful snapshot, or undefined before the first success. */
  latest(): Snapshot | undefined {
    return this.#latest;
  }

  /** The outcome of the latest attempt. */
  status(): CycleStatus {
    return this.#status;
  }

  /** History entries completed at or after `sinceMs`, oldest first. */
  history(sinceMs: number): readonly HistoryEntry[] {
    return this.#history.filter((entry) => entry.completedAtMs >= sinceMs);
  }

  /** Publishes a new snapshot. */
  publish(snapshot: Snapshot): void {
    this.#latest = snapshot;
    this.#status = { lastAttemptAtMs: snapshot.startedAtMs, lastSuccessAtMs: snapshot.completedAtMs, lastError: undefined, consecutiveFailures: 0 };
    this.#history.push(toHistoryEntry(snapshot));
    const oldestMs = snapshot.completedAtMs - this.#retentionMs;
    const firstKept = this.#history.findIndex((entry) => entry.completedAtMs >= oldestMs);
    if (firstKept > 0) this.#history = this.#history.slice(firstKept);
  }

  /** Records a failed attempt; the last snapshot stays in place and becomes stale with time. */
  recordFailure(atMs: number, message: string): void {
    this.#status = { ...this.#status, lastAttemptAtMs: atMs, lastError: message, consecutiveFailures: this.#status.consecutiveFailures + 1 };
  }

  /** Age of the latest snapshot at `nowMs`, in seconds (Infinity when there is none). */
  ageSeconds(nowMs: number): number {
    return this.#latest === undefined ? Number.POSITIVE_INFINITY : Math.max(0, (nowMs - this.#latest.completedAtMs) / 1000);
  }
}

function toHistoryEntry(snapshot: Snapshot): HistoryEntry {
  return {
    cycle: snapshot.cycle,
    completedAtMs: snapshot.completedAtMs,
    queues: snapshot.queues.map((queue) => ({
      queue: queue.queue,
      depth: queue.current['depth'] ?? null,
      predicted: queue.depthForecasts.map((f) => ({ horizonSeconds: f.horizonSeconds, originMs: f.originMs, value: f.value, p10: f.p10, p90: f.p90 })),
    })),
    decisions: snapshot.decisions,
    anomalies: snapshot.anomalies.filter((a) => a.isAnomaly),
  };
}
