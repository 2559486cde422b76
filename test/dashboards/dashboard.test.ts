/**
 * Structure of the shipped dashboard: Foresight's conventions (style-anchors §4.3, dashboard-linter's
 * rules) and the metric contract. Running every query against a real Prometheus is in
 * dashboard-queries.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { metricCatalog } from '../../src/publish/index.js';
import { dataPanels, intervalVariables, loadDashboard, outputRecordingRules, templatedDatasource } from './dashboard-spec.js';
import { exposedNames, leftoverVariables, parsePromql, substituteVariables } from './promql-lint.js';

const dashboard = loadDashboard();
const panels = dataPanels(dashboard);
const targets = panels.flatMap((panel) => panel.targets.map((target) => ({ panel, target })));
const catalogNames = new Set(Object.values(metricCatalog).flatMap(exposedNames));
const recorded = outputRecordingRules();
/** Values for every variable the dashboard defines, as Grafana would substitute them. */
const variableValues = { ...intervalVariables, datasource: 'prometheus', cluster: '.*', namespace: '.*', job: 'foresight', queue: '.+', horizon: '15m' };

describe('the Grafana dashboard', () => {
  it('has a stable identity and a pinned schema version', () => {
    expect(dashboard.uid).toBe('foresight-predictive-scaling');
    expect(dashboard.id).toBeNull();
    expect(dashboard.title).toBe('Predictive Auto-Scaling Dashboard');
    // Grafana rewrites schemaVersion on save; a change here means the file was re-exported by
    // another Grafana version, which deserves a look at the diff.
    expect(dashboard.schemaVersion).toBe(39);
  });

  it('has exactly one datasource variable, named datasource, and a multi-value queue variable', () => {
    const datasources = dashboard.templating.list.filter((v) => v.type === 'datasource');
    expect(datasources).toHaveLength(1);
    expect(datasources[0]).toMatchObject({ name: 'datasource', label: 'Data Source', query: 'prometheus' });
    const queue = dashboard.templating.list.find((v) => v.name === 'queue');
    expect(queue).toMatchObject({ type: 'query', multi: true, includeAll: true, allValue: '.+' });
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['datasource', 'job', 'queue', 'horizon']));
    expect(new Set(dashboard.templating.list.map((v) => v.name)).size).toBe(dashboard.templating.list.length);
  });

  it('narrows by cluster, then namespace, then job, and every query selects by all three', () => {
    const byName = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    expect(dashboard.templating.list.map((v) => v.name).slice(0, 4)).toEqual(['datasource', 'cluster', 'namespace', 'job']);
    // All is ".*", which also matches series without the label: a single cluster without a cluster label works as is.
    for (const name of ['cluster', 'namespace']) expect(byName.get(name)).toMatchObject({ type: 'query', multi: true, includeAll: true, allValue: '.*' });
    const scope = 'cluster=~"$cluster",namespace=~"$namespace",job=~"$job"';
    expect(byName.get('namespace')).toMatchObject({ definition: 'label_values(foresight_build_info{cluster=~"$cluster"}, namespace)' });
    expect(byName.get('job')).toMatchObject({ definition: 'label_values(foresight_build_info{cluster=~"$cluster",namespace=~"$namespace"}, job)' });
    for (const v of dashboard.templating.list) if (v.type === 'query' && !['cluster', 'namespace', 'job'].includes(v.name)) expect(v.definition).toContain(`{${scope}`);
    for (const { panel, target } of targets) {
      const selectors = [...target.expr.matchAll(/[a-z_:]+\{([^}]*)\}/g)].map((m) => m[1]!);
      expect(selectors.length, panel.title).toBeGreaterThan(0);
      for (const selector of selectors) expect(selector.startsWith(scope), `${panel.title}: ${target.expr}`).toBe(true);
    }
  });

  it('has unique panel ids, a unit on every panel and no overlapping panels', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) expect(panel.fieldConfig.defaults.unit, panel.title).not.toBe('');
    const boxes = dashboard.panels.map((p) => ({ title: p.title, ...p.gridPos }));
    for (const [i, a] of boxes.entries()) {
      expect(a.x + a.w, a.title).toBeLessThanOrEqual(24);
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `"${a.title}" overlaps "${b.title}"`).toBe(false);
      }
    }
  });

  it('shows the design panels', () => {
    const titles = panels.map((p) => p.title);
    for (const expected of [
      'Scaling actions',
      'Scaling success rate',
      'Queue depth: current vs predicted — $queue',
      'Resource utilisation',
      'Scaling decisions',
      'Anomalies detected',
      'Prediction accuracy of matured forecasts',
      'Snapshot age',
    ]) {
      expect(titles).toContain(expected);
    }
    expect(panels.find((p) => p.title === 'Resource utilisation')?.type).toBe('heatmap');
    // The p10–p90 band is the fill between the p10 and p90 series.
    const depth = panels.find((p) => p.title.startsWith('Queue depth: current vs predicted'))!;
    expect(depth.repeat).toBe('queue');
    expect(depth.targets.map((t) => t.legendFormat)).toEqual(['current', 'predicted +{{horizon}}', 'p10', 'p90', 'threshold']);
    expect(JSON.stringify(depth.fieldConfig.overrides)).toContain('"id":"custom.fillBelowTo","value":"p10"');
  });

  it.each(targets.map(({ panel, target }) => [`${panel.title} / ${target.refId}`, panel, target] as const))(
    '%s: uses the templated datasource, $__rate_interval, and parses',
    (_name, panel, target) => {
      expect(panel.datasource).toEqual(templatedDatasource);
      expect(target.datasource).toEqual(templatedDatasource);
      // Range selectors follow the time picker: $__rate_interval for rates, $__range for totals.
      for (const [, range] of target.expr.matchAll(/\[([^\]]*)\]/g)) expect(['$__rate_interval', '$__range']).toContain(range);
      const expr = substituteVariables(target.expr, variableValues);
      expect(leftoverVariables(expr)).toEqual([]);
      const parsed = parsePromql(expr);
      expect(parsed.errorOffsets, expr).toEqual([]);
      expect(parsed.nameMatchers).toEqual([]);
      expect(parsed.metricNames.length).toBeGreaterThan(0);
      const unknown = parsed.metricNames.filter((name) => !catalogNames.has(name) && !recorded.has(name));
      expect(unknown, `not in metricCatalog nor a foresight-outputs recording rule: ${expr}`).toEqual([]);
      if (target.format === 'table') expect(target.instant).toBe(true);
    },
  );

  it('template variables query published names', () => {
    for (const v of dashboard.templating.list) {
      if (v.type !== 'query') continue;
      expect(v.datasource).toEqual(templatedDatasource);
      expect(v.definition).toBe(v.query.query);
      const match = /^label_values\((.+), ([a-z_]+)\)$/.exec(v.definition);
      expect(match, v.definition).not.toBeNull();
      const selector = substituteVariables(match![1]!, variableValues);
      const parsed = parsePromql(selector);
      expect(parsed.errorOffsets).toEqual([]);
      for (const name of parsed.metricNames) expect(catalogNames.has(name), name).toBe(true);
    }
  });
});
