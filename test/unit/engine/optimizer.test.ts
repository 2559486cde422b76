import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { InputRef, Sample } from '../../../src/core/index.js';
import { loadDecisionPolicy, type ObservationStore, type Recorder, Reconciler, type Snapshot, SnapshotStore } from '../../../src/engine/index.js';
import { createFileObservationLog } from '../../../src/training/index.js';
import { FakeSource } from '../../support/fake-source.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';

const MINUTE_MS = 60_000;
const repoRoot = new URL('../../..', import.meta.url).pathname;

/** Work one worker does per second while the queue has work waiting: what the optimizer must learn. */
const capacityPerReplica = 10;
/** Messages arriving per second: more than any observed replica count can drain. */
const arrivalsPerSecond = 70;
/** The optimizer's default headroom (run replicas at most 83 % busy). */
const headroom = 1.2;

const silent: Recorder = { cycleFinished() {}, sourceProblem() {}, modelFitted() {}, decided() {}, anomaliesScored() {} };

// The same rules without `learned_replicas` in the forecast demands: the control.
const shipped = readFileSync(join(repoRoot, 'policies/scaling.rules.yaml'), 'utf8');
const withoutOptimizer = shipped.replace(/, coalesce\(learned_replicas, 0\)\)"/g, ')"');
const dir = mkdtempSync(join(tmpdir(), 'foresight-optimizer-'));
const controlRules = join(dir, 'control.rules.yaml');
writeFileSync(controlRules, withoutOptimizer);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const yaml = (rulesFile: string) => `
queues:
  - { name: jobs, threshold: 200, resource: worker_processes }
forecast: { step: 1m, season: 1h, history: 3h, horizons: [5m], refitInterval: 10m }
scaling: { monitoringInterval: 60s }
decisions: { rulesFile: "${rulesFile}" }
`;

function samples(fromMs: number, toMs: number, valueAt: (t: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let t = fromMs; t <= toMs; t += MINUTE_MS) out.push({ timestampMs: t, value: valueAt(t) });
  return out;
}

/** Two reconcilers on the same data and clock: the shipped rules (storing observations in `observations`, if given), and the control rules. */
function setup(observations?: ObservationStore) {
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 0));
  const from = clock.nowMs() - 4 * 3_600_000;
  const to = clock.nowMs() + 3 * 3_600_000;
  // Replicas step through 3, 4, 5, 6 every 6 minutes; the queue always has work waiting, so every
  // replica is busy and the dequeue rate is replicas × capacity.
  const replicasAt = (t: number) => 3 + (Math.floor((t - from) / (6 * MINUTE_MS)) % 4);
  const queue = (metric: 'depth' | 'enqueue_rate_per_second' | 'dequeue_rate_per_second'): InputRef => ({ kind: 'queue', queue: 'jobs', metric });
  const source = new FakeSource()
    .set(
      queue('depth'),
      samples(from, to, () => 50),
    )
    .set(
      queue('enqueue_rate_per_second'),
      samples(from, to, () => arrivalsPerSecond),
    )
    .set(
      queue('dequeue_rate_per_second'),
      samples(from, to, (t) => replicasAt(t) * capacityPerReplica),
    )
    .set({ kind: 'replicas', resource: 'worker_processes' }, samples(from, to, replicasAt));
  const make = (rulesFile: string, observations?: ObservationStore) => {
    const config = configFromYaml(yaml(rulesFile));
    const policy = loadDecisionPolicy(config, [repoRoot]);
    if (!policy.ok) throw new Error(policy.error);
    return new Reconciler({
      source,
      clock,
      store: new SnapshotStore({ historyRetentionSeconds: 3600 }),
      recorder: silent,
      config: () => config,
      policy: () => policy.value,
      ...(observations === undefined ? {} : { observations }),
    });
  };
  return { clock, withOptimizer: make(join(repoRoot, 'policies/scaling.rules.yaml'), observations), control: make(controlRules) };
}

