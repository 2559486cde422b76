/**
 * The shipped Prometheus rules, tested like code: promtool lints them and runs the unit tests in
 * this folder; the contract checks below keep every alert documented, tested and built only on
 * published names.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema, loadConfigFromText } from '../../src/config/index.js';
import { metricCatalog } from '../../src/publish/index.js';
import { requireBinaries } from '../support/binaries.js';
import { exposedNames, parsePromql } from '../dashboards/promql-lint.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const alertFiles = readdirSync(join(root, 'alerts'))
  .filter((name) => name.endsWith('.rules.yaml'))
  .map((name) => join('alerts', name));
// Every YAML file in rules/ is a Prometheus rule file, so that a `rule_files: [rules/*.yaml]` glob
// loads (Foresight's own scaling policy lives in policies/).
const recordingFiles = readdirSync(join(root, 'rules'))
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => join('rules', name));
const testFiles = readdirSync(join(root, 'test', 'alerts'))
  .filter((name) => name.endsWith('.test.yaml'))
  .map((name) => join('test', 'alerts', name));
/** Where the runbook sections live (one "## Alert: <Name>" heading each). */
const runbookDoc = 'docs/runbooks.md';
const runbookBase = 'https://github.com/foresight-autoscaler/foresight/blob/main/docs/runbooks.md#';

const ruleSchema = z.union([
  z.strictObject({ record: z.string(), expr: z.string(), labels: z.record(z.string(), z.string()).optional() }),
  z.strictObject({
    alert: z.string(),
    expr: z.string(),
    for: z.string().optional(),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()),
  }),
]);
const ruleFileSchema = z.strictObject({
  groups: z.array(z.strictObject({ name: z.string(), interval: z.string().optional(), rules: z.array(ruleSchema).min(1) })).min(1),
});
type Rule = z.infer<typeof ruleSchema>;
type AlertRule = Extract<Rule, { alert: string }>;

function loadRules(file: string): { group: string; rule: Rule }[] {
  const parsed = ruleFileSchema.parse(parse(readFileSync(join(root, file), 'utf8')));
  return parsed.groups.flatMap((g) => g.rules.map((rule) => ({ group: g.name, rule })));
}

const alerts = alertFiles
  .flatMap(loadRules)
  .map((r) => r.rule)
  .filter((r): r is AlertRule => 'alert' in r);
const recordings = recordingFiles.flatMap(loadRules);
const recordedNames = new Set(recordings.flatMap(({ rule }) => ('record' in rule ? [rule.record] : [])));
const catalogNames = new Set(Object.values(metricCatalog).flatMap(exposedNames));

const testCaseSchema = z.object({
  rule_files: z.array(z.string()),
  tests: z.array(
    z.object({
      alert_rule_test: z.array(z.object({ alertname: z.string(), exp_alerts: z.array(z.unknown()).optional() })).optional(),
      promql_expr_test: z.array(z.object({ expr: z.string() })).optional(),
    }),
  ),
});
const unitTests = testFiles.map((file) => testCaseSchema.parse(parse(readFileSync(join(root, file), 'utf8'))));

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

