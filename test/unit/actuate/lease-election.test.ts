import { describe, expect, test } from 'vitest';
import {
  type ElectionState,
  type ElectionTiming,
  initialElectionState,
  isLeading,
  type LeaseRecord,
  leaseAttemptFailed,
  leaseWritten,
  nextAttemptDelayMs,
  planLeaseAttempt,
  releaseRecord,
} from '../../../src/actuate/index.js';

const timing: ElectionTiming = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };
const t0 = Date.UTC(2026, 10, 2, 12, 0, 0);
const at = (seconds: number) => t0 + seconds * 1000;

const held = (holderIdentity: string, overrides: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity,
  leaseDurationSeconds: 15,
  acquireTimeMs: at(-100),
  renewTimeMs: at(-1),
  leaseTransitions: 3,
  ...overrides,
});

/** The state of a replica that saw `record` first at `seenAtSeconds`. */
const seen = (record: LeaseRecord, seenAtSeconds: number): ElectionState => ({ observed: record, observedAtMs: at(seenAtSeconds), renewedAtMs: undefined });

describe('planLeaseAttempt', () => {
  const cases: readonly {
    readonly name: string;
    readonly state: ElectionState;
    readonly current: LeaseRecord | undefined;
    readonly nowSeconds: number;
    readonly expect: { readonly kind: 'create' | 'update' | 'wait'; readonly acquireAtSeconds?: number; readonly transitions?: number; readonly expiresAtSeconds?: number };
  }[] = [
    { name: 'creates the lease when there is none', state: initialElectionState, current: undefined, nowSeconds: 0, expect: { kind: 'create', acquireAtSeconds: 0, transitions: 0 } },
    {
      name: 'waits while another holder is within its duration, counted from first sight',
      state: initialElectionState,
      current: held('b', { renewTimeMs: at(-3600) }),
      nowSeconds: 0,
      // The renewTime is an hour old, but this replica saw the record only now: it waits 15 s.
      expect: { kind: 'wait', expiresAtSeconds: 15 },
    },
    {
      name: 'still waits one millisecond before the expiry',
      state: seen(held('b'), 0),
      current: held('b'),
      nowSeconds: 14.999,
      expect: { kind: 'wait', expiresAtSeconds: 15 },
    },
    {
      name: 'takes over an unchanged record once its duration has passed, adding a transition',
      state: seen(held('b'), 0),
      current: held('b'),
      nowSeconds: 15,
      expect: { kind: 'update', acquireAtSeconds: 15, transitions: 4 },
    },
    {
      name: 'restarts the wait when the holder renewed meanwhile',
      state: seen(held('b'), 0),
      current: held('b', { renewTimeMs: at(10) }),
      nowSeconds: 20,
      expect: { kind: 'wait', expiresAtSeconds: 35 },
    },
    {
      name: 'uses the duration the holder wrote, not its own',
      state: seen(held('b', { leaseDurationSeconds: 60 }), 0),
      current: held('b', { leaseDurationSeconds: 60 }),
      nowSeconds: 30,
      expect: { kind: 'wait', expiresAtSeconds: 60 },
    },
    {
      name: 'takes a released lease at once',
      state: initialElectionState,
      current: held('', { leaseDurationSeconds: 1 }),
      nowSeconds: 0,
      expect: { kind: 'update', acquireAtSeconds: 0, transitions: 4 },
    },
    {
      name: 'renews its own lease, keeping acquireTime and transitions',
      state: { observed: held('a'), observedAtMs: at(-1), renewedAtMs: at(-1) },
      current: held('a'),
      nowSeconds: 1,
      expect: { kind: 'update', acquireAtSeconds: -100, transitions: 3 },
    },
  ];

  for (const tc of cases) {
    test(tc.name, () => {
      const { attempt, state } = planLeaseAttempt(tc.state, tc.current, 'a', at(tc.nowSeconds), timing);
      expect(attempt.kind).toBe(tc.expect.kind);
      if (attempt.kind === 'wait') {
        expect(attempt.expiresAtMs).toBe(at(tc.expect.expiresAtSeconds!));
        expect(attempt.holderIdentity).toBe(tc.current?.holderIdentity);
        expect(state.renewedAtMs).toBeUndefined();
      } else {
        expect(attempt.record).toEqual({
          holderIdentity: 'a',
          leaseDurationSeconds: 15,
          acquireTimeMs: at(tc.expect.acquireAtSeconds!),
          renewTimeMs: at(tc.nowSeconds),
          leaseTransitions: tc.expect.transitions,
        });
      }
      if (tc.current !== undefined) expect(state.observed).toEqual(tc.current);
    });
  }

  test('a leader that sees another holder stops leading at once', () => {
    const leading: ElectionState = { observed: held('a'), observedAtMs: at(0), renewedAtMs: at(0) };
    expect(isLeading(leading, at(1), timing)).toBe(true);
    const { state, attempt } = planLeaseAttempt(leading, held('b', { renewTimeMs: at(1) }), 'a', at(1), timing);
    expect(attempt.kind).toBe('wait');
    expect(isLeading(state, at(1), timing)).toBe(false);
  });
});

