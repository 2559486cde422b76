/**
 * Actuation end to end through @kubernetes/client-node 1.4, against a FAKE API server.
 *
 * No kube-apiserver runs on this machine (../shared/reference/environment.md), so these tests
 * talk to test/unit/actuate/fake-apiserver.ts: a node:http server on 127.0.0.1 (port 0, plain
 * HTTP with skipTLSVerify) that emulates exactly the endpoints actuation uses and checks every
 * request — method, path, Content-Type (merge patch for scale and ConfigMap, JSON for the Lease),
 * the exact body, the bearer token, MicroTime format, resourceVersion preconditions (409 Conflict,
 * 409 AlreadyExists). `fake.problems` lists whatever it would have refused; every test asserts it
 * is empty. Time is a ManualClock; the election is driven tick by tick (or its first tick awaited),
 * so nothing here sleeps.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { type Actuator, createActuator, type ElectionTiming, LeaderElector, LeaseConflictError, PatchingActuator } from '../../src/actuate/index.js';
import { KubernetesLeaseStore, KubernetesWorkloadScaler } from '../../src/actuate/kubernetes.js';
import type { Config } from '../../src/config/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
import { configFromYaml } from '../support/service.js';
import { captureLogger } from '../unit/actuate/capture-logger.js';
import { FakeApiServer } from '../unit/actuate/fake-apiserver.js';
import { CountingMetrics, decision, snapshotWith } from '../unit/actuate/fixtures.js';

const silent = pino({ level: 'silent' });
const leasePath = '/apis/coordination.k8s.io/v1/namespaces/autoscaling/leases';
const workerScale = '/apis/apps/v1/namespaces/shop/deployments/worker/scale';
const mlScale = '/apis/apps/v1/namespaces/ml/statefulsets/ml-worker/scale';
const poolConfigMap = '/api/v1/namespaces/shop/configmaps/db-pool';

function config(options: { dryRun?: boolean; minPatchInterval?: string } = {}): Config {
  return configFromYaml(`
actuation:
  enabled: true
  dryRun: ${options.dryRun ?? false}
  minPatchInterval: ${options.minPatchInterval ?? '1s'}
  targets:
    worker_processes: { name: worker, namespace: shop }
    ml_workers: { kind: StatefulSet, name: ml-worker, namespace: ml }
    db_connections: { name: db-pool, namespace: shop, key: poolSize }
  leaderElection: { leaseName: foresight, leaseNamespace: autoscaling, identity: IDENTITY }
`);
}

let fake: FakeApiServer;
beforeEach(async () => {
  fake = await FakeApiServer.start(['token-a', 'token-b']);
  fake.addWorkload('Deployment', 'shop', 'worker', 4);
  fake.addWorkload('StatefulSet', 'ml', 'ml-worker', 1);
  fake.addConfigMap('shop', 'db-pool', { poolSize: '20', other: 'kept' });
});
afterEach(async () => {
  await fake.close();
});

/** An actuator built by createActuator, the way src/app/service.ts builds it. */
function viaFactory(cfg: Config, token: string, identity: string) {
  const clock = new ManualClock();
  const metrics = new CountingMetrics();
  const log = captureLogger();
  const withIdentity = { ...cfg, actuation: { ...cfg.actuation, leaderElection: { ...cfg.actuation.leaderElection, identity } } };
  const actuator = createActuator({
    config: () => withIdentity,
    clock,
    logger: log.logger,
    metrics,
    kubeConfig: fake.kubeConfig(token),
    timers: new ManualTimers(clock),
  });
  return { actuator, clock, metrics, log };
}

/** Starts the actuator and waits for its first election attempt to complete. */
async function started(t: { actuator: Actuator; metrics: CountingMetrics }): Promise<void> {
  await t.actuator.start();
  await vi.waitFor(() => expect(t.metrics.leader.length).toBeGreaterThan(0), { timeout: 120_000, interval: 5 });
}

const decisions = [decision('worker_processes', 4, 9), decision('ml_workers', 1, 3), decision('db_connections', 20, 60), decision('api_instances', 2, 5)];