describe('shipped rule files', () => {
  it('exist', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    expect(recordedNames.size).toBeGreaterThan(0);
  });

  describe.skipIf(!requireBinaries('promtool'))('with promtool', () => {
    it.each([...alertFiles, ...recordingFiles])('%s passes promtool check rules', async (file) => {
      const { stdout } = await run('promtool', ['check', 'rules', file], { cwd: root });
      expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
    });

    it('a rule_files glob over rules/ and alerts/ loads every file (no foreign YAML there)', async () => {
      for (const dir of ['rules', 'alerts']) expect(readdirSync(join(root, dir)).filter((f) => f !== 'README.md' && !f.endsWith('.yaml'))).toEqual([]);
      const { stdout } = await run('sh', ['-c', 'promtool check rules rules/*.yaml alerts/*.yaml'], { cwd: root });
      expect(stdout.match(/SUCCESS: \d+ rules found/g)).toHaveLength(recordingFiles.length + alertFiles.length);
    });

    it.each(testFiles)('%s passes promtool test rules', async (file) => {
      // promtool exits 1 and prints expected and actual alerts when a test fails.
      const result = await run('promtool', ['test', 'rules', file], { cwd: root }).catch((error: { stdout?: string; stderr?: string }) => {
        throw new Error(`promtool test rules ${file} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      });
      expect(result.stdout).toMatch(/SUCCESS/);
    });
  });

  describe('every alert', () => {
    const runbooks = readFileSync(join(root, runbookDoc), 'utf8');
    const anchors = new Set(
      runbooks
        .split('\n')
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) => githubAnchor(line.replace(/^#+ /, ''))),
    );

    it.each(alerts.map((a) => [a.alert, a] as const))('%s has a severity, a summary, a description and a runbook that exists', (name, alert) => {
      expect(name).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(['warning', 'critical', '{{ $labels.severity }}']).toContain(alert.labels['severity']);
      expect(Object.keys(alert.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(alert.annotations['summary']).toMatch(/\.$/);
      expect(alert.annotations['description']!.length).toBeGreaterThan(60);
      const anchor = `alert-${name.toLowerCase()}`;
      expect(alert.annotations['runbook_url']).toBe(`${runbookBase}${anchor}`);
      expect(anchors, `${runbookDoc} has no heading "Alert: ${name}" (anchor #${anchor})`).toContain(anchor);
    });

    it.each(alerts.map((a) => [a.alert] as const))('%s is unit-tested firing and silent', (name) => {
      const cases = unitTests.flatMap((t) => t.tests.flatMap((c) => c.alert_rule_test ?? [])).filter((c) => c.alertname === name);
      expect(
        cases.some((c) => (c.exp_alerts ?? []).length > 0),
        `no promtool test makes ${name} fire`,
      ).toBe(true);
      expect(
        cases.some((c) => (c.exp_alerts ?? []).length === 0),
        `no promtool test checks that ${name} stays silent`,
      ).toBe(true);
    });
  });

  it('every recording rule has a promtool test', () => {
    const tested = unitTests.flatMap((t) => t.tests.flatMap((c) => c.promql_expr_test ?? [])).flatMap((c) => parsePromql(c.expr).metricNames);
    expect([...recordedNames].filter((name) => !tested.includes(name))).toEqual([]);
  });

  it('recording rules are named level:metric:operations', () => {
    for (const name of recordedNames) expect(name).toMatch(/^[a-z_]*:[a-z][a-z0-9_]*:[a-z0-9_]+$/);
    // A rate or increase of a counter drops the _total (Prometheus naming practice).
    for (const name of recordedNames) expect(name).not.toMatch(/_total:/);
  });

  it('alerts and output rules read only published names and recording rules', () => {
    const exprs = [
      ...alerts.map((a) => [a.alert, a.expr] as const),
      ...recordings.filter((r) => r.group === 'foresight-outputs').map((r) => ['record' in r.rule ? r.rule.record : '', r.rule.expr] as const),
    ];
    for (const [name, expr] of exprs) {
      const parsed = parsePromql(expr);
      expect(parsed.errorOffsets, `${name}: ${expr}`).toEqual([]);
      expect(parsed.nameMatchers, name).toEqual([]);
      // `up` is Prometheus' own series about the scrape, read only by ForesightDown.
      const unknown = parsed.metricNames.filter((m) => !catalogNames.has(m) && !recordedNames.has(m) && !(m === 'up' && name === 'ForesightDown'));
      expect(unknown, `${name} reads names that are neither in metricCatalog nor recording rules`).toEqual([]);
    }
  });

  it("rules/README's example configuration is valid and reads only input recording rules", () => {
    const readme = readFileSync(join(root, 'rules', 'README.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const loaded = loadConfigFromText({ text: example!, file: 'rules/README.md', env: {} });
    if (!loaded.ok) throw new Error(loaded.error.message);
    const inputRules = new Set(recordings.filter((r) => r.group === 'foresight-inputs').flatMap(({ rule }) => ('record' in rule ? [rule.record] : [])));
    const { queue, system, performance } = loaded.value.queries;
    const queries = [queue, system, performance].flatMap((group) => Object.values(group) as string[]);
    expect(queries.every((q) => q !== '')).toBe(true);
    for (const query of queries) {
      const parsed = parsePromql(query.replaceAll('{{queue}}', 'q'));
      expect(parsed.errorOffsets, query).toEqual([]);
      expect(parsed.metricNames.length, query).toBeGreaterThan(0);
      for (const name of parsed.metricNames) expect(inputRules.has(name), `${query} reads ${name}`).toBe(true);
    }
    // Every input rule is used by the example, except the exporter-side growth rate: Foresight
    // reads depth and derives growth itself; the rule is for users' own dashboards and rules.
    const notRead = ['queue:rabbitmq_queue_messages_ready:deriv5m'];
    const used = new Set(queries.flatMap((q) => parsePromql(q.replaceAll('{{queue}}', 'q')).metricNames));
    expect([...inputRules].filter((name) => !used.has(name))).toEqual(notRead);
  });

  it('input rules precompute exactly the exporter series the default queries read', () => {
    const queries = configSchema.parse({}).queries;
    const defaults = [queries.queue, queries.system, queries.performance].flatMap((group) => Object.values(group) as string[]);
    // The default templates contain "{{queue}}", which is not PromQL; the quoted form parses.
    const readByDefaults = new Set(defaults.flatMap((q) => parsePromql(q.replaceAll('{{queue}}', 'q')).metricNames));
    const readByRules = new Set(recordings.filter((r) => r.group === 'foresight-inputs').flatMap((r) => parsePromql(r.rule.expr).metricNames));
    expect([...readByRules].filter((m) => !readByDefaults.has(m)).sort()).toEqual([]);
    expect([...readByDefaults].filter((m) => !readByRules.has(m)).sort()).toEqual([]);
  });
});
