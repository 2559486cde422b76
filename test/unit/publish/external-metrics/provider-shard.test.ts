import { describe, expect, test } from 'vitest';
import type { AnomalyState, ReadBackAnomaly, Snapshot } from '../../../../src/engine/index.js';
import { createSnapshotProvider, parseLabelSelector, type ProviderSettings } from '../../../../src/publish/external-metrics/index.js';
import { ManualClock } from '../../../support/manual-clock.js';
import { anomaly, makeSnapshot } from './snapshot-fixture.js';

// A sharded replica serves the other shards' anomaly scores read back from the shared store beside its
// own verdicts: each only in its workload's namespace, stamped with its sample time, and listed in one
// order whichever replica answers.

const completedAtMs = Date.UTC(2026, 10, 2, 12, 0, 0);
const sampleMs = completedAtMs - 25_000;
const settings: ProviderSettings = { maxAgeSeconds: 300, defaultHorizonSeconds: 900, defaultQuantile: '0.5', windowSeconds: 60, exposure: [] };

/** Verdicts of two workloads in "shop" and one in "claims", and the cluster-wide CPU every replica scores. */
const scores: readonly ReadBackAnomaly[] = [
  { namespace: 'shop', workload: 'orders-worker', metric: 'queue_depth', queue: 'orders', score: 0.875, sampleMs },
  { namespace: 'shop', workload: 'orders-worker', metric: 'cpu', score: 0.5, sampleMs },
  { namespace: 'shop', workload: 'billing', metric: 'cpu', score: 0.125, sampleMs },
  { namespace: 'claims', workload: 'review', metric: 'queue_depth', queue: 'review', score: 0.75, sampleMs },
];
const clusterCpu = anomaly('cpu', 0.25);

/** This replica's own verdict on a score's series (what the reconciler makes for a workload's input). */
function ownVerdict(a: ReadBackAnomaly): AnomalyState {
  const input = a.queue === undefined ? `workload/${a.namespace}/${a.workload}/cpu_percent` : `queue/${a.namespace}/${a.workload}/${a.queue}/depth`;
  return { ...anomaly(a.metric, a.score, a.queue), namespace: a.namespace, workload: a.workload, seriesKey: input };
}

/** The snapshot of a replica that owns the workloads `owns` and read the others back. */
function replicaOwning(owns: readonly string[]): Snapshot {
  const own = scores.filter((a) => owns.includes(`${a.namespace}/${a.workload}`));
  const others = scores.filter((a) => !owns.includes(`${a.namespace}/${a.workload}`));
  return {
    ...makeSnapshot({ completedAtMs, queues: [], anomalies: [...own.map(ownVerdict), clusterCpu] }),
    shard: {
      index: 0,
      replicas: 2,
      ownWorkloads: owns.length,
      readBack: { attemptedAtMs: completedAtMs - 1_000, lastSuccessAtMs: completedAtMs - 1_000, series: others.length, oldestSampleMs: sampleMs },
      queues: [],
      decisions: [],
      anomalies: others,
    },
  };
}

function ask(snapshot: Snapshot, namespace: string, selector = '') {
  const provider = createSnapshotProvider({ latest: () => snapshot, clock: new ManualClock(completedAtMs + 5_000), settings: () => settings });
  const parsed = parseLabelSelector(selector);
  if (!parsed.ok) throw new Error(parsed.error);
  const answer = provider.getExternalMetric({ namespace, metric: 'anomaly_score', selector: parsed.value });
  return answer.ok ? answer.value.items.map((i) => ({ labels: i.metricLabels, value: i.value, timestamp: i.timestamp })) : answer.error.code;
}

describe("a sharded replica's anomaly scores read back from the other shards", () => {
  const replicaA = replicaOwning(['shop/billing']);
  const replicaB = replicaOwning(['shop/orders-worker', 'claims/review']);

  test('are served in their own namespace only, with their workload labels and their sample time', () => {
    expect(ask(replicaA, 'claims')).toEqual([
      { labels: { metric: 'cpu' }, value: '250m', timestamp: '2026-11-02T12:00:00Z' },
      { labels: { metric: 'queue_depth', queue: 'review', namespace: 'claims', workload: 'review' }, value: '750m', timestamp: '2026-11-02T11:59:35Z' },
    ]);
    expect(ask(replicaA, 'shop', 'metric=queue_depth,queue=orders')).toEqual([
      { labels: { metric: 'queue_depth', queue: 'orders', namespace: 'shop', workload: 'orders-worker' }, value: '875m', timestamp: '2026-11-02T11:59:35Z' },
    ]);
    // Another namespace never sees them, by name or by listing.
    expect(ask(replicaA, 'claims', 'workload=orders-worker')).toBe(404);
    expect(ask(replicaA, 'claims', 'metric=queue_depth,queue=orders')).toBe(404);
    expect(ask(replicaA, 'default', 'metric=queue_depth')).toBe(404);
    expect(ask(replicaA, 'default')).toEqual([{ labels: { metric: 'cpu' }, value: '250m', timestamp: '2026-11-02T12:00:00Z' }]);
  });

  test('every replica answers the same list in the same order, whichever part it owns', () => {
    for (const [namespace, selector] of [
      ['shop', ''],
      ['shop', 'metric=cpu'],
      ['claims', ''],
    ] as const) {
      const fromA = ask(replicaA, namespace, selector);
      const fromB = ask(replicaB, namespace, selector);
      const labelsAndValues = (answer: typeof fromA) => (typeof answer === 'number' ? answer : answer.map(({ labels, value }) => ({ labels, value })));
      expect(labelsAndValues(fromA), `${namespace} {${selector}}`).toEqual(labelsAndValues(fromB));
    }
    expect(ask(replicaB, 'shop', 'metric=cpu')).toEqual([
      { labels: { metric: 'cpu' }, value: '250m', timestamp: '2026-11-02T12:00:00Z' },
      { labels: { metric: 'cpu', namespace: 'shop', workload: 'billing' }, value: '125m', timestamp: '2026-11-02T11:59:35Z' },
      { labels: { metric: 'cpu', namespace: 'shop', workload: 'orders-worker' }, value: '500m', timestamp: '2026-11-02T12:00:00Z' },
    ]);
  });

  test("an own verdict's namespace comes from the verdict itself, not from its input key", () => {
    // The key says nothing about a workload: the verdict's own namespace keeps it private.
    const verdict: AnomalyState = { ...anomaly('memory', 0.5), namespace: 'shop', workload: 'billing', seriesKey: 'opaque' };
    const snapshot = makeSnapshot({ completedAtMs, queues: [], anomalies: [verdict] });
    expect(ask(snapshot, 'shop')).toEqual([{ labels: { metric: 'memory', namespace: 'shop', workload: 'billing' }, value: '500m', timestamp: '2026-11-02T12:00:00Z' }]);
    expect(ask(snapshot, 'claims')).toBe(404);
  });
});
