/**
 * A minimal DER (ASN.1 Distinguished Encoding Rules) writer and reader: just the types an X.509 v3
 * certificate needs. Node can sign and parse certificates but neither write them nor show every
 * extension; these few encoders, plus node:crypto for keys and signatures, make a certificate
 * without an external `openssl` binary (which slim and distroless images lack), and the readers
 * give the extensions that chain verification needs (certificate-profile.ts).
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

/** One DER element inside a buffer: its tag byte, where its header starts, and its content's bounds. */
export interface DerElement {
  readonly tag: number;
  readonly headerStart: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Reads the element at `offset`, which must end by `limit`.
 *
 * @throws RangeError on a truncated element, an indefinite or oversized length.
 */
export function readElement(der: Buffer, offset: number, limit = der.length): DerElement {
  if (offset + 2 > limit) throw new RangeError(`malformed DER: element header at ${offset} runs past ${limit}`);
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > limit) throw new RangeError(`malformed DER: bad length at ${offset + 1}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    start += count;
  }
  if (start + length > limit) throw new RangeError(`malformed DER: element at ${offset} runs past ${limit}`);
  return { tag, headerStart: offset, start, end: start + length };
}

/** The elements inside a constructed element (a SEQUENCE, SET or EXPLICIT tag), in order. */
export function readChildren(der: Buffer, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readElement(der, at, parent.end);
    children.push(child);
    at = child.end;
  }
  return children;
}

/** The dotted form ("2.5.29.19") of an OBJECT IDENTIFIER's content. */
export function decodeOid(content: Buffer): string {
  if (content.length === 0) throw new RangeError('malformed DER: empty OBJECT IDENTIFIER');
  const first = content[0]!;
  const arcs: number[] = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  let value = 0;
  for (const byte of content.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** Milliseconds since the epoch of a UTCTime (0x17) or GeneralizedTime (0x18) element in UTC ("…Z"). */
export function decodeTime(der: Buffer, element: DerElement): number {
  const text = der.toString('ascii', element.start, element.end);
  const match = element.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : element.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
  if (match === null) throw new RangeError(`malformed DER: ${JSON.stringify(text)} is not a UTC certificate time`);
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  // RFC 5280 §4.1.2.5.1: a two-digit year below 50 is 20YY, otherwise 19YY.
  const year = element.tag === 0x17 ? (y < 50 ? 2000 + y : 1900 + y) : y;
  return Date.UTC(year, mo - 1, d, h, mi, s);
}
