import { describe, expect, it } from 'vitest';
import { parseScalingRules, type ScalingRule } from '../../../../src/decide/index.js';
import type { RuleEvaluation } from '../../../../src/decide/stages/evaluate-rules.js';
import { type ForecastDemandState, optimise } from '../../../../src/decide/stages/optimise.js';
import { draft } from './helpers.js';

const parsed = parseScalingRules(
  `scaling_rules:
  worker_processes:
    scale_up:
      - { name: emergency, condition: "queue_depth > 5000", scaling_factor: 2, priority: 100, emergency: true }
      - { name: backlog, condition: "queue_depth > 1000", scaling_factor: 1.5, priority: 50 }
      - { name: nudge, condition: "queue_depth > 500", scaling_factor: 1.1, priority: 10 }
      - { name: predicted, condition: "predicted_queue_depth_p90 > 1000", scaling_factor: 1.25, priority: 20 }
    scale_down:
      - { name: drained, condition: "queue_depth < 100", scaling_factor: 0.5, priority: 10 }
`,
  'optimise.yaml',
);
if (!parsed.ok) throw new Error('rules rejected');
const rules = parsed.value.resources.get('worker_processes')!;
const byName = (name: string): ScalingRule => [...rules.scaleUp, ...rules.scaleDown].find((r) => r.name === name)!;

function evaluation(...fired: string[]): RuleEvaluation {
  // As evaluateRules gives them: highest priority first.
  const list = fired.map(byName).sort((a, b) => b.priority - a.priority);
  return { up: list.filter((r) => r.direction === 'up'), down: list.filter((r) => r.direction === 'down'), undetermined: [], cooling: [], reasons: [] };
}

const context = (evaluationValue: RuleEvaluation, forecastDemand: ForecastDemandState = 'none', forecastConfidence = Number.NaN) => ({
  evaluation: evaluationValue,
  hasRules: true,
  forecastDemand,
  forecastConfidence,
  ruleReadsForecast: (name: string) => name === 'predicted',
});

const demand = (observed: number, forecast = Number.NaN, forecastUpper = Number.NaN) => ({ observed, forecast, forecastUpper });

describe('optimise: one action per resource', () => {
  it.each([
    // [what, current, baseline, fired, expected replicas, expected rule, reasons]
    ['the highest-priority up rule wins', 4, 4, ['backlog', 'emergency', 'nudge'], 8, 'emergency', ['emergency_rule']],
    ['factor applied to current replicas, rounded up', 5, 5, ['backlog'], 8, 'backlog', ['scale_up_rule']],
    ['a small factor still adds one replica', 4, 4, ['nudge'], 5, 'nudge', ['scale_up_rule']],
    ['up beats down', 4, 4, ['drained', 'nudge'], 5, 'nudge', ['scale_up_rule']],
    ['down: factor applied and rounded down', 5, 5, ['drained'], 2, 'drained', ['scale_down_rule']],
    ['down removes at least one replica', 1, 1, ['drained'], 0, 'drained', ['scale_down_rule']],
    ['an up rule never lowers a higher previous recommendation', 4, 9, ['backlog'], 9, 'backlog', ['scale_up_rule']],
    ['a down rule never raises a lower previous recommendation', 8, 3, ['drained'], 3, 'drained', ['scale_down_rule']],
    ['nothing fired: hold at the previous recommendation', 4, 6, [], 6, undefined, ['no_rule_fired']],
  ] as const)('%s', (_what, current, baseline, fired, expected, rule, reasons) => {
    const out = optimise(draft({ current, baseline, replicas: baseline }), context(evaluation(...fired)));
    expect(out.replicas).toBe(expected);
    expect(out.rule?.name).toBe(rule);
    expect(out.reasons).toEqual(reasons);
  });

  it('raises to what the forecast needs, with the forecast confidence', () => {
    const out = optimise(draft({ demand: demand(3, 7, 9) }), context(evaluation(), 'usable', 0.8));
    expect(out.replicas).toBe(7);
    expect(out.reasons).toEqual(['no_rule_fired', 'forecast_scale_up']);
    expect(out.confidence).toBe(0.8);
  });

  it('stops a scale-down where the 90th percentile still needs replicas', () => {
    const out = optimise(draft({ current: 8, baseline: 8, replicas: 8, demand: demand(2, 3, 6) }), context(evaluation('drained'), 'usable', 0.9));
    expect(out.replicas).toBe(6);
    expect(out.reasons).toEqual(['scale_down_rule', 'scale_down_limited_by_forecast']);
  });

  it('stops a scale-down where the observed load still needs replicas', () => {
    const out = optimise(draft({ current: 8, baseline: 8, replicas: 8, demand: demand(5) }), context(evaluation('drained')));
    expect(out.replicas).toBe(5);
    expect(out.reasons).toEqual(['scale_down_rule', 'scale_down_limited_by_load']);
  });

  it.each([
    // [what, demand, forecast state, expected]
    ['observed and 90th percentile agree: down to the larger', demand(2, 3, 4), 'usable', 4],
    ['a forecast alone never scales down (observed missing)', demand(Number.NaN, 1, 2), 'usable', 8],
    ['no forecast demand: down on observed', demand(3), 'none', 3],
    ['forecasts off: down on observed', demand(3), 'disabled', 3],
    ['forecast unavailable: down on observed, like the HPA', demand(3), 'unavailable', 3],
    ['the forecast needs more: forecast scale-up to the configured quantile', demand(2, 10, 12), 'usable', 10],
  ] as const)('no rule fired, %s', (_what, d, state, expected) => {
    const out = optimise(draft({ current: 8, baseline: 8, replicas: 8, demand: d }), context(evaluation(), state, 0.9));
    expect(out.replicas).toBe(expected);
  });

  it('a rule that reads a forecast carries the forecast confidence', () => {
    expect(optimise(draft(), context(evaluation('predicted'), 'usable', 0.75)).confidence).toBe(0.75);
    expect(optimise(draft(), context(evaluation('backlog'), 'usable', 0.75)).confidence).toBe(1);
  });
});
