import { buildDecisionPolicy, type DecisionPolicy, emptyResourceMemory, type PolicySettings, parseScalingRules, type ResourceMemory } from '../../../../src/decide/index.js';
import type { Draft } from '../../../../src/decide/stages/draft.js';

/** A draft for worker_processes: current 4, baseline 4, proposal 4, unless overridden. */
export function draft(patch: Partial<Draft> = {}): Draft {
  return {
    resource: 'worker_processes',
    current: 4,
    baseline: 4,
    replicas: 4,
    reasons: [],
    rule: undefined,
    emergency: false,
    confidence: 1,
    demand: { observed: Number.NaN, forecast: Number.NaN, forecastUpper: Number.NaN },
    ...patch,
  };
}

/** Memory with the given fields. */
export function memory(patch: Partial<ResourceMemory> = {}): ResourceMemory {
  return { ...emptyResourceMemory, ...patch };
}

/** A policy over an empty rule set with the given settings. */
export function policy(settings: PolicySettings = {}): DecisionPolicy {
  const rules = parseScalingRules('scaling_rules: {}\n', 'empty.yaml');
  if (!rules.ok) throw new Error('empty rules rejected');
  const built = buildDecisionPolicy(rules.value, settings);
  if (!built.ok) throw new Error(built.error.join('; '));
  return built.value;
}

/** A time origin for tables. */
export const t0 = Date.UTC(2026, 0, 1, 12);
export const seconds = (s: number): number => t0 + s * 1000;
