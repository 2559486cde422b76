import { type ParsedResult, parseSampleValue, type ResultSeries } from './prometheus-response.js';

// Decoding a `/api/v1/query_range` answer from its bytes straight into columns. Through
// prometheus-query, each point became a JSON array and a string (JSON.parse), then a `Date` and a
// sample object (the driver): five objects a point, 22 M points for 1,000 queues × 7 days
// (docs/workloads.md "Scale"). Here a point costs no object: the bytes are scanned once, numbers
// are read from the digits, and each series' points go into one pair of Float64Array columns.

enum Byte {
  Tab = 0x09,
  NewLine = 0x0a,
  Return = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Plus = 0x2b,
  Comma = 0x2c,
  Minus = 0x2d,
  Dot = 0x2e,
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a,
  UpperE = 0x45,
  OpenBracket = 0x5b,
  Backslash = 0x5c,
  CloseBracket = 0x5d,
  LowerE = 0x65,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
}

/** Deeper nesting than this is no Prometheus answer (its deepest is a histogram bucket, 6 levels); refused before the stack is. */
const maxDepth = 32;
/** Powers of ten that are exact doubles: a product or quotient with one of them is correctly rounded. */
const exactPowersOfTen = Array.from({ length: 23 }, (_, i) => 10 ** i);
const utf8 = new TextDecoder();

/** The body is not JSON, or not the shape of a Prometheus answer; `message` says what and at which byte. */
class BadAnswer extends Error {}

/**
 * Decodes a `query_range` answer: a matrix into label sets and sample columns, or why it cannot be
 * read. As the driver path did: a point that is not `[time, value]` is skipped, values are
 * Prometheus' strings ("NaN", "+Inf" and "-Inf" included; non-finite ones are left out later, on
 * the grid), and native histogram samples (`histograms`) are not float samples and are skipped.
 */
export function parseRangeAnswer(body: Uint8Array): ParsedResult {
  const reader = new JsonReader(body);
  const answer: { status?: string; errorType?: string; error?: string; resultType?: string; series?: ResultSeries[] } = {};
  try {
    reader.object((key) => {
      if (key === 'status') answer.status = reader.string('status');
      else if (key === 'errorType') answer.errorType = reader.string('errorType');
      else if (key === 'error') answer.error = reader.string('error');
      else if (key !== 'data') reader.skip();
      else if (!reader.null()) {
        reader.object((field) => {
          if (field === 'resultType') answer.resultType = reader.string('data.resultType');
          else if (field === 'result') answer.series = readSeriesList(reader);
          else reader.skip();
        });
      }
    });
    reader.end();
  } catch (error) {
    if (error instanceof BadAnswer) return { error: `the answer is not Prometheus API JSON (${error.message}; it begins ${snippetOf(body)})` };
    throw error;
  }
  if (answer.status !== 'success') {
    return { error: `Prometheus answered status ${JSON.stringify(answer.status ?? null)}${answer.errorType === undefined ? '' : ` (${answer.errorType})`}: ${answer.error ?? 'no error text'}` };
  }
  if (answer.resultType !== 'matrix') return { error: `unsupported result type ${JSON.stringify(answer.resultType ?? null)} for a range query` };
  return { kind: 'matrix', series: answer.series ?? [] };
}

/** `data.result` of a matrix: one series per item, each `{metric, values}`. */
function readSeriesList(reader: JsonReader): ResultSeries[] {
  const series: ResultSeries[] = [];
  const columns = new GrowingColumns();
  reader.array(() => {
    let labels: Record<string, string> = {};
    columns.clear();
    reader.object((key) => {
      if (key === 'metric') labels = readLabels(reader);
      else if (key === 'values') reader.array(() => readPoint(reader, columns));
      else reader.skip(); // `histograms`: native histogram samples are not float samples
    }, 'a series object');
    series.push({ labels, samples: columns.take() });
  });
  return series;
}

/** A series' labels; values that are not strings are left out (as the driver path did). */
function readLabels(reader: JsonReader): Record<string, string> {
  const labels: Record<string, string> = {};
  if (reader.null()) return labels;
  reader.object((name) => {
    if (reader.peek() === Byte.Quote) labels[name] = reader.string(name);
    else reader.skip();
  }, 'the metric object');
  return labels;
}

/** One `[unixSeconds, "value"]`; anything else is skipped (still checked to be JSON). No closure: this runs once a point. */
function readPoint(reader: JsonReader, columns: GrowingColumns): void {
  if (reader.peek() !== Byte.OpenBracket) {
    reader.skip();
    return;
  }
  let seconds = Number.NaN;
  let value = Number.NaN;
  let index = 0;
  if (reader.openArray()) {
    do {
      const first = reader.peek();
      if (index === 0 && isNumberStart(first)) seconds = reader.number();
      else if (index === 1 && first === Byte.Quote) value = reader.sampleValue();
      else if (index === 1 && isNumberStart(first)) value = reader.number();
      else reader.skip();
      index++;
    } while (reader.nextItem());
  }
  if (index === 2 && Number.isFinite(seconds)) columns.push(seconds * 1000, value);
}

