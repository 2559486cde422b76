/**
 * Kubernetes `resource.Quantity` strings, as the external-metrics API carries values.
 *
 * Formatting follows apimachinery's canonical form for DecimalSI quantities: no fractional digits,
 * the largest suffix that loses no precision, and a sign only when negative (`1.5` → `"1500m"`,
 * `10` → `"10"`, `2000` → `"2k"`). Values are carried at milli precision, because that is what the
 * HPA reads (`Quantity.MilliValue()`).
 *
 * Parsing exists for the HPA emulation in tests and for documentation examples: it accepts every
 * well-formed quantity (decimal exponents, decimal and binary suffixes) and computes the milli
 * value exactly, rounding up as `MilliValue()` does.
 */
import { maxServableMagnitude } from '../../core/index.js';

/**
 * Largest magnitude served: core's `maxServableMagnitude` (9 × 10^12), the bound every surface
 * shares. It keeps `value × 1000` an exact integer in a double (below 2^53), and is far inside the
 * int64 milli value the HPA computes, so no answer can overflow there.
 */
export const maxQuantityMagnitude = maxServableMagnitude;

const decimalSuffixes = [
  ['E', 18n],
  ['P', 15n],
  ['T', 12n],
  ['G', 9n],
  ['M', 6n],
  ['k', 3n],
] as const;

/**
 * The canonical quantity for `value` rounded to the nearest thousandth, or `undefined` when the
 * value cannot be served: NaN, ±Infinity, or a magnitude above {@link maxQuantityMagnitude}.
 * Callers must treat `undefined` as "no value", never as zero.
 */
export function formatQuantity(value: number): string | undefined {
  if (!Number.isFinite(value) || Math.abs(value) > maxQuantityMagnitude) return undefined;
  // The magnitude bound keeps value * 1000 below 2^53, so this integer is exact.
  const milli = Math.round(value * 1000);
  if (milli === 0) return '0';
  return formatMilli(BigInt(milli));
}

/** Canonical form of an integer number of thousandths. */
export function formatMilli(milli: bigint): string {
  if (milli === 0n) return '0';
  const sign = milli < 0n ? '-' : '';
  const magnitude = milli < 0n ? -milli : milli;
  if (magnitude % 1000n !== 0n) return `${sign}${magnitude}m`;
  const units = magnitude / 1000n;
  for (const [suffix, exponent] of decimalSuffixes) {
    const scale = 10n ** exponent;
    if (units % scale === 0n) return `${sign}${units / scale}${suffix}`;
  }
  return `${sign}${units}`;
}

const quantityPattern = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;
const decimalExponent: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binaryExponent: Readonly<Record<string, bigint>> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };

/** An exactly parsed quantity: `mantissa × 10^exponent10 × 2^exponent2`. */
interface ExactQuantity {
  readonly mantissa: bigint;
  readonly exponent10: number;
  readonly exponent2: bigint;
}

function parseExact(text: string): ExactQuantity | undefined {
  const match = quantityPattern.exec(text);
  if (match === null) return undefined;
  const [, sign, number, suffix, exponent] = match;
  const [whole = '', fraction = ''] = number!.split('.');
  let mantissa = BigInt(`${whole}${fraction}` === '' ? '0' : `${whole}${fraction}`);
  if (sign === '-') mantissa = -mantissa;
  let exponent10 = -fraction.length;
  let exponent2 = 0n;
  if (exponent !== undefined) {
    const e = Number(exponent);
    // Quantities beyond 10^±(a few hundred) are not meaningful; refusing them keeps BigInt math small.
    if (!Number.isSafeInteger(e) || Math.abs(e) > 400) return undefined;
    exponent10 += e;
  } else if (suffix !== undefined && suffix in binaryExponent) {
    exponent2 = binaryExponent[suffix]!;
  } else {
    exponent10 += decimalExponent[suffix ?? '']!;
  }
  return { mantissa, exponent10, exponent2 };
}

/**
 * The value of a quantity string in thousandths, rounded up like apimachinery's
 * `Quantity.MilliValue()`, or `undefined` when the text is not a quantity.
 */
export function quantityMilliValue(text: string): bigint | undefined {
  const q = parseExact(text);
  if (q === undefined) return undefined;
  let numerator = q.mantissa * 2n ** q.exponent2;
  let denominator = 1n;
  const e = q.exponent10 + 3;
  if (e >= 0) numerator *= 10n ** BigInt(e);
  else denominator = 10n ** BigInt(-e);
  // Ceiling division that also rounds negative values up (towards +∞), as ScaledValue does.
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  return remainder > 0n ? quotient + 1n : quotient;
}

/** The value of a quantity string as a (possibly rounded) number, or `undefined` when it is not a quantity. */
export function parseQuantity(text: string): number | undefined {
  const q = parseExact(text);
  if (q === undefined) return undefined;
  return Number(q.mantissa) * 10 ** q.exponent10 * 2 ** Number(q.exponent2);
}
