import { type Resource, resources, type Sample } from '../core/index.js';
import type { Decision } from './decision.js';
import type { DecisionInput } from './input.js';
import type { DecisionPolicy, ReplicaRange } from './policy.js';
import type { ResourceRules } from './rules.js';
import { applyReactiveFloor } from './stages/reactive-floor.js';
import { guardAnomalies } from './stages/anomaly-guard.js';
import { clampToRange } from './stages/clamp.js';
import { collectContext, queuesOf } from './stages/collect.js';
import { applyCooldowns } from './stages/cooldown.js';
import { type Draft, replicasFor } from './stages/draft.js';
import { evaluateRules } from './stages/evaluate-rules.js';
import { dampOscillation } from './stages/oscillation.js';
import { type ForecastDemandState, optimise } from './stages/optimise.js';
import { predictContext } from './stages/predict.js';
import { stabilize } from './stages/stabilization.js';
import { applyTolerance } from './stages/tolerance.js';
import { type DecisionState, emptyResourceMemory, type ResourceMemory } from './state.js';
import { analyzeQueueTrend, type QueueTrend } from './trend.js';

/** The trend of one queue, for the API. */
export interface QueueTrendReport extends QueueTrend {
  readonly queue: string;
}

/** What one decide() call returns. */
export interface DecideOutput {
  /** One decision per resource, in the order of `resources` (core). */
  readonly decisions: readonly Decision[];
  /** The state to pass to the next call. */
  readonly nextState: DecisionState;
  /** The trend of every queue of the input. */
  readonly queueTrends: readonly QueueTrendReport[];
}

const forecastVariable = /^predicted_|^forecast_confidence$/;

// The variables each resource's rules read, computed once per compiled rule set.
const readsCache = new WeakMap<ResourceRules, { readonly all: ReadonlySet<string>; readonly forecastRules: ReadonlySet<string> }>();

function readsOf(rules: ResourceRules): { readonly all: ReadonlySet<string>; readonly forecastRules: ReadonlySet<string> } {
  let cached = readsCache.get(rules);
  if (cached === undefined) {
    const all = new Set<string>();
    const forecastRules = new Set<string>();
    for (const rule of [...rules.scaleUp, ...rules.scaleDown]) {
      for (const v of rule.condition.variables) all.add(v);
      if (rule.condition.variables.some((v) => forecastVariable.test(v))) forecastRules.add(rule.name);
    }
    for (const expression of [rules.demand.observed, rules.demand.forecast, rules.demand.forecastUpper]) for (const v of expression?.variables ?? []) all.add(v);
    cached = { all, forecastRules };
    readsCache.set(rules, cached);
  }
  return cached;
}

/** Appends a measurement to a bounded history (oldest first), skipping missing values. */
function remember(history: readonly Sample[] | undefined, value: number, nowMs: number, keep: number): readonly Sample[] {
  const previous = history ?? [];
  if (!Number.isFinite(value)) return previous;
  const next = [...previous.filter((s) => s.timestampMs < nowMs), { timestampMs: nowMs, value }];
  return next.length > keep ? next.slice(next.length - keep) : next;
}

/**
 * One decision cycle, as pure stages: collect → predict → evaluate rules → optimise (one action
 * per resource) → cooldowns → anomaly guard → stabilization windows → tolerance → oscillation
 * damping → reactive floor → min/max clamps. Returns one decision per resource, each with its
 * reasons and a confidence, and the state for the next cycle. No clock, no I/O: `nowMs` is the
 * cycle's time, and the same arguments always give the same result.
 */
