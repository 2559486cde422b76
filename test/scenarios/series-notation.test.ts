import { describe, expect, it } from 'vitest';
import { expandSeries } from './series-notation.js';

describe('promtool series notation', () => {
  it.each([
    ['-2+4x3', [-2, 2, 6, 10]],
    ['1-2x4', [1, -1, -3, -5, -7]],
    ['1x4', [1, 1, 1, 1, 1]],
    ['1 _x3 stale', [1, undefined, undefined, undefined, undefined]],
    ['0+10x30', Array.from({ length: 31 }, (_, i) => 10 * i)],
    ['5 _ 7.5', [5, undefined, 7.5]],
  ])('%s', (text, expected) => {
    expect(expandSeries(text)).toEqual(expected);
  });

  it('refuses anything else', () => {
    expect(() => expandSeries('1 two 3')).toThrow(/"two"/);
  });
});
