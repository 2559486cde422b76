import type { Config } from '../config/index.js';
import { inputKey } from '../core/index.js';
import type { Decision, QueueTrendReport } from '../decide/index.js';
import type { MaturedAccuracy } from '../forecast/index.js';
import type { SourceProblem } from '../source/index.js';
import type { LearnedModelStatus } from './learned-models.js';
import type { AnomalyState, CycleProblem, InputValue, MaturedAccuracyState, ModelAccuracy, OptimizerState, QueueState, ResourceDecision, SeriesForecast, Snapshot } from './snapshot.js';

/** Everything one successful cycle produced, before it is shaped into a snapshot. */
export interface CycleOutcome {
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
}

/** The immutable snapshot of a cycle: what every surface publishes. */
export function buildSnapshot(config: Config, outcome: CycleOutcome): Snapshot {
  const { startedAtMs, completedAtMs, inputs, forecasts, decided, learnedModels } = outcome;
  return {
    cycle: outcome.cycle,
    startedAtMs,
    completedAtMs,
    durationSeconds: (completedAtMs - startedAtMs) / 1000,
    inputs,
    queues: buildQueues(config, inputs, forecasts, decided?.trends ?? []),
    forecasts,
    accuracy: outcome.accuracy,
    maturedAccuracy: outcome.matured.map(toMaturedAccuracyState),
    anomalies: outcome.anomalies,
    decisions: decided?.decisions ?? [],
    problems: outcome.problems.map(toCycleProblem),
    optimizer: outcome.optimizer,
    ...(learnedModels === undefined ? {} : { learnedModels }),
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

function buildQueues(config: Config, inputs: readonly InputValue[], forecasts: readonly SeriesForecast[], trends: readonly QueueTrendReport[]): QueueState[] {
  return config.queues.map((queue) => {
    const t = trends.find((r) => r.queue === queue.name);
    const current: Record<string, number> = {};
    for (const value of inputs) {
      if (value.input.kind === 'queue' && value.input.queue === queue.name) current[value.input.metric] = value.value;
    }
    return {
      queue: queue.name,
      threshold: queue.threshold,
      resource: queue.resource,
      current,
      depthForecasts: forecasts.filter((f) => f.input.kind === 'queue' && f.input.queue === queue.name && f.input.metric === 'depth'),
      ...(t === undefined || t.measurements === 0
        ? {}
        : { trend: { trend: t.trend, slopePerSecond: t.slopePerSecond, r2: t.r2, volatility: t.volatility, confidence: t.confidence, measurements: t.measurements } }),
    };
  });
}