export function decide(input: DecisionInput, state: DecisionState, policy: DecisionPolicy, nowMs: number): DecideOutput {
  const keep = policy.trendWindowMeasurements;
  const queueDepths = new Map(state.queueDepths);
  const queueTrends: QueueTrendReport[] = [];
  for (const binding of input.queues) {
    const depth = input.readings.get(`queue/${binding.queue}/depth`) ?? Number.NaN;
    const history = remember(state.queueDepths.get(binding.queue), depth, nowMs, keep);
    queueDepths.set(binding.queue, history);
    queueTrends.push({ queue: binding.queue, ...analyzeQueueTrend(history, keep) });
  }
  const resourceDepths = new Map(state.resourceDepths);
  const memories = new Map(state.resources);
  const decisions: Decision[] = [];
  for (const resource of resources) {
    const queues = queuesOf(input, resource);
    let trend: QueueTrend | undefined;
    if (queues.length > 0) {
      let sum = 0;
      for (const q of queues) sum += input.readings.get(`queue/${q.queue}/depth`) ?? Number.NaN;
      const history = remember(state.resourceDepths.get(resource), sum, nowMs, keep);
      resourceDepths.set(resource, history);
      trend = analyzeQueueTrend(history, keep);
    }
    const memory = state.resources.get(resource) ?? emptyResourceMemory;
    const { decision, memory: nextMemory } = decideResource(resource, input, memory, policy, nowMs, trend);
    memories.set(resource, nextMemory);
    decisions.push(decision);
  }
  return { decisions, nextState: { resources: memories, queueDepths, resourceDepths }, queueTrends };
}

function decideResource(
  resource: Resource,
  input: DecisionInput,
  memory: ResourceMemory,
  policy: DecisionPolicy,
  nowMs: number,
  trend: QueueTrend | undefined,
): { readonly decision: Decision; readonly memory: ResourceMemory } {
  const range = policy.ranges[resource];
  const rules = policy.rules.resources.get(resource);
  const trendField = trend === undefined ? {} : { queueTrend: trend };
  const hasRules = rules !== undefined && rules.scaleUp.length + rules.scaleDown.length > 0;
  const hasDemand = rules !== undefined && (rules.demand.observed !== undefined || rules.demand.forecast !== undefined);
  const observedCurrent = input.readings.get(`replicas/${resource}`);
  const currentOrNull = observedCurrent !== undefined && Number.isFinite(observedCurrent) ? observedCurrent : null;
  const longestWindowMs = Math.max(policy.stabilization.scaleUpSeconds, policy.stabilization.scaleDownSeconds) * 1000;
  const holdAt = { nowMs, longestWindowMs };
  if (rules === undefined || (!hasRules && !hasDemand)) return hold(resource, currentOrNull, 'no_rules', memory, range, trendField, holdAt);

  const { table, constants } = policy.rules;
  const collected = collectContext(input, resource, table, constants, range, trend);
  const reads = readsOf(rules);
  const prediction = predictContext(collected.values, table, input, queuesOf(input, resource), policy, reads.all);
  const values = collected.values;
  const current = collected.currentReplicas;
  if (current === null) return hold(resource, null, collected.readingsPresent === 0 ? 'inputs_missing' : 'current_replicas_missing', memory, range, trendField, holdAt);

  const demand = {
    observed: replicasFor(rules.demand.observed?.evaluate(values) ?? Number.NaN),
    forecast: replicasFor((policy.useUpperQuantile ? rules.demand.forecastUpper : rules.demand.forecast)?.evaluate(values) ?? Number.NaN),
    forecastUpper: replicasFor(rules.demand.forecastUpper?.evaluate(values) ?? Number.NaN),
  };
  const forecastDemand: ForecastDemandState =
    rules.demand.forecast === undefined ? 'none' : !policy.useForecasts ? 'disabled' : Number.isFinite(demand.forecast) && Number.isFinite(demand.forecastUpper) ? 'usable' : 'unavailable';
  const baseline = memory.lastRecommended ?? current;
  const evaluation = evaluateRules(rules, values, memory, nowMs);
  let draft: Draft = {
    resource,
    current,
    baseline,
    replicas: baseline,
    reasons: [...prediction.reasons, ...evaluation.reasons],
    rule: undefined,
    emergency: false,
    confidence: collected.readingsPresent > 0 ? 1 : 0,
    demand,
  };
  draft = optimise(draft, {
    evaluation,
    hasRules,
    forecastDemand,
    forecastConfidence: prediction.confidence,
    ruleReadsForecast: (name) => reads.forecastRules.has(name),
  });
  const proposedReplicas = draft.replicas;
  // On a resource's first cycle the window starts out holding the current replicas, so that a
  // restart of Foresight is never read as "nothing needed more in the last five minutes".
  const past = memory.lastRecommended === undefined ? [{ atMs: nowMs, replicas: current }] : memory.recommendations.filter((r) => nowMs - r.atMs < longestWindowMs);
  const recommendations = [...past, { atMs: nowMs, replicas: proposedReplicas }];
  const criticalSlot = table.indexOf('critical_anomalies');
  const critical = criticalSlot === undefined ? 0 : values[criticalSlot]!;

  draft = applyCooldowns(draft, memory, policy, nowMs);
  draft = guardAnomalies(draft, critical, policy);
  draft = stabilize(draft, proposedReplicas, past, nowMs, policy.stabilization);
  draft = applyTolerance(draft, policy.tolerance);
  draft = dampOscillation(draft, memory.events, nowMs, policy.oscillation.windowSeconds, policy.oscillation.alternatingEvents);
  draft = applyReactiveFloor(draft, policy.reactiveFloor);
  draft = clampToRange(draft, range);

  const replicas = draft.replicas;
  const reasons = draft.reasons.length === 0 ? ['steady' as const] : draft.reasons;
  const changed = replicas !== baseline;
  let nextMemory: ResourceMemory = { ...memory, lastRecommended: replicas, recommendations };
  if (changed) {
    const direction = replicas > baseline ? 'up' : 'down';
    const events = [...memory.events, { atMs: nowMs, direction } as const];
    const ruleActionsMs = new Map(memory.ruleActionsMs);
    if (draft.rule !== undefined && draft.rule.direction === direction) ruleActionsMs.set(draft.rule.name, nowMs);
    nextMemory = {
      ...nextMemory,
      events: events.slice(Math.max(0, events.length - Math.max(policy.oscillation.alternatingEvents, 2))),
      ruleActionsMs,
      ...(direction === 'up' ? { lastScaleUpMs: nowMs } : { lastScaleDownMs: nowMs }),
      ...(direction === 'up' && draft.emergency ? { lastEmergencyMs: nowMs } : {}),
    };
  }
  const decision: Decision = {
    resource,
    currentReplicas: current,
    recommendedReplicas: replicas,
    direction: replicas > current ? 'up' : replicas < current ? 'down' : 'hold',
    reasons,
    confidence: Math.min(1, Math.max(0, draft.confidence)),
    ...(draft.rule === undefined ? {} : { rule: draft.rule.name }),
    ...(draft.emergency ? { emergency: true } : {}),
    baselineReplicas: baseline,
    changed,
    proposedReplicas,
    demand,
    ...trendField,
  };
  return { decision, memory: nextMemory };
}

