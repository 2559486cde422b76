import { describe, expect, test } from 'vitest';
import { loadConfigFromText } from '../../../src/config/index.js';

// A template the Prometheus source would refuse is refused when the configuration loads, so that a
// reload keeps the previous configuration running instead of failing every cycle.

/** The error text of a refused configuration. */
function problems(text: string): string {
  const result = loadConfigFromText({ text, env: {} });
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.error.message;
}

describe('PromQL templates in the configuration', () => {
  test('the default templates load', () => {
    expect(loadConfigFromText({ text: 'source: { type: prometheus }\n', env: {} }).ok).toBe(true);
  });

  test.each([
    ["queries: { queue: { depth: 'sum(x{queue={{queue}}})' } }", 'queries.queue.depth', 'must be inside a quoted string'],
    ["queries: { queue: { depth: 'sum(x{queue=`{{queue}}`})' } }", 'queries.queue.depth', 'raw string'],
    ['queries: { queue: { depth: \'sum(x{queue="{{queue_name}}"})\' } }', 'queries.queue.depth', 'unknown placeholder "{{queue_name}}"'],
    ['queries: { queue: { depth: \'sum(x{queue="{{queue"})\' } }', 'queries.queue.depth', 'unterminated placeholder'],
    ['queries: { system: { cpu_percent: \'x{q="{{queue}}"}\' } }', 'queries.system.cpu_percent', 'only queue templates may use {{queue}}'],
    ['queries: { queueLabel: "queue-name" }', 'queries.queueLabel', 'expected a Prometheus label name'],
  ])('%s is refused', (yaml, path, problem) => {
    const message = problems(yaml);
    expect(message).toContain(path);
    expect(message).toContain(problem);
  });

  test("a workload's template must quote its placeholders too", () => {
    const message = problems(`
workloads:
  - name: api
    namespace: shop
    queues: [{ name: orders }]
    queries:
      cpu_percent: 'sum(rate(cpu{namespace={{namespace}}}[5m]))'
`);
    expect(message).toContain('workloads[0].queries.cpu_percent');
    expect(message).toContain('{{namespace}} must be inside a quoted string');
  });
});
