import { type Logger, pino } from 'pino';
import { describe, expect, test } from 'vitest';
import {
  type ActuationSession,
  actuationTargetOf,
  describeTarget,
  type Election,
  PatchingActuator,
  type PoolSizeTarget,
  type WorkloadScaler,
  type WorkloadTarget,
} from '../../../src/actuate/index.js';
import type { Config } from '../../../src/config/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';
import { captureLogger } from './capture-logger.js';
import { CountingMetrics, decision, snapshotWith } from './fixtures.js';

const silent = pino({ level: 'silent' });

const targets = `
    worker_processes: { name: worker, namespace: shop }
    ml_workers: { kind: StatefulSet, name: ml-worker, namespace: ml }
    db_connections: { name: db-pool, namespace: shop, key: poolSize }
`;

function config(options: { enabled?: boolean; dryRun?: boolean; minPatchInterval?: string } = {}): Config {
  return configFromYaml(`
actuation:
  enabled: ${options.enabled ?? true}
  dryRun: ${options.dryRun ?? false}
  minPatchInterval: ${options.minPatchInterval ?? '1m'}
  targets:${targets}`);
}

/** An election whose leadership the test sets. */
class FakeElection implements Election {
  readonly identity = 'replica-a';
  leader = true;
  started = 0;
  stopped = 0;
  isLeader(): boolean {
    return this.leader;
  }
  start(): void {
    this.started += 1;
  }
  stop(): Promise<void> {
    this.stopped += 1;
    return Promise.resolve();
  }
}

/** A scaler that records calls and fails when told to. */
class FakeScaler implements WorkloadScaler {
  readonly calls: string[] = [];
  replicasInCluster = 5;
  failWith: Error | undefined;
  onRead: (() => void) | undefined;

  readReplicas(target: WorkloadTarget): Promise<number> {
    this.calls.push(`read ${target.kind} ${target.namespace}/${target.name}`);
    this.onRead?.();
    return this.failWith === undefined ? Promise.resolve(this.replicasInCluster) : Promise.reject(this.failWith);
  }
  setReplicas(target: WorkloadTarget, replicas: number): Promise<void> {
    this.calls.push(`scale ${target.kind} ${target.namespace}/${target.name} ${replicas}`);
    return this.failWith === undefined ? Promise.resolve() : Promise.reject(this.failWith);
  }
  setPoolSize(target: PoolSizeTarget, size: number): Promise<void> {
    this.calls.push(`pool ${target.namespace}/${target.name}[${target.key}] ${size}`);
    return this.failWith === undefined ? Promise.resolve() : Promise.reject(this.failWith);
  }
}

function build(cfg: Config, session?: ActuationSession, logger: Logger = silent) {
  const clock = new ManualClock();
  const metrics = new CountingMetrics();
  const election = new FakeElection();
  const scaler = new FakeScaler();
  let current = cfg;
  let connects = 0;
  const actuator = new PatchingActuator({
    config: () => current,
    clock,
    logger,
    metrics,
    connect: async () => {
      connects += 1;
      return session ?? { connected: true, election, scaler, connection: 'fake' };
    },
  });
  return {
    actuator,
    clock,
    metrics,
    election,
    scaler,
    connects: () => connects,
    reload: (next: Config) => {
      current = next;
    },
  };
}

