import { describe, expect, it } from 'vitest';
import { stabilizedReplicas } from '../../../../src/decide/index.js';
import { stabilize } from '../../../../src/decide/stages/stabilization.js';
import { draft, seconds } from './helpers.js';

const windows = { scaleUpSeconds: 0, scaleDownSeconds: 300 };
const recs = (pairs: readonly (readonly [number, number])[]) => pairs.map(([s, replicas]) => ({ atMs: seconds(s), replicas }));

describe('stabilizedReplicas (the HPA rule)', () => {
  it.each([
    // [what, current, desired, past [(s, replicas)], now (s), windows, expected]
    ['scale-down held by a higher recommendation in the window', 10, 4, [[0, 9]], 200, windows, 9],
    [
      'scale-down to the highest recent recommendation',
      10,
      4,
      [
        [0, 6],
        [100, 7],
      ],
      200,
      windows,
      7,
    ],
    ['a recommendation exactly 300 s old is out of the window', 10, 4, [[0, 9]], 300, windows, 4],
    ['scale-up is immediate with a zero window', 4, 10, [[290, 5]], 300, windows, 10],
    [
      'scale-up limited by the lowest in a 60 s window',
      4,
      10,
      [
        [250, 6],
        [280, 8],
      ],
      300,
      { scaleUpSeconds: 60, scaleDownSeconds: 300 },
      6,
    ],
    ['scale-up window never scales below current', 4, 10, [[280, 2]], 300, { scaleUpSeconds: 60, scaleDownSeconds: 300 }, 4],
    ['no change when desired equals current', 5, 5, [[0, 9]], 100, windows, 5],
    ['empty history follows the desired value', 5, 2, [], 100, windows, 2],
  ] as const)('%s', (_what, current, desired, past, nowS, w, expected) => {
    expect(stabilizedReplicas(current, desired, recs(past), seconds(nowS), w)).toBe(expected);
  });
});

describe('stabilize stage', () => {
  it('limits a scale-down and says so', () => {
    const out = stabilize(draft({ baseline: 10, replicas: 4 }), 4, recs([[0, 8]]), seconds(60), windows);
    expect(out.replicas).toBe(8);
    expect(out.reasons).toEqual(['stabilized_scale_down']);
  });

  it('leaves emergencies and holds alone', () => {
    expect(stabilize(draft({ baseline: 4, replicas: 9, emergency: true }), 9, recs([[0, 5]]), seconds(10), { scaleUpSeconds: 60, scaleDownSeconds: 300 }).replicas).toBe(9);
    expect(stabilize(draft({ baseline: 4, replicas: 4 }), 2, recs([[0, 9]]), seconds(10), windows).reasons).toEqual([]);
  });
});
