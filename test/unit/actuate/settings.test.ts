import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { actuationOutcomes } from '../../../src/actuate/index.js';
import { loadConfigFromText } from '../../../src/config/index.js';
import { metricCatalog } from '../../../src/publish/index.js';
import { configFromYaml } from '../../support/service.js';

describe('actuation configuration', () => {
  test('is off and dry-run by default, with client-go election timings', () => {
    const { actuation } = configFromYaml('{}');
    expect(actuation).toEqual({
      enabled: false,
      dryRun: true,
      minPatchInterval: 60,
      targets: {},
      leaderElection: { leaseName: 'foresight-actuator', leaseDuration: 15, renewDeadline: 10, retryPeriod: 2 },
    });
  });

  test('targets: workloads default to Deployment, the pool is a ConfigMap key', () => {
    const { actuation } = configFromYaml(`
actuation:
  targets:
    worker_processes: { name: worker, namespace: shop }
    batch_processors: { kind: StatefulSet, name: batch, namespace: shop }
    db_connections: { name: db-pool, namespace: shop, key: pool.size }
  leaderElection: { leaseNamespace: autoscaling, identity: pod-1, leaseDuration: 30s, renewDeadline: 20s, retryPeriod: 4s }
`);
    expect(actuation.targets).toEqual({
      worker_processes: { kind: 'Deployment', name: 'worker', namespace: 'shop' },
      batch_processors: { kind: 'StatefulSet', name: 'batch', namespace: 'shop' },
      db_connections: { name: 'db-pool', namespace: 'shop', key: 'pool.size' },
    });
    expect(actuation.leaderElection).toMatchObject({ leaseNamespace: 'autoscaling', identity: 'pod-1', leaseDuration: 30, renewDeadline: 20, retryPeriod: 4 });
  });

  const bad: readonly { name: string; yaml: string; messages: readonly string[] }[] = [
    {
      name: 'an object name that is not a DNS subdomain',
      yaml: 'actuation: { targets: { worker_processes: { name: Worker_1, namespace: shop } } }',
      messages: ['actuation.targets.worker_processes.name', 'expected a Kubernetes object name'],
    },
    {
      name: 'a namespace longer than a DNS label',
      yaml: `actuation: { targets: { api_instances: { name: api, namespace: ${'n'.repeat(64)} } } }`,
      messages: ['actuation.targets.api_instances.namespace', 'expected a Kubernetes namespace'],
    },
    {
      name: 'a kind that has no scale subresource here',
      yaml: 'actuation: { targets: { ml_workers: { kind: DaemonSet, name: ml, namespace: shop } } }',
      messages: ['actuation.targets.ml_workers.kind', 'Deployment', 'StatefulSet'],
    },
    {
      name: 'a pool target without its key',
      yaml: 'actuation: { targets: { db_connections: { name: db, namespace: shop } } }',
      messages: ['actuation.targets.db_connections.key'],
    },
    {
      name: 'a workload target for an unknown resource',
      yaml: 'actuation: { targets: { workers: { name: w, namespace: shop } } }',
      messages: ['actuation.targets', 'workers'],
    },
    {
      name: 'a renew deadline not shorter than the lease duration',
      yaml: 'actuation: { leaderElection: { leaseDuration: 10s, renewDeadline: 10s } }',
      messages: ['actuation.leaderElection.renewDeadline', 'must be shorter than leaseDuration (10s), got 10s'],
    },
    {
      name: 'a retry period too long for the renew deadline',
      yaml: 'actuation: { leaderElection: { retryPeriod: 9s } }',
      messages: ['actuation.leaderElection.retryPeriod', 'must be shorter than renewDeadline (10s) / 1.2, got 9s'],
    },
    {
      name: 'a minimum patch interval that is not a duration',
      yaml: 'actuation: { minPatchInterval: soon }',
      messages: ['actuation.minPatchInterval', 'expected a duration'],
    },
  ];
  for (const tc of bad) {
    test(`refuses ${tc.name}, naming the key`, () => {
      const result = loadConfigFromText({ text: tc.yaml, file: 'bad.yaml', env: {} });
      expect(result.ok).toBe(false);
      if (!result.ok) for (const message of tc.messages) expect(result.error.message).toContain(message);
    });
  }
});

describe('actuation metrics in the catalog', () => {
  test('the patch counter has the resource and outcome labels, and its help names every outcome', () => {
    expect(metricCatalog.actuationPatches).toMatchObject({ name: 'foresight_actuation_patches_total', type: 'counter', labelNames: ['resource', 'outcome'] });
    for (const outcome of actuationOutcomes) expect(metricCatalog.actuationPatches.help).toContain(outcome);
    expect(metricCatalog.leader).toMatchObject({ name: 'foresight_leader', type: 'gauge', labelNames: [] });
  });
});

describe('docs/actuation.md', () => {
  test('its configuration examples load', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/actuation.md', import.meta.url)), 'utf8');
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').filter((text) => text.startsWith('actuation:'));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const text of blocks) {
      const result = loadConfigFromText({ text, file: 'docs/actuation.md', env: {} });
      expect(result.ok ? 'ok' : result.error.message).toBe('ok');
    }
  });
});
