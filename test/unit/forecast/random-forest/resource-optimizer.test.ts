import { describe, expect, it } from 'vitest';
import { trainResourceOptimizer } from '../../../../src/forecast/index.js';
import type { ResourceObservation } from '../../../../src/forecast/index.js';
import { lcg } from '../series-helpers.js';

const capacityPerReplica = 50; // messages per second one worker processes when busy
const start = Date.UTC(2024, 0, 1);

/**
 * A queue consumer with a known capacity: arrivals follow a daily cycle, replicas change now and
 * then, a replica drains at most 50 msg/s (±5 % noise), and the backlog grows when arrivals exceed
 * capacity. Throughput equals arrivals when nothing waits, so only saturated periods reveal capacity.
 */
function history(days: number, seed = 1): ResourceObservation[] {
  const random = lcg(seed);
  const out: ResourceObservation[] = [];
  let backlog = 0;
  let replicas = 4;
  const stepSeconds = 300;
  for (let i = 0; i < days * 288; i++) {
    if (i % 36 === 0) replicas = 2 + Math.floor(random() * 7); // 2..8, changed every 3 hours
    const hour = (i % 288) / 12;
    const load = 150 + 150 * Math.sin((2 * Math.PI * (hour - 6)) / 24) + 20 * random();
    const capacity = replicas * capacityPerReplica * (0.95 + 0.1 * random());
    const available = load + backlog / stepSeconds;
    const throughput = Math.min(available, capacity);
    backlog = Math.max(0, backlog + (load - throughput) * stepSeconds);
    out.push({ timestampMs: start + i * stepSeconds * 1000, replicas, load, throughput, backlog, latencySeconds: backlog / Math.max(1, throughput) });
  }
  return out;
}

describe('Random Forest resource optimizer', () => {
  const observations = history(7);
  const trained = trainResourceOptimizer('worker_processes', observations, { maxBacklog: 1000 }, { seed: 3 });

  it('recovers the per-replica capacity from saturated periods only', () => {
    if (!trained.ok) throw new Error(trained.error.message);
    expect(trained.value.saturatedSamples).toBeGreaterThan(30);
    expect(trained.value.saturatedSamples).toBeLessThan(observations.length);
    expect(Math.abs(trained.value.medianCapacityPerReplica - capacityPerReplica) / capacityPerReplica).toBeLessThan(0.1);
  });

  const table = [
    { load: 100, expected: Math.ceil((100 * 1.2) / capacityPerReplica) },
    { load: 240, expected: Math.ceil((240 * 1.2) / capacityPerReplica) },
    { load: 400, expected: Math.ceil((400 * 1.2) / capacityPerReplica) },
  ];
  it.each(table)('recommends replicas for a predicted load of $load msg/s (≈ $expected with 20 % headroom)', ({ load, expected }) => {
    if (!trained.ok) throw new Error(trained.error.message);
    const r = trained.value.recommend(load, start + 8 * 86_400_000 + 12 * 3_600_000, { min: 2, max: 20 }, 0.7);
    expect(Math.abs(r.recommendedReplicas - expected)).toBeLessThanOrEqual(1);
    expect(r.capacityPerReplica).toBeGreaterThan(0.85 * capacityPerReplica);
    expect(r.capacityPerReplica).toBeLessThan(1.15 * capacityPerReplica);
    expect(r.trusted).toBe(true);
    expect(r.reasons).toContain('learned_capacity');
  });

  it('is not trusted far beyond the loads it has seen, and says why', () => {
    if (!trained.ok) throw new Error(trained.error.message);
    const r = trained.value.recommend(5000, start, { min: 2, max: 20 }, 0.7);
    expect(r.trusted).toBe(false);
    expect(r.reasons).toEqual(expect.arrayContaining(['load_beyond_history', 'no_replica_meets_load']));
    expect(r.recommendedReplicas).toBe(20);
  });

  it('refuses to learn from a history that never saturated (no honest capacity label)', () => {
    const idle = history(2).map((o) => ({ ...o, backlog: 0, throughput: o.load }));
    const result = trainResourceOptimizer('worker_processes', idle, { maxBacklog: 1000 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/saturated/);
  });
});
