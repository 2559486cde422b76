import { describe, expect, it } from 'vitest';
import { FluidQueue } from '../../../src/simulate/index.js';

describe('fluid FIFO queue', () => {
  it('serves the oldest work first and reports its age', () => {
    const q = new FluidQueue(2);
    q.push(0, 100);
    q.push(10_000, 50);
    q.push(20_000, 30);
    expect(q.depth).toBe(180);
    expect(q.serve(120)).toBe(120);
    // 100 from t=0 and 20 of the 50 from t=10 s are gone: the oldest left arrived at 10 s.
    expect(q.depth).toBe(60);
    expect(q.oldestWaitSeconds(25_000)).toBe(15);
    // Average age at 25 s: 30 units from 10 s (15 s) and 30 from 20 s (5 s) → 10 s.
    expect(q.averageWaitSeconds(25_000)).toBeCloseTo(10, 9);
    expect(q.serve(1000)).toBe(60);
    expect(q.depth).toBe(0);
    expect(q.oldestWaitSeconds(30_000)).toBe(0);
    expect(q.averageWaitSeconds(30_000)).toBe(0);
  });

  it('grows past its initial size and ignores empty arrivals', () => {
    const q = new FluidQueue(1);
    for (let i = 0; i < 100; i++) q.push(i * 1000, i === 50 ? 0 : 1);
    expect(q.depth).toBe(99);
    q.serve(98.5);
    expect(q.depth).toBeCloseTo(0.5, 9);
    expect(q.oldestWaitSeconds(100_000)).toBe(1);
  });
});
