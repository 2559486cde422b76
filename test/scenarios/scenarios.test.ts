import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseDurationSeconds, type Resource, resources } from '../../src/core/index.js';
import { buildDecisionPolicy, type Decision, type DecisionState, decide, formatRulesIssue, initialDecisionState, parseScalingRules, reasonCodes } from '../../src/decide/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { expandSeries } from './series-notation.js';

/**
 * Data-driven scenarios for the whole decision engine (the PromQL rule-test analogue): input
 * series in promtool notation, one value per cycle; a manual clock advances one interval per
 * cycle; expectations name the cycle, the resource and what the decision must say.
 */
const here = dirname(fileURLToPath(import.meta.url));

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const seconds = typeof value === 'number' ? value : parseDurationSeconds(value);
  if (seconds === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${value}` });
    return z.NEVER;
  }
  return seconds;
});
const reason = z.enum(reasonCodes);
const expectation = z.strictObject({
  cycle: z.number().int().nonnegative().optional(),
  from: z.number().int().nonnegative().optional(),
  to: z.number().int().nonnegative().optional(),
  resource: z.enum(resources),
  replicas: z.number().optional(),
  replicas_at_least: z.number().optional(),
  replicas_at_most: z.number().optional(),
  direction: z.enum(['up', 'down', 'hold']).optional(),
  reasons: z.array(reason).default([]),
  not_reasons: z.array(reason).default([]),
  /** At most this many scaling events (changed recommendations) within from..to. */
  max_changes: z.number().int().nonnegative().optional(),
  /** At least this many within from..to. */
  min_changes: z.number().int().nonnegative().optional(),
  confidence: z.number().optional(),
});
const scenarioSchema = z.strictObject({
  description: z.string(),
  interval: duration.default(30),
  cycles: z.number().int().positive(),
  rules: z.string(),
  settings: z.record(z.string(), z.unknown()).default({}),
  queues: z.array(z.strictObject({ queue: z.string(), resource: z.enum(resources), threshold: z.number() })),
  /** Resources whose current replicas follow the recommendation from the next cycle (as an actuator or HPA would). */
  actuate: z.array(z.enum(resources)).default([]),
  input_series: z.array(z.strictObject({ series: z.string(), values: z.string() })),
  forecasts: z
    .array(
      z.strictObject({
        series: z.string(),
        horizon: duration.default(900),
        values: z.string(),
        p10: z.string(),
        p90: z.string(),
        confidence: z.number().optional(),
      }),
    )
    .default([]),
  expect: z.array(expectation).min(1),
});
type Scenario = z.output<typeof scenarioSchema>;

/** The value of a series at a cycle: its last value holds when the series is shorter. */
function at(values: readonly (number | undefined)[], cycle: number): number | undefined {
  return cycle < values.length ? values[cycle] : values[values.length - 1];
}

function run(scenario: Scenario, file: string): Decision[][] {
  const rulesPath = resolve(dirname(file), scenario.rules);
  const rules = parseScalingRules(readFileSync(rulesPath, 'utf8'), rulesPath);
  if (!rules.ok) throw new Error(rules.error.map(formatRulesIssue).join('\n'));
  const policy = buildDecisionPolicy(rules.value, scenario.settings);
  if (!policy.ok) throw new Error(policy.error.join('\n'));
  const series = scenario.input_series.map((s) => ({ key: s.series, values: expandSeries(s.values) }));
  const forecasts = scenario.forecasts.map((f) => ({ ...f, values: expandSeries(f.values), p10: expandSeries(f.p10), p90: expandSeries(f.p90) }));
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12));
  let state: DecisionState = initialDecisionState;
  const actuated = new Map<Resource, number>();
  const history: Decision[][] = [];
  for (let cycle = 0; cycle < scenario.cycles; cycle++) {
    const readings = new Map<string, number>();
    for (const s of series) {
      const value = at(s.values, cycle);
      if (value !== undefined) readings.set(s.key, value);
    }
    for (const [resource, replicas] of actuated) if (readings.has(`replicas/${resource}`)) readings.set(`replicas/${resource}`, replicas);
    const cycleForecasts = forecasts.flatMap((f) => {
      const value = at(f.values, cycle);
      const p10 = at(f.p10, cycle);
      const p90 = at(f.p90, cycle);
      if (value === undefined || p10 === undefined || p90 === undefined) return [];
      return [{ seriesKey: f.series, horizonSeconds: f.horizon, value, p10, p90, ...(f.confidence === undefined ? {} : { confidence: f.confidence }) }];
    });
    const out = decide({ readings, forecasts: cycleForecasts, anomalies: [], queues: scenario.queues }, state, policy.value, clock.nowMs());
    state = out.nextState;
    history.push([...out.decisions]);
    for (const resource of scenario.actuate) {
      const d = out.decisions.find((x) => x.resource === resource)!;
      if (d.currentReplicas !== null) actuated.set(resource, d.recommendedReplicas);
    }
    clock.advance(scenario.interval);
  }
  return history;
}

const files = readdirSync(here)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

describe('decision scenarios', () => {
  it('has the burst, oscillation and outage scenarios', () => {
    expect(files).toEqual(expect.arrayContaining(['burst.yaml', 'oscillating-load.yaml', 'prometheus-outage.yaml']));
  });

  for (const name of files) {
    const file = join(here, name);
    const scenario = scenarioSchema.parse(parse(readFileSync(file, 'utf8')));
    describe(`${name}: ${scenario.description}`, () => {
      const history = run(scenario, file);
      scenario.expect.forEach((e, index) => {
        const from = e.cycle ?? e.from ?? 0;
        const to = e.cycle ?? e.to ?? from;
        it(`expectation ${index + 1}: ${e.resource} in cycles ${from}..${to}`, () => {
          const decisions = history.slice(from, to + 1).map((cycle) => cycle.find((d) => d.resource === e.resource)!);
          expect(decisions.length, 'cycles out of range').toBe(to - from + 1);
          const trail = decisions.map((d, i) => `${from + i}: ${d.currentReplicas}→${d.recommendedReplicas} [${d.reasons.join(', ')}]`).join('\n');
          for (const d of decisions) {
            if (e.replicas !== undefined) expect(d.recommendedReplicas, trail).toBe(e.replicas);
            if (e.replicas_at_least !== undefined) expect(d.recommendedReplicas, trail).toBeGreaterThanOrEqual(e.replicas_at_least);
            if (e.replicas_at_most !== undefined) expect(d.recommendedReplicas, trail).toBeLessThanOrEqual(e.replicas_at_most);
            if (e.direction !== undefined) expect(d.direction, trail).toBe(e.direction);
            for (const r of e.reasons) expect(d.reasons, trail).toContain(r);
            for (const r of e.not_reasons) expect(d.reasons, trail).not.toContain(r);
            if (e.confidence !== undefined) expect(d.confidence, trail).toBeCloseTo(e.confidence, 9);
          }
          const changes = decisions.filter((d) => d.changed).length;
          if (e.max_changes !== undefined) expect(changes, trail).toBeLessThanOrEqual(e.max_changes);
          if (e.min_changes !== undefined) expect(changes, trail).toBeGreaterThanOrEqual(e.min_changes);
        });
      });
    });
  }
});
