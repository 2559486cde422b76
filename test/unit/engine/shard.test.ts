import { describe, expect, test } from 'vitest';
import { isSharded, ownsWorkload, shardConfig, shardOf, workloadShardKey } from '../../../src/engine/index.js';
import { configFromYaml } from '../../support/service.js';

const sharded = (index: number, replicas = 3) =>
  configFromYaml(`
logLevel: silent
source: { type: prometheus }
workloads:
  - { name: orders-worker, namespace: shop, queues: [{ name: orders }] }
  - { name: billing, namespace: shop, queues: [{ name: invoices }] }
  - { name: intake, namespace: claims, queues: [{ name: intake }] }
  - { name: review, namespace: claims, queues: [{ name: review }] }
  - { name: inference, namespace: ml, queues: [{ name: images }] }
  - { name: batch, namespace: ml, queues: [{ name: nightly }] }
sharding: { replicas: ${replicas}, index: ${index} }
`);

describe('rendezvous sharding of workloads', () => {
  test('the assignment is a fixed function of the key and the replica count (it must not change between versions)', () => {
    // Pinned: a change here reshuffles every installation's shards on upgrade.
    const keys = ['shop/orders-worker', 'shop/billing', 'claims/intake', 'claims/review', 'ml/inference', 'ml/batch'];
    expect(keys.map((k) => shardOf(k, 3))).toEqual([1, 0, 1, 2, 2, 1]);
    expect(keys.map((k) => shardOf(k, 4))).toEqual([3, 3, 1, 2, 3, 1]);
    expect(keys.map((k) => shardOf(k, 1))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  test('keys spread evenly, and a fourth replica takes about a quarter of them from the others, moving nothing else', () => {
    const counts = [0, 0, 0];
    let moved = 0;
    const n = 9000;
    for (let i = 0; i < n; i++) {
      const key = workloadShardKey(`team-${i % 40}`, `worker-${i}`);
      const three = shardOf(key, 3);
      counts[three]! += 1;
      const four = shardOf(key, 4);
      if (four !== three) {
        moved += 1;
        // A key moves only to the new replica: the existing ones keep what they had.
        expect(four).toBe(3);
      }
    }
    for (const count of counts) expect(Math.abs(count - n / 3)).toBeLessThan(0.05 * n);
    expect(moved / n).toBeGreaterThan(0.2);
    expect(moved / n).toBeLessThan(0.3);
  });

  test("each replica's configuration holds exactly its workloads; together they hold each workload once", () => {
    const seen = new Map<string, number>();
    for (let index = 0; index < 3; index++) {
      const whole = sharded(index);
      const own = shardConfig(whole);
      expect(isSharded(whole)).toBe(true);
      // The same object for the same configuration: the engine sees a new one only on a reload.
      expect(shardConfig(whole)).toBe(own);
      for (const w of own.workloads) {
        expect(ownsWorkload(whole, w.namespace, w.name)).toBe(true);
        seen.set(`${w.namespace}/${w.name}`, (seen.get(`${w.namespace}/${w.name}`) ?? 0) + 1);
      }
      expect(own.sharding).toBe(whole.sharding);
    }
    expect(seen.size).toBe(6);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
  });

  test('one replica owns everything and keeps its configuration as it is', () => {
    const config = configFromYaml('logLevel: silent\n');
    expect(isSharded(config)).toBe(false);
    expect(shardConfig(config)).toBe(config);
    expect(ownsWorkload(config, 'any', 'thing')).toBe(true);
  });
});