describe('Reconciler resource optimizer', () => {
  it('learns the per-replica capacity, and only a trusted recommendation changes the decisions', async () => {
    // The control really differs: all three queue consumers' forecast demands read learned_replicas.
    expect(shipped.match(/coalesce\(learned_replicas, 0\)/g)).toHaveLength(3);
    expect(withoutOptimizer).not.toContain('coalesce(learned_replicas');
    const { clock, withOptimizer, control } = setup();
    const cycles: { optimized: Snapshot; controlled: Snapshot }[] = [];
    for (let i = 0; i < 50; i++) {
      const optimized = await withOptimizer.runCycle();
      const controlled = await control.runCycle();
      cycles.push({ optimized, controlled });
      clock.advance(60);
    }

    const workerOptimizer = (s: Snapshot) => s.optimizer?.find((o) => o.resource === 'worker_processes');
    const worker = (s: Snapshot) => s.decisions.find((d) => d.resource === 'worker_processes')!;

    // Until the recommendation is trusted (no model yet, then a model from too few saturated
    // observations), the decisions are exactly those of the rules without the optimizer.
    const untrusted = cycles.filter((c) => workerOptimizer(c.optimized)?.trusted !== true);
    expect(untrusted.some((c) => workerOptimizer(c.optimized) === undefined)).toBe(true);
    expect(untrusted.some((c) => workerOptimizer(c.optimized)?.trusted === false)).toBe(true);
    for (const c of untrusted) expect(c.optimized.decisions).toEqual(c.controlled.decisions);

    // After enough saturated cycles and a refit bucket: trusted, near load × headroom / capacity.
    const last = cycles.at(-1)!;
    const learned = workerOptimizer(last.optimized)!;
    expect(learned.trusted).toBe(true);
    expect(learned.confidence).toBeGreaterThanOrEqual(0.7);
    expect(learned.capacityPerReplica).toBeCloseTo(capacityPerReplica, 6);
    expect(learned.predictedLoad).toBe(arrivalsPerSecond);
    expect(learned.recommendedReplicas).toBe(Math.ceil((arrivalsPerSecond * headroom) / capacityPerReplica));

    // The worker decision's forecast demand now includes it: the shipped rules recommend the
    // learned replicas, where the control (queue depth 50, well under a worker's backlog) does not.
    expect(worker(last.optimized).recommendedReplicas).toBe(learned.recommendedReplicas);
    expect(worker(last.controlled).recommendedReplicas).toBeLessThan(learned.recommendedReplicas);
    expect(cycles.some((c) => worker(c.optimized).reasons.includes('forecast_scale_up'))).toBe(true);
    // Resources without queues have no optimizer entry.
    expect(last.optimized.optimizer?.map((o) => o.resource)).toEqual(['worker_processes']);
  });

  it('keeps its observations across a restart: a new reconciler recommends from the first cycle', async () => {
    const store = createFileObservationLog(join(dir, 'observations'));
    const first = setup(store);
    for (let i = 0; i < 50; i++) {
      await first.withOptimizer.runCycle();
      first.clock.advance(60);
    }
    const stored = await store.load('worker_processes', 10_000);
    expect(stored).toHaveLength(50);
    expect(stored.every((o) => o.load === arrivalsPerSecond && o.throughput === o.replicas * capacityPerReplica)).toBe(true);
    // A restart: new reconcilers on the same store, same data and time. Without the store, the
    // first cycle has nothing to learn from.
    const restarted = setup(store);
    restarted.clock.advance(50 * 60);
    const fresh = setup();
    fresh.clock.advance(50 * 60);
    const recovered = (await restarted.withOptimizer.runCycle()).optimizer?.find((o) => o.resource === 'worker_processes');
    expect(recovered?.trusted).toBe(true);
    expect(recovered?.recommendedReplicas).toBe(Math.ceil((arrivalsPerSecond * headroom) / capacityPerReplica));
    expect((await fresh.withOptimizer.runCycle()).optimizer).toEqual([]);
    // The restarted run appended its own observation after the stored ones.
    expect(await store.load('worker_processes', 10_000)).toHaveLength(51);
  });
});
