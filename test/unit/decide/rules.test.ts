import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resources } from '../../../src/core/index.js';
import { formatRulesIssue, parseScalingRules, type RulesIssue, VariableTable } from '../../../src/decide/index.js';

const shippedPath = fileURLToPath(new URL('../../../policies/scaling.rules.yaml', import.meta.url));

function issues(text: string): readonly RulesIssue[] {
  const parsed = parseScalingRules(text, 'test.rules.yaml');
  if (parsed.ok) throw new Error('the rules were accepted');
  return parsed.error;
}

const rule = (condition: string, extra = '') => `scaling_rules:\n  worker_processes:\n    scale_up:\n      - name: backlog\n        condition: "${condition}"\n        scaling_factor: 1.5\n${extra}`;

describe('the shipped rules file', () => {
  const parsed = parseScalingRules(readFileSync(shippedPath, 'utf8'), 'policies/scaling.rules.yaml');

  it('loads', () => {
    if (!parsed.ok) throw new Error(parsed.error.map(formatRulesIssue).join('\n'));
  });

  it('covers all five resources with the design ranges', () => {
    if (!parsed.ok) return;
    expect([...parsed.value.resources.keys()].sort()).toEqual([...resources].sort());
    const ranges = Object.fromEntries([...parsed.value.resources].map(([r, rules]) => [r, [rules.min, rules.max]]));
    expect(ranges).toEqual({
      worker_processes: [2, 20],
      api_instances: [2, 10],
      batch_processors: [1, 8],
      ml_workers: [1, 6],
      db_connections: [20, 200],
    });
  });

  it('has the design triggers as scale-up conditions that fire just above and not below the trigger', () => {
    if (!parsed.ok) return;
    const { table } = parsed.value;
    const triggers = [
      ['worker_processes', 'queue_depth', 1000],
      ['api_instances', 'response_time_p95_ms', 2000],
      ['batch_processors', 'queue_depth', 5000],
      ['ml_workers', 'queue_depth', 500],
      ['db_connections', 'db_connection_utilization_percent', 80],
    ] as const;
    for (const [resource, variable, trigger] of triggers) {
      const rules = parsed.value.resources.get(resource)!;
      const fires = (value: number): boolean => {
        const values = table.emptyValues();
        values[table.indexOf(variable)!] = value;
        return rules.scaleUp.some((r) => r.condition.evaluate(values) === true);
      };
      expect(fires(trigger * 1.01), `${resource} above ${trigger}`).toBe(true);
      expect(fires(trigger * 0.99), `${resource} below ${trigger}`).toBe(false);
    }
  });

  it('orders rules by priority, highest first', () => {
    if (!parsed.ok) return;
    for (const rules of parsed.value.resources.values()) {
      const priorities = rules.scaleUp.map((r) => r.priority);
      expect(priorities).toEqual([...priorities].sort((a, b) => b - a));
    }
  });
});