describe('actuation against a fake API server', () => {
  test('the leader patches each scale subresource and the pool ConfigMap with the exact merge patch', async () => {
    const t = viaFactory(config(), 'token-a', 'replica-a');
    await started(t);
    expect(t.actuator.status()).toMatchObject({ mode: 'live', leader: true, identity: 'replica-a' });
    await t.actuator.apply(snapshotWith(decisions));

    const patches = fake.sent('PATCH').map((r) => ({ path: r.path, contentType: r.contentType, query: r.query, body: r.body }));
    expect(patches.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: poolConfigMap, contentType: 'application/merge-patch+json', query: { fieldManager: 'foresight' }, body: { data: { poolSize: '60' } } },
      { path: mlScale, contentType: 'application/merge-patch+json', query: { fieldManager: 'foresight' }, body: { spec: { replicas: 3 } } },
      { path: workerScale, contentType: 'application/merge-patch+json', query: { fieldManager: 'foresight' }, body: { spec: { replicas: 9 } } },
    ]);
    expect(fake.replicas('Deployment', 'shop', 'worker')).toBe(9);
    expect(fake.replicas('StatefulSet', 'ml', 'ml-worker')).toBe(3);
    // A merge patch of one key leaves the other keys of the ConfigMap alone.
    expect(fake.configMap('shop', 'db-pool')).toEqual({ poolSize: '60', other: 'kept' });
    expect(t.metrics.all()).toEqual({ 'worker_processes/applied': 1, 'ml_workers/applied': 1, 'db_connections/applied': 1 });
    expect(t.log.messages()).toContain('patched');

    // The Lease: created in the configured namespace, MicroTimes with six digits (checked by the fake).
    const created = fake.sent('POST')[0]!;
    expect(created).toMatchObject({ path: leasePath, contentType: 'application/json', query: { fieldManager: 'foresight' } });
    expect(created.body).toMatchObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'foresight', namespace: 'autoscaling' } });
    expect(fake.lease('autoscaling', 'foresight')?.spec).toMatchObject({ holderIdentity: 'replica-a', leaseDurationSeconds: 15, leaseTransitions: 0 });

    await t.actuator.stop();
    expect(fake.lease('autoscaling', 'foresight')?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(t.metrics.leader.at(-1)).toBe(false);
    expect(fake.problems).toEqual([]);
  });

  test('dry run issues no PATCH at all, and counts what it would have done', async () => {
    const t = viaFactory(config({ dryRun: true }), 'token-a', 'replica-a');
    await started(t);
    await t.actuator.apply(snapshotWith(decisions));
    expect(fake.sent('PATCH')).toEqual([]);
    expect(fake.replicas('Deployment', 'shop', 'worker')).toBe(4);
    expect(t.metrics.all()).toEqual({ 'worker_processes/dry_run': 1, 'ml_workers/dry_run': 1, 'db_connections/dry_run': 1 });
    expect(t.log.lines.filter((l) => l.msg === 'dry run: would patch').map((l) => [l['target'], l['recommended']])).toEqual([
      ['Deployment shop/worker', 9],
      ['StatefulSet ml/ml-worker', 3],
      ['ConfigMap shop/db-pool[poolSize]', 60],
    ]);
    await t.actuator.stop();
    expect(fake.problems).toEqual([]);
  });

  test('a replica that does not hold the Lease sends no PATCH', async () => {
    const other = viaFactory(config(), 'token-b', 'replica-b');
    await started(other);
    const t = viaFactory(config(), 'token-a', 'replica-a');
    await started(t);
    expect(t.actuator.status().leader).toBe(false);
    await t.actuator.apply(snapshotWith(decisions));
    expect(fake.sent('PATCH', 'token-a')).toEqual([]);
    expect(t.metrics.all()).toEqual({ 'worker_processes/skipped_not_leader': 1, 'ml_workers/skipped_not_leader': 1, 'db_connections/skipped_not_leader': 1 });
    await other.actuator.stop();
    await t.actuator.stop();
    expect(fake.problems).toEqual([]);
  });

  test('API errors are logged and counted, never thrown, and retried on the next snapshot', async () => {
    const t = viaFactory(config(), 'token-a', 'replica-a');
    await started(t);
    fake.inject({ method: 'PATCH', pathIncludes: '/deployments/worker/scale', status: 500, reason: 'InternalError' });
    fake.inject({ method: 'PATCH', pathIncludes: '/configmaps/db-pool', status: 403, reason: 'Forbidden' });
    fake.inject({ method: 'PATCH', pathIncludes: '/statefulsets/', status: 404, reason: 'NotFound' });
    await expect(t.actuator.apply(snapshotWith(decisions))).resolves.toBeUndefined();
    expect(t.metrics.all()).toEqual({ 'worker_processes/failed': 1, 'ml_workers/failed': 1, 'db_connections/failed': 1 });
    const errors = Object.fromEntries(t.actuator.status().resources.map((r) => [r.resource, r.error]));
    expect(errors['db_connections']).toBe(`PATCH ${poolConfigMap}: HTTP 403 Forbidden: injected 403 Forbidden`);
    expect(errors['worker_processes']).toContain('HTTP 500 InternalError');
    expect(t.log.messages(40)).toContain('patch failed; retrying next cycle');

    t.clock.advance(1);
    await t.actuator.apply(snapshotWith(decisions));
    expect(t.metrics.count('worker_processes', 'applied')).toBe(1);
    expect(t.metrics.count('db_connections', 'applied')).toBe(1);
    expect(fake.replicas('Deployment', 'shop', 'worker')).toBe(9);
    await t.actuator.stop();
    expect(fake.problems).toEqual([]);
  });

  test('a hung API server times out and counts as failed', async () => {
    const clock = new ManualClock();
    const metrics = new CountingMetrics();
    const election = { identity: 'solo', isLeader: () => true, start: () => undefined, stop: () => Promise.resolve() };
    const actuator = new PatchingActuator({
      config: () => config(),
      clock,
      logger: silent,
      metrics,
      connect: async () => ({ connected: true, election, scaler: new KubernetesWorkloadScaler(fake.kubeConfig('token-a'), 0.3), connection: 'fake' }),
    });
    await actuator.start();
    fake.inject({ method: 'PATCH', pathIncludes: '/deployments/worker/scale', hang: true });
    // The client's own request timeout (0.3 s) ends the PATCH: the error below says it was aborted.
    await actuator.apply(snapshotWith([decision('worker_processes', 4, 9)]));
    expect(metrics.all()).toEqual({ 'worker_processes/failed': 1 });
    expect(actuator.status().resources[0]?.error).toMatch(/PATCH .*worker\/scale: .*abort/i);
  });
});