/**
 * A decision that holds. Without rules there is nothing to decide: the recommendation is the
 * current replicas (within the range). Without inputs, it is what was recommended last (or the
 * minimum before any recommendation). The hold is remembered as a recommendation, so that after an
 * outage the stabilization window still holds it before anything scales down.
 */
function hold(
  resource: Resource,
  current: number | null,
  reason: 'no_rules' | 'inputs_missing' | 'current_replicas_missing',
  memory: ResourceMemory,
  range: ReplicaRange,
  trendField: { readonly queueTrend?: QueueTrend },
  at: { readonly nowMs: number; readonly longestWindowMs: number },
): { readonly decision: Decision; readonly memory: ResourceMemory } {
  const held = reason === 'no_rules' ? (current ?? memory.lastRecommended) : memory.lastRecommended;
  const replicas = Math.min(range.max, Math.max(range.min, held ?? range.min));
  const recommendations = [...memory.recommendations.filter((r) => at.nowMs - r.atMs < at.longestWindowMs && r.atMs < at.nowMs), { atMs: at.nowMs, replicas }];
  const noDemand = { observed: Number.NaN, forecast: Number.NaN, forecastUpper: Number.NaN };
  return {
    decision: {
      resource,
      currentReplicas: current,
      recommendedReplicas: replicas,
      direction: current === null || replicas === current ? 'hold' : replicas > current ? 'up' : 'down',
      reasons: [reason],
      confidence: current === null ? 0 : 1,
      baselineReplicas: memory.lastRecommended ?? current,
      changed: memory.lastRecommended !== undefined && replicas !== memory.lastRecommended,
      proposedReplicas: replicas,
      demand: noDemand,
      ...trendField,
    },
    memory: { ...memory, lastRecommended: replicas, recommendations },
  };
}