describe('rules file errors name the file, the place, the rule and the position', () => {
  it('places an unknown variable at its exact line and column', () => {
    const [issue, ...rest] = issues(rule('queue_depth > 10 and queue_dept > 5'));
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({
      file: 'test.rules.yaml',
      path: 'scaling_rules.worker_processes.scale_up[0].condition',
      rule: 'backlog',
      line: 5,
      column: 42,
      position: 22,
    });
    expect(formatRulesIssue(issue!)).toBe(
      'test.rules.yaml:5:42: scaling_rules.worker_processes.scale_up[0].condition (rule "backlog"), position 22: unknown variable "queue_dept" (did you mean "queue_depth"?)',
    );
  });

  it('reports every problem at once', () => {
    const found = issues(`scaling_rules:
  worker_processes:
    min: 5
    max: 3
    scale_up:
      - name: a
        condition: "constructor.name == 1"
        scaling_factor: 0.5
      - name: a
        condition: "queue_depth > 1"
        scaling_factor: 2
    scale_down:
      - name: b
        condition: "queue_depth < 1"
        scaling_factor: 1.5
        emergency: true
    demand:
      observed: "queue_depth > 1"
`);
    expect(found.map((i) => [i.path, i.message])).toEqual([
      ['scaling_rules.worker_processes.min', 'min (5) must not be greater than max (3)'],
      ['scaling_rules.worker_processes.scale_up[0].scaling_factor', 'a scale_up rule needs a scaling_factor above 1, got 0.5'],
      ['scaling_rules.worker_processes.scale_up[0].condition', 'property access (".") is not part of the rule language'],
      ['scaling_rules.worker_processes.scale_up[1].name', 'rule name "a" is used twice in worker_processes'],
      ['scaling_rules.worker_processes.scale_down[0].scaling_factor', 'a scale_down rule needs a scaling_factor between 0 and 1, got 1.5'],
      ['scaling_rules.worker_processes.scale_down[0].emergency', 'only scale_up rules can be emergencies'],
      ['scaling_rules.worker_processes.demand.observed', 'expected a number, but the expression is a condition'],
    ]);
    expect(found.every((i) => i.line !== undefined)).toBe(true);
  });

  it.each([
    ['an unknown resource', 'scaling_rules:\n  workers: {}\n', 'scaling_rules', /unknown key\(s\) "workers"; expected one of: worker_processes, api_instances/],
    ['an unknown rule key', rule('queue_depth > 1', '        cooldown: 3\n'), 'scaling_rules.worker_processes.scale_up[0]', /unknown key\(s\) "cooldown"/],
    ['a missing condition', 'scaling_rules:\n  ml_workers:\n    scale_up:\n      - { name: x, scaling_factor: 2 }\n', 'scaling_rules.ml_workers.scale_up[0].condition', /missing/],
    ['a factor that is text', rule('queue_depth > 1').replace('1.5', '"1.5"'), 'scaling_rules.worker_processes.scale_up[0].scaling_factor', /number/],
    ['a bad rule name', rule('queue_depth > 1').replace('name: backlog', 'name: Back Log'), 'scaling_rules.worker_processes.scale_up[0].name', /lower-case/],
    ['no scaling_rules', 'constants: {}\n', 'scaling_rules', /missing/],
    ['a constant shadowing a variable', 'constants: { queue_depth: 1 }\nscaling_rules: {}\n', 'constants.queue_depth', /cannot shadow/],
    ['a constant named like a function', 'constants: { max: 1 }\nscaling_rules: {}\n', 'constants.max', /reserved/],
  ])('%s', (_what, text, path, message) => {
    const found = issues(text);
    expect(found.map((i) => i.path)).toContain(path);
    expect(found.find((i) => i.path === path)!.message).toMatch(message);
  });

  it('refuses YAML errors and duplicate keys with their line', () => {
    const [dup] = issues('scaling_rules:\n  ml_workers: {}\n  ml_workers: {}\n');
    expect(dup).toMatchObject({ line: 3 });
    expect(dup!.message).toMatch(/YAML syntax error/);
    expect(issues('scaling_rules: [\n')[0]!.message).toMatch(/YAML syntax error/);
    expect(issues('- a\n- b\n')[0]!.message).toMatch(/expected a mapping/);
  });
});

describe('constants', () => {
  it('can be used in expressions and overridden by the caller', () => {
    const text = 'constants:\n  per_worker: 100\nscaling_rules:\n  worker_processes:\n    demand:\n      observed: "queue_depth / per_worker"\n';
    for (const [override, expected] of [
      [undefined, 5],
      [250, 2],
    ] as const) {
      const parsed = parseScalingRules(text, 'c.yaml', override === undefined ? {} : { constants: { per_worker: override } });
      if (!parsed.ok) throw new Error(parsed.error.map(formatRulesIssue).join('\n'));
      const { table, constants } = parsed.value;
      const values = table.emptyValues();
      values[table.indexOf('queue_depth')!] = 500;
      for (const [name, value] of constants) values[table.indexOf(name)!] = value;
      expect(parsed.value.resources.get('worker_processes')!.demand.observed!.evaluate(values)).toBe(expected);
    }
  });

  it('are unknown to other rule files', () => {
    expect(new VariableTable().indexOf('per_worker')).toBeUndefined();
  });
});

describe('demand expressions', () => {
  it('compile a twin that reads the forecast at its 90th percentile', () => {
    const parsed = parseScalingRules('scaling_rules:\n  ml_workers:\n    demand:\n      forecast: "predicted_queue_depth / 100"\n', 'd.yaml');
    if (!parsed.ok) throw new Error('rejected');
    const demand = parsed.value.resources.get('ml_workers')!.demand;
    const { table } = parsed.value;
    const values = table.emptyValues();
    values[table.indexOf('predicted_queue_depth')!] = 300;
    values[table.indexOf('predicted_queue_depth_p90')!] = 700;
    expect(demand.forecast!.evaluate(values)).toBe(3);
    expect(demand.forecastUpper!.evaluate(values)).toBe(7);
  });
});