describe('two replicas, one Lease', () => {
  const timing: ElectionTiming = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };

  /** A replica built from the parts, so that the test drives its election tick by tick. */
  async function replica(token: string, identity: string, clock: ManualClock) {
    const kubeConfig = fake.kubeConfig(token);
    const store = new KubernetesLeaseStore(kubeConfig, { name: 'foresight', namespace: 'autoscaling' }, 5);
    const elector = new LeaderElector({ store, identity, timing, clock, timers: new ManualTimers(clock), logger: silent, random: () => 0 });
    const metrics = new CountingMetrics();
    const actuator = new PatchingActuator({
      config: () => config(),
      clock,
      logger: silent,
      metrics,
      connect: async () => ({ connected: true, election: elector, scaler: new KubernetesWorkloadScaler(kubeConfig, 5), connection: 'fake' }),
    });
    await actuator.start();
    return { token, elector, store, actuator, metrics };
  }

  test('only one ever patches; when it stops renewing, the other takes over after the lease duration', async () => {
    const clock = new ManualClock();
    const a = await replica('token-a', 'replica-a', clock);
    const b = await replica('token-b', 'replica-b', clock);
    // Both start at once with no Lease: both read 404, both create, one loses with 409 AlreadyExists.
    // The fake holds the first read until both have arrived, so the race happens every run.
    fake.holdUntil(2, 'GET', '/leases/');
    await Promise.all([a.elector.tick(), b.elector.tick()]);
    expect(fake.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 404', 'GET 404', 'POST 200', 'POST 409']);
    const [first, second] = a.elector.isLeader() ? [a, b] : [b, a];
    expect(first.elector.isLeader() && !second.elector.isLeader()).toBe(true);

    const patchesBy = (token: string) => fake.sent('PATCH', token).length;
    let lastRenewalMs = 0;
    const led: { first: number[]; second: number[] } = { first: [], second: [] };
    for (let round = 1; round <= 20; round++) {
      clock.advance(2);
      // The first leader "hangs" after round 5: it neither renews nor releases, but keeps
      // receiving snapshots, as a stalled replica would.
      if (round <= 5) {
        lastRenewalMs = clock.nowMs();
        await Promise.all([first.elector.tick(), second.elector.tick()]);
      } else {
        await second.elector.tick();
      }
      expect(first.elector.isLeader() && second.elector.isLeader(), `both lead in round ${round}`).toBe(false);
      if (first.elector.isLeader()) led.first.push(round);
      if (second.elector.isLeader()) led.second.push(round);
      // A new recommendation every round, so that whoever leads has something to patch.
      const snapshot = snapshotWith([decision('worker_processes', null, 4 + round)], round);
      const before = { first: patchesBy(first.token), second: patchesBy(second.token) };
      await Promise.all([first.actuator.apply(snapshot), second.actuator.apply(snapshot)]);
      const sent = { first: patchesBy(first.token) - before.first, second: patchesBy(second.token) - before.second };
      // Exactly the round's leader patches (there is always something to patch).
      expect(sent, `patches in round ${round}`).toEqual({ first: first.elector.isLeader() ? 1 : 0, second: second.elector.isLeader() ? 1 : 0 });
    }
    // The first leader acts until its renew deadline, 10 s after its last renewal (round 5),
    // so in rounds 1-9; then nobody acts until the second takes over.
    expect(led.first).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const takeoverMs = lastRenewalMs + ((led.second[0] ?? Number.NaN) - 5) * 2000;
    // Never earlier than one lease duration after the last renewal (safety); and at most two
    // attempts later (liveness: the second may first see that renewal one attempt late).
    expect(takeoverMs - lastRenewalMs).toBeGreaterThanOrEqual(15_000);
    expect(takeoverMs - lastRenewalMs).toBeLessThanOrEqual(15_000 + 2 * 2000);
    expect(led.second).toEqual(Array.from({ length: 21 - led.second[0]! }, (_, i) => led.second[0]! + i));
    expect(patchesBy(first.token)).toBe(9);
    expect(patchesBy(second.token)).toBe(led.second.length);
    expect(first.metrics.count('worker_processes', 'skipped_not_leader')).toBe(20 - 9);
    expect(fake.lease('autoscaling', 'foresight')?.spec).toMatchObject({ holderIdentity: second.elector.identity, leaseTransitions: 1 });
    expect(fake.replicas('Deployment', 'shop', 'worker')).toBe(4 + 20);

    // The stalled replica comes back: it sees the new holder and stays a follower.
    for (let round = 21; round <= 25; round++) {
      clock.advance(2);
      await Promise.all([first.elector.tick(), second.elector.tick()]);
      await Promise.all([
        first.actuator.apply(snapshotWith([decision('worker_processes', null, 4 + round)], round)),
        second.actuator.apply(snapshotWith([decision('worker_processes', null, 4 + round)], round)),
      ]);
      expect([first.elector.isLeader(), second.elector.isLeader()]).toEqual([false, true]);
    }
    expect(patchesBy(first.token)).toBe(9);
    expect(fake.replicas('Deployment', 'shop', 'worker')).toBe(4 + 25);
    expect(fake.problems).toEqual([]);
  });

  test('a write at a stale resourceVersion gets 409 Conflict and is a lost attempt, not an error', async () => {
    const clock = new ManualClock();
    const a = await replica('token-a', 'replica-a', clock);
    const b = await replica('token-b', 'replica-b', clock);
    await a.elector.tick();
    const seenByB = await b.store.get();
    clock.advance(2);
    await a.elector.tick(); // a renews: the resourceVersion moves on
    await expect(b.store.update({ ...seenByB!.record, holderIdentity: 'replica-b' }, seenByB!.resourceVersion)).rejects.toBeInstanceOf(LeaseConflictError);
    expect(fake.requests.filter((r) => r.method === 'PUT').map((r) => [r.token, r.status])).toEqual([
      ['token-a', 200],
      ['token-b', 409],
    ]);
    expect(fake.lease('autoscaling', 'foresight')?.spec['holderIdentity']).toBe('replica-a');
    expect(fake.problems).toEqual([]);
  });
});
