import { describe, expect, test } from 'vitest';
import { formatMilli, formatQuantity, maxQuantityMagnitude, parseQuantity, quantityMilliValue } from '../../../../src/publish/external-metrics/index.js';

describe('formatQuantity: canonical Kubernetes quantities at milli precision', () => {
  const cases: readonly [number, string][] = [
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [10, '10'],
    [1.5, '1500m'],
    [10.5, '10500m'],
    [0.001, '1m'],
    [0.0004, '0'], // below a thousandth rounds to zero
    [0.0005, '1m'], // half a thousandth rounds up
    [1234.5678, '1234568m'],
    [999.9999, '1k'], // rounds to 1000, which is canonically 1k
    [1000, '1k'],
    [1500, '1500'], // 1.5k would need a fraction: not canonical
    [2_000_000, '2M'],
    [1_500_000, '1500k'],
    [3e9, '3G'],
    [7e12 / 7, '1T'],
    [-1.5, '-1500m'],
    [-2000, '-2k'],
    [0.1 + 0.2, '300m'], // float noise does not leak into the string
    [12, '12'],
    [12.0001, '12'],
  ];
  for (const [value, expected] of cases) {
    test(`${value} → "${expected}"`, () => {
      expect(formatQuantity(value)).toBe(expected);
    });
  }

  test.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, maxQuantityMagnitude * 2, -maxQuantityMagnitude * 2])('%s cannot be served', (value) => {
    expect(formatQuantity(value)).toBeUndefined();
  });

  test('the largest served magnitude is still exact', () => {
    expect(formatQuantity(maxQuantityMagnitude)).toBe('9T');
    expect(formatQuantity(maxQuantityMagnitude - 0.5)).toBe('8999999999999500m');
  });

  test('formatMilli picks the largest suffix without losing digits', () => {
    expect(formatMilli(1000n)).toBe('1');
    expect(formatMilli(1001n)).toBe('1001m');
    expect(formatMilli(10n ** 21n)).toBe('1E');
    expect(formatMilli(-(10n ** 9n))).toBe('-1M');
  });
});

describe('quantityMilliValue: what the HPA reads (MilliValue, rounding up)', () => {
  const cases: readonly [string, bigint][] = [
    ['1500m', 1500n],
    ['1.5', 1500n],
    ['1', 1000n],
    ['1k', 1_000_000n],
    ['1Ki', 1_024_000n],
    ['1Mi', 1_048_576_000n],
    ['1e3', 1_000_000n],
    ['1E', 10n ** 21n], // the exa suffix, not an exponent
    ['2.5e-3', 3n], // 2.5 thousandths round up to 3
    ['1u', 1n], // a millionth rounds up to one thousandth
    ['100n', 1n],
    ['0', 0n],
    ['-1500m', -1500n],
    ['-1.0005', -1000n], // rounds towards +∞, as ScaledValue does
    ['+3', 3000n],
    ['.5', 500n],
    ['5.', 5000n],
  ];
  for (const [text, expected] of cases) {
    test(`"${text}" → ${expected}m`, () => {
      expect(quantityMilliValue(text)).toBe(expected);
    });
  }

  test.each(['', 'm', '1.5.5', '1x', '1 k', 'Ki', '--1', '1e', '1e99999', 'NaN', 'Infinity'])('%j is not a quantity', (text) => {
    expect(quantityMilliValue(text)).toBeUndefined();
    expect(parseQuantity(text)).toBeUndefined();
  });

  test('every formatted value reads back to the same thousandths', () => {
    for (const value of [0, 0.001, 1.5, 999.999, 1000, 123456.789, 42e9, -7.25]) {
      const text = formatQuantity(value)!;
      expect(quantityMilliValue(text)).toBe(BigInt(Math.round(value * 1000)));
      expect(parseQuantity(text)).toBeCloseTo(value, 3);
    }
  });
});