describe('PatchingActuator', () => {
  test('the leader patches what differs from the observed value, each on its own target', async () => {
    const t = build(config());
    await t.actuator.start();
    await t.actuator.apply(
      snapshotWith([
        decision('worker_processes', 4, 9),
        decision('api_instances', 2, 6), // no target: left alone
        decision('ml_workers', 3, 3), // no change: no patch
        decision('db_connections', 20, 60),
      ]),
    );
    expect(t.scaler.calls.sort()).toEqual(['pool shop/db-pool[poolSize] 60', 'scale Deployment shop/worker 9']);
    expect(t.metrics.all()).toEqual({ 'worker_processes/applied': 1, 'db_connections/applied': 1 });
    expect(t.actuator.status()).toMatchObject({ mode: 'live', leader: true, identity: 'replica-a', connection: 'fake' });
    expect(t.actuator.status().resources.map((r) => [r.resource, r.target, r.outcome, r.replicas])).toEqual([
      ['worker_processes', 'Deployment shop/worker', 'applied', 9],
      ['db_connections', 'ConfigMap shop/db-pool[poolSize]', 'applied', 60],
    ]);
  });

  test('dry run logs and counts, and never calls the scaler', async () => {
    const t = build(config({ dryRun: true }));
    await t.actuator.start();
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 9), decision('ml_workers', 2, 1), decision('db_connections', 20, 40)]));
    expect(t.scaler.calls).toEqual([]);
    expect(t.metrics.all()).toEqual({ 'worker_processes/dry_run': 1, 'ml_workers/dry_run': 1, 'db_connections/dry_run': 1 });
    expect(t.actuator.status().mode).toBe('dry_run');
  });

  test('a replica that does not lead patches nothing and counts skipped_not_leader', async () => {
    const t = build(config());
    await t.actuator.start();
    t.election.leader = false;
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 9), decision('ml_workers', 3, 3)]));
    expect(t.scaler.calls).toEqual([]);
    expect(t.metrics.all()).toEqual({ 'worker_processes/skipped_not_leader': 1 });
  });

  test('leadership lost while reading the replicas stops the patch', async () => {
    const t = build(config());
    await t.actuator.start();
    t.scaler.onRead = () => {
      t.election.leader = false;
    };
    await t.actuator.apply(snapshotWith([decision('worker_processes', null, 9)]));
    expect(t.scaler.calls).toEqual(['read Deployment shop/worker']);
    expect(t.metrics.all()).toEqual({ 'worker_processes/skipped_not_leader': 1 });
  });

  test('an unknown observed count is read from the scale subresource; equal means no patch', async () => {
    const t = build(config());
    await t.actuator.start();
    t.scaler.replicasInCluster = 9;
    await t.actuator.apply(snapshotWith([decision('worker_processes', null, 9)]));
    expect(t.scaler.calls).toEqual(['read Deployment shop/worker']);
    t.scaler.replicasInCluster = 4;
    await t.actuator.apply(snapshotWith([decision('worker_processes', null, 9)]));
    expect(t.scaler.calls).toEqual(['read Deployment shop/worker', 'read Deployment shop/worker', 'scale Deployment shop/worker 9']);
  });

  test('an unknown pool size is patched without a read (the merge patch is idempotent)', async () => {
    const t = build(config());
    await t.actuator.start();
    await t.actuator.apply(snapshotWith([decision('db_connections', null, 50)]));
    expect(t.scaler.calls).toEqual(['pool shop/db-pool[poolSize] 50']);
  });

  test('patches of one resource are at least minPatchInterval apart; failures retry on the next snapshot', async () => {
    const t = build(config({ minPatchInterval: '1m' }));
    await t.actuator.start();
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 9)]));
    t.clock.advance(30);
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 10)]));
    expect(t.scaler.calls).toEqual(['scale Deployment shop/worker 9']);
    t.clock.advance(30);
    t.scaler.failWith = new Error('HTTP 503 ServiceUnavailable');
    await expect(t.actuator.apply(snapshotWith([decision('worker_processes', 4, 10)]))).resolves.toBeUndefined();
    expect(t.actuator.status().resources[0]).toMatchObject({ outcome: 'failed', error: 'HTTP 503 ServiceUnavailable' });
    // A failure does not start the interval: the very next snapshot tries again.
    t.clock.advance(1);
    t.scaler.failWith = undefined;
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 10)]));
    expect(t.scaler.calls).toEqual(['scale Deployment shop/worker 9', 'scale Deployment shop/worker 10', 'scale Deployment shop/worker 10']);
    expect(t.metrics.all()).toEqual({ 'worker_processes/applied': 2, 'worker_processes/failed': 1 });
  });

  test('read failures are counted as failed, and never reject', async () => {
    const t = build(config());
    await t.actuator.start();
    t.scaler.failWith = new Error('connection refused');
    await expect(t.actuator.apply(snapshotWith([decision('worker_processes', null, 9), decision('ml_workers', 1, 2)]))).resolves.toBeUndefined();
    expect(t.metrics.all()).toEqual({ 'worker_processes/failed': 1, 'ml_workers/failed': 1 });
  });

  test('disabled: start connects nothing and apply does nothing', async () => {
    const t = build(config({ enabled: false }));
    await t.actuator.start();
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 9)]));
    expect(t.connects()).toBe(0);
    expect(t.scaler.calls).toEqual([]);
    expect(t.actuator.status()).toMatchObject({ mode: 'off', leader: false, connection: 'actuation disabled' });
  });

  test('enabling by a reload says, once, that it needs a restart', async () => {
    const log = captureLogger();
    const t = build(config({ enabled: false }), undefined, log.logger);
    await t.actuator.start();
    t.reload(config());
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 9)]));
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 9)]));
    expect(t.scaler.calls).toEqual([]);
    expect(log.messages(40)).toEqual(['actuation.enabled was turned on by a reload; actuation starts at the next restart']);
  });

  test('without a cluster a live run stays off; apply before start does nothing', async () => {
    const off = build(config(), { connected: false, reason: 'no KUBECONFIG' });
    await off.actuator.apply(snapshotWith([decision('worker_processes', 4, 9)]));
    await off.actuator.start();
    await off.actuator.apply(snapshotWith([decision('worker_processes', 4, 9)]));
    expect(off.metrics.all()).toEqual({});
    expect(off.actuator.status()).toMatchObject({ mode: 'off', connection: 'no KUBECONFIG' });
  });

  test('a reload that turns dry run off takes effect at the next snapshot; disabling stops patching', async () => {
    const t = build(config({ dryRun: true }));
    await t.actuator.start();
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 9)]));
    t.reload(config({ dryRun: false }));
    t.clock.advance(60);
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 9)]));
    t.reload(config({ enabled: false }));
    t.clock.advance(60);
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 7)]));
    expect(t.scaler.calls).toEqual(['scale Deployment shop/worker 9']);
    expect(t.metrics.all()).toEqual({ 'worker_processes/dry_run': 1, 'worker_processes/applied': 1 });
  });

  test('start is idempotent and starts the election once; stop stops it for good', async () => {
    const t = build(config());
    await t.actuator.start();
    await t.actuator.start();
    expect(t.connects()).toBe(1);
    expect(t.election.started).toBe(1);
    await t.actuator.stop();
    await t.actuator.start();
    expect(t.connects()).toBe(1);
    expect(t.election.stopped).toBe(1);
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 9)]));
    expect(t.scaler.calls).toEqual([]);
  });

  test('stop() while the connection is being made wins: the election never starts', async () => {
    const election = new FakeElection();
    let connected: (session: ActuationSession) => void = () => undefined;
    const actuator = new PatchingActuator({
      config: () => config(),
      clock: new ManualClock(),
      logger: silent,
      metrics: new CountingMetrics(),
      connect: () => new Promise<ActuationSession>((resolve) => (connected = resolve)),
    });
    const starting = actuator.start();
    await actuator.stop();
    connected({ connected: true, election, scaler: new FakeScaler(), connection: 'fake' });
    await starting;
    expect(election.started).toBe(0);
    expect(actuator.status().mode).toBe('off');
  });

  test('a connection that throws leaves actuation off with the reason, and start() does not reject', async () => {
    const log = captureLogger();
    const actuator = new PatchingActuator({
      config: () => config(),
      clock: new ManualClock(),
      logger: log.logger,
      metrics: new CountingMetrics(),
      connect: () => Promise.reject(new Error('kubeconfig unreadable')),
    });
    await actuator.start();
    expect(actuator.status()).toMatchObject({ mode: 'off', connection: 'could not connect: kubeconfig unreadable' });
    expect(log.messages(50)).toEqual(['actuation is enabled but no Kubernetes API is reachable; actuation stays off']);
  });

  test('a recommendation that is not a whole number is refused, not written', async () => {
    const t = build(config());
    await t.actuator.start();
    await t.actuator.apply(snapshotWith([decision('worker_processes', 4, 9.5), decision('ml_workers', 2, Number.NaN), decision('db_connections', 20, -1)]));
    expect(t.scaler.calls).toEqual([]);
    expect(t.metrics.all()).toEqual({});
  });
});

describe('targets', () => {
  test('each resource maps to its configured object, or to nothing', () => {
    const settings = config().actuation;
    expect(actuationTargetOf(settings, 'api_instances')).toBeUndefined();
    const described = (['worker_processes', 'ml_workers', 'db_connections'] as const).map((r) => describeTarget(actuationTargetOf(settings, r)!));
    expect(described).toEqual(['Deployment shop/worker', 'StatefulSet ml/ml-worker', 'ConfigMap shop/db-pool[poolSize]']);
  });
});
