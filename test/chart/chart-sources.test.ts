import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { escapeGoTemplate, generatedDashboardsPath, generatedRulesPath, isPrometheusRuleFile, renderDashboardsTemplate, renderRulesTemplate, repoRoot } from './chart-sources.js';

/** Golden comparison: UPDATE_GOLDEN=1 rewrites the file, and the diff is reviewed. */
function expectCurrent(relPath: string, expected: string): void {
  const path = join(repoRoot, relPath);
  const actual = readFileSync(path, 'utf8');
  if (process.env['UPDATE_GOLDEN'] === '1' && actual !== expected) writeFileSync(path, expected);
  else expect(actual, `${relPath} is stale: run UPDATE_GOLDEN=1 npx vitest run test/chart/chart-sources.test.ts`).toBe(expected);
}

describe('chart copies of the shipped rules and dashboards', () => {
  test('the rules template holds the current alerts/ and rules/', () => expectCurrent(generatedRulesPath, renderRulesTemplate()));
  test('the dashboards template holds the current dashboards/', () => expectCurrent(generatedDashboardsPath, renderDashboardsTemplate()));

  test('escapes every template action and nothing else', () => {
    expect(escapeGoTemplate('{{ $labels.queue }} is {{$value}} }} {')).toBe('{{ "{{" }} $labels.queue }} is {{ "{{" }}$value}} }} {');
  });

  const files: readonly [string, unknown, boolean][] = [
    ['alerting rules', { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0' }] }] }, true],
    ['recording rules', { groups: [{ name: 'g', interval: '30s', rules: [{ record: 'a:b:c', expr: 'sum(b)' }] }] }, true],
    ['scaling rules (not Prometheus rules)', { scaling_rules: [{ name: 'x' }] }, false],
    ['groups without rules', { groups: [{ name: 'g' }] }, false],
    ['a rule that neither records nor alerts', { groups: [{ name: 'g', rules: [{ expr: 'up' }] }] }, false],
    ['no groups', { groups: [] }, false],
  ];
  for (const [name, doc, expected] of files) test(`recognises ${name}: ${expected}`, () => expect(isPrometheusRuleFile(doc)).toBe(expected));
});
