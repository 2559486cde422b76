import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resources } from '../../../src/core/index.js';
import { buildDecisionPolicy, type DecisionInput, type DecisionPolicy, type DecisionState, decide, initialDecisionState, parseScalingRules, type PolicySettings } from '../../../src/decide/index.js';

const shipped = readFileSync(fileURLToPath(new URL('../../../policies/scaling.rules.yaml', import.meta.url)), 'utf8');

function policyFor(text: string, settings: PolicySettings = {}): DecisionPolicy {
  const rules = parseScalingRules(text, 'test.yaml');
  if (!rules.ok) throw new Error('rules rejected');
  const policy = buildDecisionPolicy(rules.value, settings);
  if (!policy.ok) throw new Error(policy.error.join('; '));
  return policy.value;
}

const queues = [{ queue: 'validation', resource: 'worker_processes' as const, threshold: 1000 }];
const input = (readings: Readonly<Record<string, number>>, forecasts: DecisionInput['forecasts'] = []): DecisionInput => ({
  readings: new Map(Object.entries(readings)),
  forecasts,
  anomalies: [],
  queues,
});
const t0 = Date.UTC(2026, 0, 1);
const worker = (out: ReturnType<typeof decide>) => out.decisions.find((d) => d.resource === 'worker_processes')!;

describe('decide', () => {
  const policy = policyFor(shipped);

  it('returns one decision per resource, in a fixed order', () => {
    const out = decide(input({ 'replicas/worker_processes': 2 }), initialDecisionState, policy, t0);
    expect(out.decisions.map((d) => d.resource)).toEqual([...resources]);
  });

  it('scales up on the design trigger with the rule, factor and reasons', () => {
    const out = decide(input({ 'queue/validation/depth': 1200, 'replicas/worker_processes': 4 }), initialDecisionState, policy, t0);
    const d = worker(out);
    // queue_backlog: ceil(4 × 1.5) = 6; demand 1200 / 100 = 12 raises it (the reactive floor).
    expect(d.rule).toBe('queue_backlog');
    expect(d.proposedReplicas).toBe(6);
    expect(d.recommendedReplicas).toBe(12);
    expect(d.direction).toBe('up');
    expect(d.reasons).toContain('scale_up_rule');
    expect(d.reasons.at(-1)).toBe('reactive_floor');
    expect(d.changed).toBe(true);
    expect(d.baselineReplicas).toBe(4);
  });

  it('holds with a reason when no input arrives (a Prometheus outage)', () => {
    const first = decide(input({ 'queue/validation/depth': 300, 'replicas/worker_processes': 5 }), initialDecisionState, policy, t0);
    const outage = decide(input({}), first.nextState, policy, t0 + 30_000);
    for (const d of outage.decisions) {
      expect(d.direction).toBe('hold');
      expect(d.confidence).toBe(0);
    }
    const d = worker(outage);
    expect(d.reasons).toEqual(['inputs_missing']);
    expect(d.recommendedReplicas).toBe(worker(first).recommendedReplicas);
    expect(d.changed).toBe(false);
    expect(d.baselineReplicas).toBe(worker(first).recommendedReplicas);
    expect(d.currentReplicas).toBeNull();
  });

  it('holds when only the current replicas are missing', () => {
    const d = worker(decide(input({ 'queue/validation/depth': 300 }), initialDecisionState, policy, t0));
    expect(d.reasons).toEqual(['current_replicas_missing']);
    expect(d.recommendedReplicas).toBe(2);
  });

  it('is deterministic and never changes the state it is given', () => {
    const state = decide(input({ 'queue/validation/depth': 1500, 'replicas/worker_processes': 3 }), initialDecisionState, policy, t0).nextState;
    const snapshot = JSON.stringify([...state.resources.entries()].map(([k, v]) => [k, { ...v, ruleActionsMs: [...v.ruleActionsMs] }]));
    const next = input({ 'queue/validation/depth': 200, 'replicas/worker_processes': 15 });
    const a = decide(next, state, policy, t0 + 30_000);
    const b = decide(next, state, policy, t0 + 30_000);
    expect(a.decisions).toEqual(b.decisions);
    expect(JSON.stringify([...state.resources.entries()].map(([k, v]) => [k, { ...v, ruleActionsMs: [...v.ruleActionsMs] }]))).toBe(snapshot);
  });

  it('does not flap when the cluster lags behind a recommendation (advisory use)', () => {
    // Recommend a scale-down; the cluster keeps 10 replicas for a while (the HPA waits 5 minutes).
    const simple = policyFor('scaling_rules:\n  worker_processes:\n    demand:\n      observed: "queue_depth / 100"\n', {
      cooldowns: { scaleUpSeconds: 180, scaleDownSeconds: 600, emergencySeconds: 60 },
      stabilization: { scaleUpSeconds: 0, scaleDownSeconds: 0 },
    });
    let state: DecisionState = decide(input({ 'queue/validation/depth': 1000, 'replicas/worker_processes': 10 }), initialDecisionState, simple, t0).nextState;
    const recommended: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const out = decide(input({ 'queue/validation/depth': 300, 'replicas/worker_processes': 10 }), state, simple, t0 + i * 30_000);
      state = out.nextState;
      recommended.push(worker(out).recommendedReplicas);
    }
    // One step down to 3, then it stays there: no bouncing back to the lagging current replicas.
    expect(new Set(recommended)).toEqual(new Set([3]));
  });

  it('reports queue trends for the API', () => {
    let state = initialDecisionState;
    let out = decide(input({ 'queue/validation/depth': 0, 'replicas/worker_processes': 2 }), state, policy, t0);
    for (let i = 1; i < 10; i++) {
      state = out.nextState;
      out = decide(input({ 'queue/validation/depth': 100 * i, 'replicas/worker_processes': 2 }), state, policy, t0 + i * 30_000);
    }
    expect(out.queueTrends).toHaveLength(1);
    expect(out.queueTrends[0]).toMatchObject({ queue: 'validation', trend: 'increasing_rapidly', measurements: 10 });
    expect(worker(out).queueTrend?.slopePerSecond).toBeCloseTo(100 / 30, 9);
  });

  it('scales up ahead of the load on a confident forecast, and not on an unconfident one', () => {
    const forecast = (confidence: number) => [{ seriesKey: 'queue/validation/depth', horizonSeconds: 900, value: 600, p10: 500, p90: 800, confidence }];
    const confident = worker(decide(input({ 'queue/validation/depth': 100, 'replicas/worker_processes': 2 }, forecast(0.9)), initialDecisionState, policy, t0));
    // At the 90th percentile: ceil(800 / 100) = 8 replicas, before the queue is there.
    expect(confident.recommendedReplicas).toBe(8);
    expect(confident.reasons).toContain('forecast_scale_up');
    expect(confident.confidence).toBe(0.9);
    const doubtful = worker(decide(input({ 'queue/validation/depth': 100, 'replicas/worker_processes': 2 }, forecast(0.5)), initialDecisionState, policy, t0));
    expect(doubtful.recommendedReplicas).toBe(2);
    expect(doubtful.reasons).toContain('forecast_low_confidence');
  });

  it('scales up on the median forecast when the upper quantile is switched off', () => {
    const median = policyFor(shipped, { useUpperQuantile: false });
    const f = [{ seriesKey: 'queue/validation/depth', horizonSeconds: 900, value: 600, p10: 500, p90: 800, confidence: 0.9 }];
    expect(worker(decide(input({ 'queue/validation/depth': 100, 'replicas/worker_processes': 2 }, f), initialDecisionState, median, t0)).recommendedReplicas).toBe(6);
  });

  it('does not scale down right after starting (the window starts full of the current replicas)', () => {
    const d = worker(decide(input({ 'queue/validation/depth': 0, 'replicas/worker_processes': 12 }), initialDecisionState, policy, t0));
    expect(d.recommendedReplicas).toBe(12);
    expect(d.reasons).toContain('stabilized_scale_down');
  });
});

