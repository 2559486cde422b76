import type { Config } from '../config/index.js';
import { inputKey, queueId } from '../core/index.js';
import type { Decision, QueueTrendReport } from '../decide/index.js';
import type { MaturedAccuracy } from '../forecast/index.js';
import type { SourceProblem } from '../source/index.js';
import type { LearnedModelStatus } from './learned-models.js';
import type { QueueSpec } from './workload-queues.js';
import type {
  AnomalyState,
  CycleProblem,
  DiscoveryState,
  HistoryState,
  InputValue,
  MaturedAccuracyState,
  ModelAccuracy,
  OptimizerState,
  QueueState,
  ResourceDecision,
  SeriesForecast,
  ShardState,
  Snapshot,
} from './snapshot.js';

/** Everything one successful cycle produced, before it is shaped into a snapshot. */
export interface CycleOutcome {
  /** The queues of the cycle (listed and discovered). */
  readonly queues: readonly QueueSpec[];
  readonly discovery: readonly DiscoveryState[];
  readonly cycle: number;
  readonly startedAtMs: number;
  readonly completedAtMs: number;
  readonly inputs: readonly InputValue[];
  readonly forecasts: readonly SeriesForecast[];
  readonly accuracy: readonly ModelAccuracy[];
  readonly matured: readonly MaturedAccuracy[];
  readonly anomalies: readonly AnomalyState[];
  /** Undefined when no decision ran (scaling off, or no policy). */
  readonly decided: { readonly decisions: readonly ResourceDecision[]; readonly trends: readonly QueueTrendReport[] } | undefined;
  readonly problems: readonly SourceProblem[];
  readonly optimizer: readonly OptimizerState[];
  /** Undefined when learned models are off. */
  readonly learnedModels: readonly LearnedModelStatus[] | undefined;
  /** A sharded replica's shard and what it read back of the others; undefined when not sharded. */
  readonly shard?: ShardState | undefined;
  /** What is left to read of the history windows. */
  readonly history?: HistoryState | undefined;
}

/** The immutable snapshot of a cycle: what every surface publishes. */
export function buildSnapshot(_config: Config, outcome: CycleOutcome): Snapshot {
  const { startedAtMs, completedAtMs, inputs, forecasts, decided, learnedModels } = outcome;
  return {
    cycle: outcome.cycle,
    startedAtMs,
    completedAtMs,
    durationSeconds: (completedAtMs - startedAtMs) / 1000,
    inputs,
    queues: buildQueues(outcome.queues, inputs, forecasts, decided?.trends ?? []),
    forecasts,
    accuracy: outcome.accuracy,
    maturedAccuracy: outcome.matured.map(toMaturedAccuracyState),
    anomalies: outcome.anomalies,
    decisions: decided?.decisions ?? [],
    problems: outcome.problems.map(toCycleProblem),
    optimizer: outcome.optimizer,
    ...(learnedModels === undefined ? {} : { learnedModels }),
    ...(outcome.shard === undefined ? {} : { shard: outcome.shard }),
    ...(outcome.discovery.length === 0 ? {} : { discovery: outcome.discovery }),
    ...(outcome.history === undefined ? {} : { history: outcome.history }),
  };
}

/** A decision as the snapshot serves it. */
export function toResourceDecision(d: Decision): ResourceDecision {
  return {
    resource: d.resource,
    currentReplicas: d.currentReplicas,
    recommendedReplicas: d.recommendedReplicas,
    direction: d.direction,
    reasons: d.reasons,
    confidence: d.confidence,
    ...(d.rule === undefined ? {} : { rule: d.rule }),
    ...(d.emergency === undefined ? {} : { emergency: d.emergency }),
    baselineReplicas: d.baselineReplicas,
    changed: d.changed,
  };
}

function toMaturedAccuracyState(m: MaturedAccuracy): MaturedAccuracyState {
  return {
    seriesKey: m.seriesKey,
    horizonSeconds: m.horizonSeconds,
    accuracyPercent: m.accuracyPercent,
    wape: m.wape,
    mase: m.mase,
    coverage: m.coverage,
    points: m.points,
    pending: m.pending,
  };
}

function toCycleProblem(problem: SourceProblem): CycleProblem {
  return { inputKey: inputKey(problem.input), reason: problem.reason, message: problem.message };
}

function buildQueues(queues: readonly QueueSpec[], inputs: readonly InputValue[], forecasts: readonly SeriesForecast[], trends: readonly QueueTrendReport[]): QueueState[] {
  // Indexed once: a linear search per queue would make this quadratic at 1,000 queues.
  const trendById = new Map(trends.map((t) => [t.queue, t]));
  const currentById = new Map<string, Record<string, number>>();
  for (const value of inputs) {
    if (value.input.kind !== 'queue') continue;
    const id = queueId(value.input);
    const current = currentById.get(id) ?? {};
    current[value.input.metric] = value.value;
    currentById.set(id, current);
  }
  const depthById = new Map<string, SeriesForecast[]>();
  for (const f of forecasts) {
    if (f.input.kind !== 'queue' || f.input.metric !== 'depth') continue;
    const id = queueId(f.input);
    depthById.set(id, [...(depthById.get(id) ?? []), f]);
  }
  return queues.map((queue) => {
    const id = queueId(queue);
    const t = trendById.get(id);
    return {
      queue: queue.queue,
      ...(queue.namespace === undefined || queue.workload === undefined ? {} : { namespace: queue.namespace, workload: queue.workload }),
      ...(queue.stale === true ? { stale: true } : {}),
      threshold: queue.threshold,
      resource: queue.resource,
      current: currentById.get(id) ?? {},
      depthForecasts: depthById.get(id) ?? [],
      ...(t === undefined || t.measurements === 0
        ? {}
        : { trend: { trend: t.trend, slopePerSecond: t.slopePerSecond, r2: t.r2, volatility: t.volatility, confidence: t.confidence, measurements: t.measurements } }),
    };
  });
}
