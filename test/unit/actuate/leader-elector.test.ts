import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { type ElectionTiming, LeaderElector } from '../../../src/actuate/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { ManualTimers } from '../../support/manual-timers.js';
import { MemoryLease } from './memory-lease-store.js';

const timing: ElectionTiming = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };
const silent = pino({ level: 'silent' });

/** Lets pending promise callbacks run (the in-memory store only ever awaits microtasks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function replicas(names: readonly string[], lease = new MemoryLease(), clock = new ManualClock()) {
  const timers = new ManualTimers(clock);
  const reports = new Map<string, boolean[]>();
  const electors = names.map((identity) => {
    reports.set(identity, []);
    return new LeaderElector({
      store: lease.storeFor(identity),
      identity,
      timing,
      clock,
      timers,
      logger: silent,
      random: () => 0.5,
      onLeadership: (leader) => reports.get(identity)!.push(leader),
    });
  });
  return { lease, clock, timers, electors, reports };
}

describe('LeaderElector', () => {
  test('the first replica creates the Lease and leads; the second waits', async () => {
    const { lease, electors, reports } = replicas(['a', 'b']);
    const [a, b] = electors as [LeaderElector, LeaderElector];
    await a.tick();
    await b.tick();
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(lease.current?.record).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(lease.writes.map((w) => w.by)).toEqual(['a']);
    expect(reports.get('a')).toEqual([true]);
    expect(reports.get('b')).toEqual([false]);
  });

  test('replicas racing for a missing Lease: exactly one wins, the other loses on the conflict', async () => {
    const { lease, electors } = replicas(['a', 'b', 'c']);
    await Promise.all(electors.map((e) => e.tick()));
    expect(electors.filter((e) => e.isLeader())).toHaveLength(1);
    expect(lease.writes).toHaveLength(1);
    // And they keep agreeing over many concurrent rounds.
    for (let round = 0; round < 20; round++) {
      await Promise.all(electors.map((e) => e.tick()));
      expect(electors.filter((e) => e.isLeader()).map((e) => e.identity)).toEqual([lease.current?.record.holderIdentity]);
    }
  });

  test('the leader renews, keeping acquireTime; nobody else writes while it does', async () => {
    const { lease, clock, electors } = replicas(['a', 'b']);
    const [a, b] = electors as [LeaderElector, LeaderElector];
    await a.tick();
    const acquired = lease.current!.record.acquireTimeMs;
    for (let i = 0; i < 30; i++) {
      clock.advance(2);
      await Promise.all([a.tick(), b.tick()]);
      expect(a.isLeader()).toBe(true);
      expect(b.isLeader()).toBe(false);
    }
    expect(new Set(lease.writes.map((w) => w.by))).toEqual(new Set(['a']));
    expect(lease.current?.record).toMatchObject({ holderIdentity: 'a', acquireTimeMs: acquired, renewTimeMs: clock.nowMs(), leaseTransitions: 0 });
  });

  test('when the leader stops renewing, the other takes over after the lease duration, and never both lead', async () => {
    const { lease, clock, electors } = replicas(['a', 'b']);
    const [a, b] = electors as [LeaderElector, LeaderElector];
    await a.tick();
    await b.tick();
    const crashedAtMs = clock.nowMs();
    let takeoverMs: number | undefined;
    // a hangs (no more ticks, no release); b keeps trying every 500 ms.
    for (let i = 0; i < 60; i++) {
      clock.advance(0.5);
      await b.tick();
      expect(a.isLeader() && b.isLeader(), `both lead at +${(clock.nowMs() - crashedAtMs) / 1000} s`).toBe(false);
      if (b.isLeader() && takeoverMs === undefined) takeoverMs = clock.nowMs();
    }
    expect(a.isLeader()).toBe(false);
    expect(b.isLeader()).toBe(true);
    // b first saw a's record at the crash: it takes over exactly one lease duration later.
    expect(takeoverMs! - crashedAtMs).toBe(15_000);
    expect(lease.current?.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1, acquireTimeMs: takeoverMs });
  });

  test('stop() releases the Lease, so that the other takes over at its next attempt', async () => {
    const { lease, clock, electors, reports } = replicas(['a', 'b']);
    const [a, b] = electors as [LeaderElector, LeaderElector];
    await a.tick();
    await b.tick();
    clock.advance(1);
    await a.stop();
    expect(a.isLeader()).toBe(false);
    expect(reports.get('a')!.at(-1)).toBe(false);
    expect(lease.current?.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    clock.advance(1);
    await b.tick();
    expect(b.isLeader()).toBe(true);
  });

  test('an unreachable store keeps the leader until its renew deadline, then drops it; it recovers after', async () => {
    const { lease, clock, electors } = replicas(['a']);
    const [a] = electors as [LeaderElector];
    await a.tick();
    lease.failure = new Error('connection refused');
    const failedFromMs = clock.nowMs();
    const leading: number[] = [];
    for (let i = 0; i < 8; i++) {
      clock.advance(2);
      await expect(a.tick()).resolves.toBeUndefined();
      if (a.isLeader()) leading.push((clock.nowMs() - failedFromMs) / 1000);
    }
    expect(leading).toEqual([2, 4, 6, 8]);
    lease.failure = undefined;
    clock.advance(2);
    await a.tick();
    // Its own record: no wait for expiry, it simply renews.
    expect(a.isLeader()).toBe(true);
  });

  test('start() runs the loop on the injected timers: the leader every retry period, a follower with jitter', async () => {
    const { clock, timers, electors } = replicas(['a', 'b']);
    const [a, b] = electors as [LeaderElector, LeaderElector];
    const ticks: string[] = [];
    for (const e of [a, b]) {
      const original = e.tick.bind(e);
      e.tick = () => {
        ticks.push(`${e.identity}@${(clock.nowMs() - startMs) / 1000}`);
        return original();
      };
    }
    const startMs = clock.nowMs();
    a.start();
    await settle();
    b.start();
    await settle();
    // Steps that land exactly on every due time, so that each attempt completes at its own time.
    for (let i = 0; i < 28; i++) {
      timers.advance(0.4);
      await settle();
    }
    await a.stop();
    await b.stop();
    expect(timers.size).toBe(0);
    // a leads and renews every 2 s; b waits 2 s × (1 + 1.2 × 0.5) = 3.2 s between attempts.
    expect(ticks.filter((t) => t.startsWith('a@'))).toEqual(['a@0', 'a@2', 'a@4', 'a@6', 'a@8', 'a@10']);
    expect(ticks.filter((t) => t.startsWith('b@'))).toEqual(['b@0', 'b@3.2', 'b@6.4', 'b@9.6']);
  });
});