function isNumberStart(byte: number): boolean {
  return byte === Byte.Minus || (byte >= Byte.Zero && byte <= Byte.Nine);
}

/** A pair of columns that grows by doubling and is copied out at its exact length per series. */
class GrowingColumns {
  #times = new Float64Array(1024);
  #values = new Float64Array(1024);
  #length = 0;

  clear(): void {
    this.#length = 0;
  }

  push(timeMs: number, value: number): void {
    if (this.#length === this.#times.length) {
      const times = new Float64Array(this.#length * 2);
      const values = new Float64Array(this.#length * 2);
      times.set(this.#times);
      values.set(this.#values);
      this.#times = times;
      this.#values = values;
    }
    this.#times[this.#length] = timeMs;
    this.#values[this.#length++] = value;
  }

  take(): ResultSeries['samples'] {
    return { timestampsMs: this.#times.slice(0, this.#length), values: this.#values.slice(0, this.#length) };
  }
}

/** A strict JSON reader over bytes, with callbacks for objects and arrays so that nothing is built that is not asked for. */
class JsonReader {
  readonly #bytes: Buffer;
  #at = 0;
  #depth = 0;

  constructor(bytes: Uint8Array) {
    // A Buffer view (no copy), for its native one-byte slices of numbers that are not read from their digits.
    this.#bytes = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The next byte that is not white space (the reader stays before it), or -1 at the end. */
  peek(): number {
    const bytes = this.#bytes;
    let at = this.#at;
    for (let c = bytes[at]; c === Byte.Space || c === Byte.NewLine || c === Byte.Return || c === Byte.Tab; c = bytes[++at]);
    this.#at = at;
    return at < bytes.length ? bytes[at]! : -1;
  }

  /** Nothing but white space is left. */
  end(): void {
    if (this.peek() !== -1) this.#fail('unexpected data after the answer');
  }

  /** Reads `null` if it is next. */
  null(): boolean {
    if (this.peek() !== 0x6e) return false;
    this.#literal('null');
    return true;
  }

  /** Reads an object, calling `onKey` with each key; it must read that key's value. */
  object(onKey: (key: string) => void, what = 'an object'): void {
    this.#open(Byte.OpenBrace, what);
    if (this.#eat(Byte.CloseBrace)) {
      this.#close();
      return;
    }
    do {
      const key = this.string('a key');
      if (!this.#eat(Byte.Colon)) this.#fail('expected ":" after a key');
      onKey(key);
    } while (this.#eat(Byte.Comma));
    if (!this.#eat(Byte.CloseBrace)) this.#fail('expected "," or "}" in an object');
    this.#close();
  }

  /** Reads an array, calling `onItem` for each item; it must read the item. */
  array(onItem: () => void, what = 'an array'): void {
    if (!this.openArray(what)) return;
    do onItem();
    while (this.nextItem());
  }

  /** Reads "[" (and "]" if the array is empty): true when an item follows. */
  openArray(what = 'an array'): boolean {
    this.#open(Byte.OpenBracket, what);
    if (!this.#eat(Byte.CloseBracket)) return true;
    this.#close();
    return false;
  }

  /** After an item: reads "," (true, another item follows) or "]" (false, the array ends). */
  nextItem(): boolean {
    if (this.#eat(Byte.Comma)) return true;
    if (!this.#eat(Byte.CloseBracket)) this.#fail('expected "," or "]" in an array');
    this.#close();
    return false;
  }

  /** Reads a string (`what` names it in the error when something else is there). */
  string(what: string): string {
    if (this.peek() !== Byte.Quote) this.#fail(`expected a string for ${what}`);
    const start = this.#at;
    const escaped = this.#stringEnd();
    // Escapes are rare (label values with quotes or unicode escapes): JSON.parse reads them exactly.
    return escaped ? (JSON.parse(utf8.decode(this.#bytes.subarray(start, this.#at))) as string) : utf8.decode(this.#bytes.subarray(start + 1, this.#at - 1));
  }

  /** Reads a JSON number. */
  number(): number {
    const start = this.#at;
    const bytes = this.#bytes;
    let at = start;
    if (bytes[at] === Byte.Minus) at++;
    if (bytes[at] === Byte.Zero) at++;
    else if (isDigit(bytes[at])) while (isDigit(bytes[at])) at++;
    else this.#fail('expected a digit');
    if (bytes[at] === Byte.Dot) {
      if (!isDigit(bytes[++at])) this.#fail('expected a digit after "."');
      while (isDigit(bytes[at])) at++;
    }
    if (bytes[at] === Byte.LowerE || bytes[at] === Byte.UpperE) {
      at++;
      if (bytes[at] === Byte.Plus || bytes[at] === Byte.Minus) at++;
      if (!isDigit(bytes[at])) this.#fail('expected a digit in an exponent');
      while (isDigit(bytes[at])) at++;
    }
    this.#at = at;
    return decimalOf(bytes, start, at) ?? Number(bytes.toString('latin1', start, at));
  }

  /** Reads a sample value: a string holding a float as Prometheus writes it ("1.5", "1e-07", "NaN", "+Inf", "-Inf"). */
  sampleValue(): number {
    const start = this.#at;
    const escaped = this.#stringEnd();
    if (escaped) return parseSampleValue(JSON.parse(utf8.decode(this.#bytes.subarray(start, this.#at))) as string);
    return decimalOf(this.#bytes, start + 1, this.#at - 1) ?? parseSampleValue(this.#bytes.toString('latin1', start + 1, this.#at - 1));
  }

  /** Reads any value, checking that it is JSON, building nothing. */
  skip(): void {
    const next = this.peek();
    if (next === Byte.OpenBrace) this.object(() => this.skip());
    else if (next === Byte.OpenBracket) this.array(() => this.skip());
    else if (next === Byte.Quote) this.#stringEnd();
    else if (next === 0x74) this.#literal('true');
    else if (next === 0x66) this.#literal('false');
    else if (next === 0x6e) this.#literal('null');
    else if (isNumberStart(next)) this.number();
    else this.#fail('expected a value');
  }

  /** Moves past the string that starts here; true when it holds escapes. */
  #stringEnd(): boolean {
    const bytes = this.#bytes;
    let at = this.#at + 1;
    let escaped = false;
    for (;;) {
      const c = bytes[at];
      if (c === undefined) this.#fail('unterminated string');
      if (c === Byte.Quote) break;
      if (c < Byte.Space) this.#fail('control character in a string');
      if (c === Byte.Backslash) {
        escaped = true;
        at++;
      }
      at++;
    }
    this.#at = at + 1;
    return escaped;
  }

  #literal(word: string): void {
    for (let i = 0; i < word.length; i++) if (this.#bytes[this.#at + i] !== word.charCodeAt(i)) this.#fail('expected a value');
    this.#at += word.length;
  }

  #open(byte: number, what: string): void {
    if (!this.#eat(byte)) this.#fail(this.peek() === -1 ? 'unexpected end of the answer' : `expected ${what}`);
    if (++this.#depth > maxDepth) this.#fail(`nested deeper than ${maxDepth} levels`);
  }

  #close(): void {
    this.#depth--;
  }

  #eat(byte: number): boolean {
    if (this.peek() !== byte) return false;
    this.#at++;
    return true;
  }

  #fail(what: string): never {
    throw new BadAnswer(`${this.#at >= this.#bytes.length ? 'unexpected end of the answer' : what} at byte ${this.#at}`);
  }
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= Byte.Zero && byte <= Byte.Nine;
}

/**
 * The value of a plain decimal (`-12.5`, `1e-07`, `+3`) in `bytes[start, end)` when it can be read
 * exactly from its digits (at most 15 significant digits, a power of ten up to 22: the one
 * multiplication or division is then correctly rounded, the same double `Number()` gives);
 * undefined otherwise (17-digit values, "NaN", "+Inf", anything unusual), for the caller to parse
 * as text.
 */
function decimalOf(bytes: Uint8Array, start: number, end: number): number | undefined {
  let at = start;
  const negative = bytes[at] === Byte.Minus;
  if (negative || bytes[at] === Byte.Plus) at++;
  let mantissa = 0;
  let significant = 0;
  let exponent = 0;
  let digits = 0;
  for (; at < end && isDigit(bytes[at]); at++, digits++) {
    if (mantissa === 0 && bytes[at] === Byte.Zero) continue;
    if (++significant > 15) return undefined;
    mantissa = mantissa * 10 + (bytes[at]! - Byte.Zero);
  }
  if (bytes[at] === Byte.Dot && at < end) {
    for (at++; at < end && isDigit(bytes[at]); at++, digits++) {
      exponent--;
      if (mantissa === 0 && bytes[at] === Byte.Zero) continue;
      if (++significant > 15) return undefined;
      mantissa = mantissa * 10 + (bytes[at]! - Byte.Zero);
    }
  }
  if (digits === 0) return undefined;
  if (at < end && (bytes[at] === Byte.LowerE || bytes[at] === Byte.UpperE)) {
    at++;
    const negativeExponent = bytes[at] === Byte.Minus;
    if (negativeExponent || bytes[at] === Byte.Plus) at++;
    let written = 0;
    let exponentDigits = 0;
    for (; at < end && isDigit(bytes[at]); at++, exponentDigits++) written = Math.min(written * 10 + (bytes[at]! - Byte.Zero), 1000);
    if (exponentDigits === 0) return undefined;
    exponent += negativeExponent ? -written : written;
  }
  if (at !== end) return undefined;
  if (mantissa === 0) return negative ? -0 : 0;
  const power = exactPowersOfTen[Math.abs(exponent)];
  if (power === undefined) return undefined;
  const magnitude = exponent >= 0 ? mantissa * power : mantissa / power;
  return negative ? -magnitude : magnitude;
}

/** The start of a body, for an error message (an HTML page, a login form). */
function snippetOf(body: Uint8Array): string {
  const text = utf8.decode(body.subarray(0, 200)).replace(/\s+/g, ' ').trim();
  return JSON.stringify(body.length > 200 ? `${text}…` : text);
}
