import { describe, expect, test } from 'vitest';
import { workloadQueries } from '../../../src/app/source-factory.js';
import { loadConfigFromText } from '../../../src/config/index.js';
import { compileTemplate, escapeRegex } from '../../../src/source/index.js';

describe('workload templates', () => {
  test('{{namespace}}, {{workload}} and {{queue}} are escaped for the literal they stand in', () => {
    const t = compileTemplate('sum(x{namespace="{{namespace}}", deployment=\'{{workload}}\', queue="{{ queue }}"})', ['namespace', 'workload', 'queue']);
    expect(t.render({ namespace: 'a"b', workload: "c'd", queue: 'e\\f' })).toBe('sum(x{namespace="a\\"b", deployment=\'c\\\'d\', queue="e\\\\f"})');
  });

  test('inside a regex matcher, RE2 metacharacters are escaped too, so a name matches only itself', () => {
    const t = compileTemplate('sum(x{pod=~"{{workload}}-.*", ns!~ "{{namespace}}"})', ['namespace', 'workload']);
    // "api.v2" as a regex would also match "apixv2"; escaped, its dot is a dot. The backslash is then escaped for the string.
    expect(t.render({ namespace: 'a|b', workload: 'api.v2' })).toBe('sum(x{pod=~"api\\\\.v2-.*", ns!~ "a\\\\|b"})');
    expect(escapeRegex('a.b*c(d)[e]{f}^$|+?\\')).toBe('a\\.b\\*c\\(d\\)\\[e\\]\\{f\\}\\^\\$\\|\\+\\?\\\\');
  });

  test('a placeholder the template may not use is refused, listing the allowed ones', () => {
    expect(() => compileTemplate('x{q="{{queue}}"}', ['namespace', 'workload'])).toThrow('unknown placeholder "{{queue}}"; the placeholders are {{namespace}}, {{workload}}');
    expect(() => compileTemplate('x{q="{{namespace}}"}')).toThrow('the only placeholder is {{queue}}');
  });

  test('a placeholder outside a string literal is refused (it could not be escaped)', () => {
    expect(() => compileTemplate('x{{{namespace}}}', ['namespace'])).toThrow('{{namespace}} must be inside a quoted string');
  });

  test('a workload gets the templates of its kind unless it sets its own, and queries.queue for its queues', () => {
    const loaded = loadConfigFromText({
      file: 'config.yaml',
      env: {},
      text: `
workloads:
  - { name: web, namespace: shop, kind: StatefulSet, queries: { cpu_percent: 'own{ns="{{namespace}}"}', error_rate_percent: '' } }
`,
    });
    if (!loaded.ok) throw new Error(loaded.error.message);
    const [web] = workloadQueries(loaded.value);
    expect(web!.where).toBe('workloads[0].queries');
    expect(web!.inputs.cpu_percent).toBe('own{ns="{{namespace}}"}');
    expect(web!.inputs.error_rate_percent).toBe('');
    expect(web!.inputs.replicas).toContain('kube_statefulset_replicas{namespace="{{namespace}}", statefulset="{{workload}}"}');
    expect(web!.queue.depth).toBe(loaded.value.queries.queue.depth);
  });
});
