import { describe, expect, test } from 'vitest';
import { parseRangeAnswer } from '../../../src/source/prometheus-matrix.js';

// The column decoder of range answers, on bodies as Prometheus writes them and on bodies no
// Prometheus writes (the HTTP side is tested through PrometheusSource in prometheus.test.ts).

const bytes = (text: string) => Buffer.from(text, 'utf8');
const answer = (result: unknown, extra: Record<string, unknown> = {}) => bytes(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result }, ...extra }));

function series(text: Buffer) {
  const parsed = parseRangeAnswer(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.series.map((s) => ({ labels: s.labels, t: [...s.samples.timestampsMs], v: [...s.samples.values] }));
}

function failure(text: Buffer | string): string {
  const parsed = parseRangeAnswer(typeof text === 'string' ? bytes(text) : text);
  if (!('error' in parsed)) throw new Error('expected an error');
  return parsed.error;
}

describe('parseRangeAnswer', () => {
  test('reads each series into its labels and two columns, milliseconds and values', () => {
    const body = answer([
      {
        metric: { __name__: 'depth', queue: 'orders' },
        values: [
          [1762084800, '1'],
          [1762084860.5, '2.25'],
        ],
      },
      { metric: {}, values: [] },
    ]);
    expect(series(body)).toEqual([
      { labels: { __name__: 'depth', queue: 'orders' }, t: [1762084800000, 1762084860500], v: [1, 2.25] },
      { labels: {}, t: [], v: [] },
    ]);
  });

  test('reads every float Prometheus writes to the same double Number() gives, the special values included', () => {
    const texts = [
      '0',
      '-0',
      '42',
      '-17.125',
      '0.1',
      '1e-07',
      '1.5e+21',
      '-2.5e-300',
      '1.7976931348623157e+308',
      '5e-324',
      '0.30000000000000004',
      '123456789012345678',
      '9007199254740993',
      '3.141592653589793',
      'NaN',
      '+Inf',
      '-Inf',
    ];
    const got = series(answer([{ metric: {}, values: texts.map((text, i) => [1000 + i, text]) }]))[0]!.v;
    const want = texts.map((text) => (text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text)));
    expect(got).toHaveLength(want.length);
    for (const [i, value] of got.entries()) expect(Object.is(value, want[i]), `${texts[i]} read as ${value}`).toBe(true);
    // Arbitrary doubles (a fixed pseudo-random sequence) round-trip exactly through their shortest text, what Prometheus writes.
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const random = Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? next() * 10 ** ((i % 40) - 20) : -next() * 1e6));
    expect(series(answer([{ metric: {}, values: random.map((v, i) => [i, String(v)]) }]))[0]!.v).toEqual(random);
  });

  test('decodes escaped and non-ASCII label values, and ignores label values that are not strings', () => {
    const body = bytes('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"queue":"a\\"b\\\\c\\u00e9","city":"Zürich","n":5},"values":[[1,"1"]]}]}}');
    expect(series(body)[0]!.labels).toEqual({ queue: 'a"b\\cé', city: 'Zürich' });
  });

  test('skips points that are not [time, value], and native histogram samples, as the driver path did', () => {
    const body = answer([
      {
        metric: { queue: 'a' },
        values: [[60, '1'], 'x', [120], ['yesterday', '3'], [180, '4', 'extra'], [240, 5], null, [300, '6']],
        histograms: [[360, { count: '2', sum: '3', buckets: [[0, '0', '1', '2']] }]],
      },
      { metric: { queue: 'only-histograms' }, histograms: [[60, { count: '1', sum: '1' }]] },
    ]);
    expect(series(body)).toEqual([
      { labels: { queue: 'a' }, t: [60_000, 240_000, 300_000], v: [1, 5, 6] },
      { labels: { queue: 'only-histograms' }, t: [], v: [] },
    ]);
  });

  test('reads keys in any order, with white space, and skips fields it does not use (warnings, infos, stats)', () => {
    const body = bytes(
      ' {\n "warnings": ["w"], "data" : { "result" : [ { "values" : [ [ 1 , "2" ] ] , "metric" : { "a" : "b" } } ], "stats": {"timings": {"evalTotalTime": 0.1}}, "resultType" : "matrix" },\n "status" : "success", "infos": [] }\n',
    );
    expect(series(body)).toEqual([{ labels: { a: 'b' }, t: [1000], v: [2] }]);
  });

  test('refuses malformed JSON, naming where it broke', () => {
    expect(failure('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"]')).toMatch(
      /^the answer is not Prometheus API JSON \(unexpected end of the answer at byte 90; it begins "\{\\"status/,
    );
    expect(failure('{"status":"success","data":{"resultType":"matrix","result":[]}} trailing')).toMatch(/unexpected data after the answer at byte 64/);
    expect(failure('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2\n"]]}]}}')).toMatch(/control character in a string/);
    expect(failure('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[01,"2"]]}]}}')).toMatch(/not Prometheus API JSON/);
    expect(failure('{"status":tru}')).toMatch(/expected a string for status at byte 10/);
    expect(failure('')).toMatch(/expected an object at byte 0|unexpected end of the answer at byte 0/);
  });

  test('refuses a page that is not JSON, quoting its start', () => {
    expect(failure('<html><body>Sign in</body></html>')).toBe('the answer is not Prometheus API JSON (expected an object at byte 0; it begins "<html><body>Sign in</body></html>")');
  });

  test('refuses nesting deeper than any Prometheus answer before the stack overflows', () => {
    const deep = `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[${'['.repeat(100_000)}${']'.repeat(100_000)}]}]}}`;
    expect(failure(deep)).toMatch(/nested deeper than 32 levels/);
  });

  test('refuses the wrong shapes: another result type, a result that is not a list of series, a failed status', () => {
    expect(failure(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }))).toBe('unsupported result type "vector" for a range query');
    expect(failure(JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '2'] } }))).toMatch(/expected a series object/);
    expect(failure(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: { a: 1 } } }))).toMatch(/expected an array/);
    expect(failure(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: 'x', values: [] }] } }))).toMatch(/expected the metric object/);
    expect(failure(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }))).toBe('Prometheus answered status "error" (bad_data): parse error');
    expect(failure(JSON.stringify({ data: null }))).toBe('Prometheus answered status null: no error text');
    expect(failure(JSON.stringify({ status: 'success' }))).toBe('unsupported result type null for a range query');
  });
});