describe('leadership over time', () => {
  test('lasts renewDeadline from the start of the last successful write', () => {
    const state = leaseWritten(held('a', { renewTimeMs: at(0) }), at(0));
    expect(isLeading(state, at(0), timing)).toBe(true);
    expect(isLeading(state, at(9.999), timing)).toBe(true);
    expect(isLeading(state, at(10), timing)).toBe(false);
  });

  test('a failed attempt keeps leadership until the deadline, then drops it', () => {
    const state = leaseWritten(held('a'), at(0));
    const early = leaseAttemptFailed(state, at(4), timing);
    expect(isLeading(early, at(4), timing)).toBe(true);
    const late = leaseAttemptFailed(early, at(11), timing);
    expect(late.renewedAtMs).toBeUndefined();
    // Once dropped, time going backwards (a test clock) does not bring it back.
    expect(isLeading(late, at(5), timing)).toBe(false);
  });

  test('a replica never leads while another may still lead (the deadline ends before the takeover)', () => {
    // Leader a renews at 0 s; b first sees that record as late as the same instant.
    const a = leaseWritten(held('a', { renewTimeMs: at(0) }), at(0));
    let b = planLeaseAttempt(initialElectionState, held('a', { renewTimeMs: at(0) }), 'b', at(0), timing).state;
    for (let ms = 0; ms <= 20_000; ms += 250) {
      const planned = planLeaseAttempt(b, held('a', { renewTimeMs: at(0) }), 'b', t0 + ms, timing);
      b = planned.state;
      const bMayLead = planned.attempt.kind !== 'wait';
      expect(bMayLead && isLeading(a, t0 + ms, timing), `both lead at ${ms} ms`).toBe(false);
    }
  });
});

describe('release and retry', () => {
  test('the leader releases with no holder and a one-second duration, keeping transitions', () => {
    const state = leaseWritten(held('a', { leaseTransitions: 7 }), at(0));
    expect(releaseRecord(state, at(1), timing)).toEqual({ holderIdentity: '', leaseDurationSeconds: 1, acquireTimeMs: at(1), renewTimeMs: at(1), leaseTransitions: 7 });
  });

  test('a replica that does not lead has nothing to release', () => {
    expect(releaseRecord(initialElectionState, at(0), timing)).toBeUndefined();
    const lapsed = leaseWritten(held('a'), at(0));
    expect(releaseRecord(lapsed, at(10), timing)).toBeUndefined();
  });

  test('the leader renews every retry period; the others wait 1 to 2.2 periods', () => {
    const leading = leaseWritten(held('a'), at(0));
    expect(nextAttemptDelayMs(leading, at(0), timing, 0.99)).toBe(2000);
    expect(nextAttemptDelayMs(initialElectionState, at(0), timing, 0)).toBe(2000);
    expect(nextAttemptDelayMs(initialElectionState, at(0), timing, 0.5)).toBeCloseTo(3200);
    expect(nextAttemptDelayMs(initialElectionState, at(0), timing, 0.999999)).toBeLessThan(4400);
  });
});
