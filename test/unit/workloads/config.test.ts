import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { type Config, loadConfigFromText } from '../../../src/config/index.js';
import { listedQueues, profileOf, ruleSetOf, usesWorkloads } from '../../../src/engine/index.js';

const example = readFileSync(fileURLToPath(new URL('../../../examples/config/workloads.yaml', import.meta.url)), 'utf8');

function load(text: string): ReturnType<typeof loadConfigFromText> {
  return loadConfigFromText({ text, file: 'config.yaml', env: {} });
}

function mustLoad(text: string): Config {
  const result = load(text);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

/** The error lines of a refused configuration. */
function problems(text: string): string {
  const result = load(text);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.error.message;
}

describe('workloads configuration', () => {
  test('the multi-namespace example loads, and each workload gets its rule set by name or selector', () => {
    const config = mustLoad(example);
    expect(usesWorkloads(config)).toBe(true);
    expect(config.workloads.map((w) => `${w.namespace}/${w.name}:${w.kind}`)).toEqual([
      'shop/orders-worker:Deployment',
      'shop/storefront:Deployment',
      'claims/claims-processor:StatefulSet',
      'ml/inference:ScaledObject',
    ]);
    const [orders, storefront, claims] = config.workloads;
    expect(ruleSetOf(config, orders!)?.name).toBe('queue-workers'); // by selector
    expect(ruleSetOf(config, storefront!)?.name).toBe('apis'); // by name
    expect(profileOf(config, storefront!)).toBe('api_instances');
    expect(ruleSetOf(config, claims!)?.name).toBe('queue-workers');
    // Two namespaces may each have a queue called "orders": they are two queues.
    expect(listedQueues(config).map((q) => `${q.namespace}/${q.workload}/${q.queue}`)).toEqual(['shop/orders-worker/orders', 'shop/orders-worker/refunds', 'claims/claims-processor/orders']);
  });

  test('a configuration without workloads is the seed: five queues, no workloads', () => {
    const config = mustLoad('');
    expect(usesWorkloads(config)).toBe(false);
    expect(listedQueues(config).map((q) => q.queue)).toEqual(['batch_processing', 'ml_inference', 'validation', 'failed_claims', 'priority_claims']);
    expect(listedQueues(config).every((q) => q.namespace === undefined)).toBe(true);
  });

  test('a workload listed twice in one namespace is refused, naming where', () => {
    const message = problems(`
workloads:
  - { name: api, namespace: shop }
  - { name: api, namespace: other }
  - { name: api, namespace: shop }
`);
    expect(message).toContain('workloads[2].name');
    expect(message).toContain('workload "api" is listed twice in namespace "shop"');
    expect(message).not.toContain('workloads[1]');
  });

  test('a queue drained by two workloads of one namespace is refused', () => {
    const message = problems(`
workloads:
  - { name: a, namespace: shop, queues: [{ name: orders }] }
  - { name: b, namespace: shop, queues: [{ name: orders }] }
`);
    expect(message).toContain('workloads[1].queues[0].name');
    expect(message).toContain('queue "orders" of namespace "shop" is already drained by workload "a"');
  });

  test('an unknown rule set is refused, listing the defined ones', () => {
    const message = problems(`
ruleSets:
  - { name: workers, file: policies/scaling.rules.yaml }
workloads:
  - { name: a, namespace: shop, ruleSet: wrokers }
`);
    expect(message).toContain('workloads[0].ruleSet');
    expect(message).toContain('unknown rule set "wrokers"; defined: workers');
  });

  test('a rule set defined twice is refused', () => {
    expect(
      problems(`
ruleSets:
  - { name: workers, file: a.yaml }
  - { name: workers, file: b.yaml }
`),
    ).toContain('ruleSets[1].name');
  });

  test.each([
    ['queries:\n      cpu_percent: \'sum(x{ns="{{namespace}}", q="{{queue}}"})\'', 'workloads[0].queries.cpu_percent', '"{{queue}}"'],
    ['queries:\n      queue:\n        depth: \'sum(x{q="{{queue_name}}"})\'', 'workloads[0].queries.queue.depth', '"{{queue_name}}"'],
    ['discovery:\n      query: \'sum by (queue) (x{q="{{queue}}"})\'', 'workloads[0].discovery.query', '"{{queue}}"'],
  ])('an unknown placeholder is refused: %s', (yaml, path, placeholder) => {
    const message = problems(`
workloads:
  - name: a
    namespace: shop
    ${yaml}
`);
    expect(message).toContain(path);
    expect(message).toContain(`unknown placeholder ${placeholder}`);
  });

  test('minReplicas above maxReplicas is refused', () => {
    expect(problems('workloads:\n  - { name: a, namespace: shop, minReplicas: 5, maxReplicas: 2 }\n')).toContain('workloads[0].minReplicas');
  });

  test('names must be Kubernetes names', () => {
    expect(problems('workloads:\n  - { name: "Bad_Name", namespace: shop }\n')).toContain('workloads[0].name');
    expect(problems('workloads:\n  - { name: a, namespace: "Shop" }\n')).toContain('workloads[0].namespace');
  });
});
