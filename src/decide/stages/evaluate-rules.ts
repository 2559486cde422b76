import type { ReasonCode } from '../reasons.js';
import type { ResourceRules, ScalingRule } from '../rules.js';
import type { ResourceMemory } from '../state.js';

/** The outcome of evaluating a resource's rules. */
export interface RuleEvaluation {
  /** Scale-up rules that fired, highest priority first. */
  readonly up: readonly ScalingRule[];
  /** Scale-down rules that fired, highest priority first. */
  readonly down: readonly ScalingRule[];
  /** Rules that could not be decided (an input they read is missing). */
  readonly undetermined: readonly ScalingRule[];
  /** Rules that fired but acted less than their own cooldown ago. */
  readonly cooling: readonly ScalingRule[];
  readonly reasons: readonly ReasonCode[];
}

/**
 * Stage 3, evaluate rules: every condition of the resource against the context. A rule whose
 * condition is undecidable does not fire; a rule that fired but caused a scaling event less than
 * its `cooldown_minutes` ago is set aside, so a lower-priority rule may act instead.
 */
export function evaluateRules(rules: ResourceRules, values: Float64Array, memory: ResourceMemory, nowMs: number): RuleEvaluation {
  const up: ScalingRule[] = [];
  const down: ScalingRule[] = [];
  const undetermined: ScalingRule[] = [];
  const cooling: ScalingRule[] = [];
  for (const rule of [...rules.scaleUp, ...rules.scaleDown]) {
    const truth = rule.condition.evaluate(values);
    if (truth === undefined) {
      undetermined.push(rule);
      continue;
    }
    if (!truth) continue;
    const lastMs = memory.ruleActionsMs.get(rule.name);
    if (rule.cooldownSeconds !== undefined && lastMs !== undefined && nowMs - lastMs < rule.cooldownSeconds * 1000) {
      cooling.push(rule);
      continue;
    }
    (rule.direction === 'up' ? up : down).push(rule);
  }
  const reasons: ReasonCode[] = [];
  if (undetermined.length > 0) reasons.push('rule_undetermined');
  if (cooling.length > 0) reasons.push('rule_cooldown');
  return { up, down, undetermined, cooling, reasons };
}
