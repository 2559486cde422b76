/**
 * A minimal DER (ASN.1 Distinguished Encoding Rules) writer: just the types an X.509 v3 certificate
 * needs. Node can sign and parse certificates but not write them; these few encoders, plus
 * node:crypto for keys and signatures, make a certificate without an external `openssl` binary
 * (which slim and distroless images lack).
 */

/** Encodes a DER length (short form below 128, long form above). */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A TLV with the given tag byte and content. */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** SEQUENCE of the given encoded elements. */
export function sequence(...elements: readonly Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(elements));
}

/** SET OF the given encoded elements (DER sorts them by encoding). */
export function set(...elements: readonly Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat([...elements].sort(Buffer.compare)));
}

/** INTEGER from unsigned big-endian bytes (a leading zero is added when the top bit is set). */
export function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : Buffer.from(trimmed));
}

/** INTEGER from a small non-negative number. */
export function smallInteger(value: number): Buffer {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return unsignedInteger(Buffer.from(bytes.length === 0 ? [0] : bytes));
}

/** BOOLEAN. */
export function boolean(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

/** OBJECT IDENTIFIER from its dotted form ("2.5.4.3"). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes: number[] = [first * 40 + second];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTF8String. */
export function utf8String(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

/** OCTET STRING. */
export function octetString(content: Buffer): Buffer {
  return tlv(0x04, content);
}

/** BIT STRING with `unusedBits` unused bits in the last byte. */
export function bitString(content: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
}

/** NULL. */
export function nullValue(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

/**
 * A certificate time: UTCTime for 1950–2049 and GeneralizedTime otherwise, as RFC 5280 §4.1.2.5
 * requires, always in UTC with whole seconds.
 */
export function time(timestampMs: number): Buffer {
  const iso = new Date(Math.floor(timestampMs / 1000) * 1000).toISOString(); // 2026-01-02T03:04:05.000Z
  const year = Number(iso.slice(0, 4));
  const rest = `${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2, 4)}${rest}`, 'ascii')) : tlv(0x18, Buffer.from(`${iso.slice(0, 4)}${rest}`, 'ascii'));
}

/** `[n]` EXPLICIT: wraps an encoded element in a constructed context-specific tag. */
export function explicit(tagNumber: number, element: Buffer): Buffer {
  return tlv(0xa0 | tagNumber, element);
}

/** `[n]` IMPLICIT primitive: the content with a context-specific tag instead of its own. */
export function implicitPrimitive(tagNumber: number, content: Buffer): Buffer {
  return tlv(0x80 | tagNumber, content);
}
