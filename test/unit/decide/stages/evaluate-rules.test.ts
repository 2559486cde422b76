import { describe, expect, it } from 'vitest';
import { parseScalingRules } from '../../../../src/decide/index.js';
import { evaluateRules } from '../../../../src/decide/stages/evaluate-rules.js';
import { memory, seconds, t0 } from './helpers.js';

const parsed = parseScalingRules(
  `scaling_rules:
  worker_processes:
    scale_up:
      - { name: backlog, condition: "queue_depth > 1000", scaling_factor: 1.5, cooldown_minutes: 3, priority: 50 }
      - { name: hot, condition: "cpu_percent > 90", scaling_factor: 1.2, priority: 10 }
    scale_down:
      - { name: idle, condition: "queue_depth < 10 and cpu_percent < 20", scaling_factor: 0.5 }
`,
  'e.yaml',
);
if (!parsed.ok) throw new Error('rules rejected');
const { table } = parsed.value;
const rules = parsed.value.resources.get('worker_processes')!;
const ctx = (named: Readonly<Record<string, number>>) => {
  const v = table.emptyValues();
  for (const [k, x] of Object.entries(named)) v[table.indexOf(k)!] = x;
  return v;
};
const names = (list: readonly { name: string }[]) => list.map((r) => r.name);

describe('rule evaluation', () => {
  it.each([
    ['both up rules', { queue_depth: 2000, cpu_percent: 95 }, ['backlog', 'hot'], [], [], []],
    ['the down rule', { queue_depth: 5, cpu_percent: 10 }, [], ['idle'], [], []],
    ['nothing', { queue_depth: 500, cpu_percent: 50 }, [], [], [], []],
    ['cpu missing: backlog still decides, hot cannot (idle is false by the queue alone)', { queue_depth: 2000 }, ['backlog'], [], ['hot'], ['rule_undetermined']],
    ['cpu missing and an empty queue: idle cannot be decided', { queue_depth: 5 }, [], [], ['hot', 'idle'], ['rule_undetermined']],
  ] as const)('%s', (_what, named, up, down, undetermined, reasons) => {
    const out = evaluateRules(rules, ctx(named), memory(), t0);
    expect(names(out.up)).toEqual(up);
    expect(names(out.down)).toEqual(down);
    expect(names(out.undetermined)).toEqual(undetermined);
    expect(out.reasons).toEqual(reasons);
  });

  it('sets aside a rule inside its own cooldown, so a lower priority rule can act', () => {
    const recent = memory({ ruleActionsMs: new Map([['backlog', t0]]) });
    const during = evaluateRules(rules, ctx({ queue_depth: 2000, cpu_percent: 95 }), recent, seconds(179));
    expect(names(during.up)).toEqual(['hot']);
    expect(names(during.cooling)).toEqual(['backlog']);
    expect(during.reasons).toEqual(['rule_cooldown']);
    const after = evaluateRules(rules, ctx({ queue_depth: 2000, cpu_percent: 95 }), recent, seconds(180));
    expect(names(after.up)).toEqual(['backlog', 'hot']);
  });
});
