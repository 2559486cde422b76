import { describe, expect, it } from 'vitest';
import { type Snapshot, SnapshotStore } from '../../../src/engine/index.js';

function snapshot(cycle: number, completedAtMs: number, depth: number): Snapshot {
  return {
    cycle,
    startedAtMs: completedAtMs - 100,
    completedAtMs,
    durationSeconds: 0.1,
    inputs: [],
    queues: [{ queue: 'q', threshold: 10, resource: 'worker_processes', current: { depth }, depthForecasts: [] }],
    forecasts: [],
    accuracy: [],
    maturedAccuracy: [],
    anomalies: [],
    decisions: [],
    problems: [],
  };
}

describe('SnapshotStore', () => {
  it('keeps the last snapshot through failures and reports its age', () => {
    const store = new SnapshotStore({ historyRetentionSeconds: 3600 });
    expect(store.latest()).toBeUndefined();
    expect(store.ageSeconds(0)).toBe(Number.POSITIVE_INFINITY);
    store.publish(snapshot(1, 1_000_000, 5));
    store.recordFailure(1_030_000, 'connect ECONNREFUSED');
    store.recordFailure(1_060_000, 'connect ECONNREFUSED');
    expect(store.latest()?.cycle).toBe(1);
    expect(store.ageSeconds(1_060_000)).toBe(60);
    expect(store.status()).toMatchObject({ lastError: 'connect ECONNREFUSED', consecutiveFailures: 2, lastSuccessAtMs: 1_000_000 });
    store.publish(snapshot(2, 1_090_000, 6));
    expect(store.status()).toMatchObject({ lastError: undefined, consecutiveFailures: 0 });
  });

  it('trims history to the retention window', () => {
    const store = new SnapshotStore({ historyRetentionSeconds: 100 });
    for (let i = 1; i <= 10; i++) store.publish(snapshot(i, i * 30_000, i));
    const kept = store.history(0);
    // The newest is at 300 s; entries older than 200 s are dropped.
    expect(kept.map((e) => e.cycle)).toEqual([7, 8, 9, 10]);
    expect(kept[0]?.queues[0]?.depth).toBe(7);
    expect(store.history(270_000).map((e) => e.cycle)).toEqual([9, 10]);
  });
});
