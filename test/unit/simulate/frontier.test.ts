import { describe, expect, it } from 'vitest';
import { lowerConvexHull, monotoneFrontier, readFrontier } from '../../../src/simulate/index.js';

const points = [
  { cost: 100, value: 10 },
  { cost: 120, value: 9 }, // above the segment from (100, 10) to (200, 2): on the monotone frontier, off the hull
  { cost: 150, value: 12 }, // dominated
  { cost: 200, value: 2 },
  { cost: 300, value: 1 },
];

describe('cost/quality frontiers', () => {
  it('keep the Pareto-optimal points by increasing cost', () => {
    expect(monotoneFrontier(points).map((p) => p.cost)).toEqual([100, 120, 200, 300]);
  });

  it('the lower convex hull drops points above the chord, and never lies above the monotone frontier', () => {
    const hull = lowerConvexHull(points);
    expect(hull.map((p) => p.cost)).toEqual([100, 200, 300]);
    for (let cost = 100; cost <= 300; cost += 5) expect(readFrontier(hull, cost).value).toBeLessThanOrEqual(readFrontier(monotoneFrontier(points), cost).value + 1e-12);
  });

  it('reads by linear interpolation, and says when the cost is outside the swept range', () => {
    const hull = lowerConvexHull(points);
    expect(readFrontier(hull, 150)).toEqual({ value: 6, position: 'inside' });
    expect(readFrontier(hull, 250)).toEqual({ value: 1.5, position: 'inside' });
    expect(readFrontier(hull, 50)).toEqual({ value: 10, position: 'cheaper' });
    expect(readFrontier(hull, 400)).toEqual({ value: 1, position: 'costlier' });
  });
});