describe('buildDecisionPolicy', () => {
  const rules = parseScalingRules(shipped, 'policies/scaling.rules.yaml');
  if (!rules.ok) throw new Error('rejected');

  it('narrows the configured range by the rules file', () => {
    const built = buildDecisionPolicy(rules.value, { ranges: { worker_processes: { min: 1, max: 40 }, ml_workers: { min: 2, max: 4 } } });
    expect(built.ok && built.value.ranges.worker_processes).toEqual({ min: 2, max: 20 });
    expect(built.ok && built.value.ranges.ml_workers).toEqual({ min: 2, max: 4 });
  });

  it('refuses ranges that do not overlap, and bad settings, naming them', () => {
    const built = buildDecisionPolicy(rules.value, { ranges: { ml_workers: { min: 7, max: 9 } }, tolerance: 1.5, oscillation: { windowSeconds: 60, alternatingEvents: 1 } });
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.error.join('\n')).toMatch(/ml_workers: the configured range 7–9 and the range in policies\/scaling.rules.yaml \(1–6\) do not overlap/);
    expect(built.error.join('\n')).toMatch(/tolerance must be in \[0, 1\), got 1.5/);
    expect(built.error.join('\n')).toMatch(/alternatingEvents must be a whole number >= 2, got 1/);
  });
});
