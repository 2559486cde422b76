import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  ForesightError,
  performanceMetrics,
  queueMetrics,
  resources,
  systemMetrics,
  type InputRef,
  type PerformanceMetric,
  type QueueMetric,
  type Resource,
  type SystemMetric,
} from '../../../src/core/index.js';
import { PrometheusSource, chunkRange, type PrometheusSourceOptions, type QueryEvent } from '../../../src/source/index.js';
import { apiError, closedPort, matrix, rangeGrid, scalar, startFakePrometheus, vector, type FakePrometheus, type RecordedRequest, type Reply } from './fake-prometheus.js';

const off = <K extends string>(keys: readonly K[]): Record<K, string> => Object.fromEntries(keys.map((k) => [k, ''])) as Record<K, string>;

/** Query templates with every input off except the ones given. */
function queries(on: {
  queue?: Partial<Record<QueueMetric, string>>;
  system?: Partial<Record<SystemMetric, string>>;
  performance?: Partial<Record<PerformanceMetric, string>>;
  replicas?: Partial<Record<Resource, string>>;
}): PrometheusSourceOptions['queries'] {
  return {
    queue: { ...off(queueMetrics), ...on.queue },
    system: { ...off(systemMetrics), ...on.system },
    performance: { ...off(performanceMetrics), ...on.performance },
    replicas: { ...off(resources), ...on.replicas },
  };
}

const depth = (queue: string): InputRef => ({ kind: 'queue', queue, metric: 'depth' });
const consumers = (queue: string): InputRef => ({ kind: 'queue', queue, metric: 'consumers' });
const cpu: InputRef = { kind: 'system', metric: 'cpu_percent' };
const load1: InputRef = { kind: 'system', metric: 'load1' };
const load5: InputRef = { kind: 'system', metric: 'load5' };

const atMs = Date.UTC(2026, 0, 5, 12, 0, 0);
const atSeconds = atMs / 1000;

/** Routes by the PromQL query: the fake answers what the table says for each query text. */
function byQuery(answers: Readonly<Record<string, Reply>>): (request: RecordedRequest) => Reply {
  return (request) => answers[request.params.get('query') ?? ''] ?? vector(atSeconds, []);
}

let prometheus: FakePrometheus;
beforeEach(async () => {
  prometheus = await startFakePrometheus(() => vector(atSeconds, []));
});
afterEach(async () => {
  await prometheus.close();
});

function source(options: Partial<PrometheusSourceOptions> & Pick<PrometheusSourceOptions, 'queries'>): PrometheusSource {
  return new PrometheusSource({ url: prometheus.url, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<ForesightError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ForesightError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('PrometheusSource.readLatest', () => {
  test('runs an instant query per queue at atMs with the queue name escaped, and reads the vector', async () => {
    prometheus.handler = (request) => vector(atSeconds, [{ labels: { queue: 'x' }, value: request.params.get('query')!.includes('"a\\"b"') ? '7' : '3' }]);
    const src = source({ queries: queries({ queue: { depth: 'sum(depth{queue="{{queue}}"})' } }) });

    const result = await src.readLatest([depth('plain'), depth('a"b')], atMs);

    expect(result.problems).toEqual([]);
    expect(result.readings).toEqual([
      { input: depth('plain'), timestampMs: atMs, value: 3 },
      { input: depth('a"b'), timestampMs: atMs, value: 7 },
    ]);
    expect(prometheus.requests.map((r) => [r.path, r.params.get('query'), Number(r.params.get('time'))])).toEqual([
      ['/api/v1/query', 'sum(depth{queue="plain"})', atSeconds],
      ['/api/v1/query', 'sum(depth{queue="a\\"b"})', atSeconds],
    ]);
  });

  test('reads a scalar result', async () => {
    prometheus.handler = () => scalar(atSeconds, '42.5');
    const result = await source({ queries: queries({ system: { cpu_percent: 'scalar(sum(x))' } }) }).readLatest([cpu], atMs);
    expect(result.readings).toEqual([{ input: cpu, timestampMs: atMs, value: 42.5 }]);
  });

  // KEDA's policy for Prometheus results, one row per outcome.
  const policy: readonly { name: string; reply: Reply; reason: string; message: RegExp }[] = [
    { name: 'an empty result is "empty"', reply: vector(atSeconds, []), reason: 'empty', message: /no series: sum\(x\)/ },
    { name: 'NaN is "not_finite"', reply: vector(atSeconds, [{ value: 'NaN' }]), reason: 'not_finite', message: /NaN: sum\(x\)/ },
    { name: '+Inf is "not_finite"', reply: vector(atSeconds, [{ value: '+Inf' }]), reason: 'not_finite', message: /sum\(x\)/ },
    { name: 'a scalar -Inf is "not_finite"', reply: scalar(atSeconds, '-Inf'), reason: 'not_finite', message: /-Infinity: sum\(x\)/ },
    {
      name: 'several series are "multiple_series", never a guess',
      reply: vector(atSeconds, [
        { labels: { pod: 'a' }, value: '1' },
        { labels: { pod: 'b' }, value: '2' },
      ]),
      reason: 'multiple_series',
      message: /2 series where one was expected \(\{pod="a"\}, \{pod="b"\}\); aggregate them in the query: sum\(x\)/,
    },
    {
      name: 'an HTTP 400 is "query_failed" with Prometheus\' error and the query',
      reply: apiError(400, 'bad_data', '1:5: parse error: unexpected end of input'),
      reason: 'query_failed',
      message: /^Prometheus answered HTTP 400 \(bad_data\): 1:5: parse error: unexpected end of input: sum\(x\)$/,
    },
    {
      name: 'an HTTP 422 execution error is "query_failed"',
      reply: apiError(422, 'execution', 'many-to-many matching not allowed'),
      reason: 'query_failed',
      message: /HTTP 422 \(execution\): many-to-many matching not allowed: sum\(x\)/,
    },
    {
      name: 'an answer that is not Prometheus JSON is "query_failed"',
      reply: { body: '<html>login</html>', contentType: 'text/html' },
      reason: 'query_failed',
      message: /not Prometheus API JSON \(<html>login<\/html>\): sum\(x\)/,
    },
    {
      name: 'a range vector for an instant read is "query_failed"',
      reply: matrix([{ values: [[atSeconds, '1']] }]),
      reason: 'query_failed',
      message: /range vector/,
    },
  ];
  for (const tc of policy) {
    test(tc.name, async () => {
      // A second, healthy input shows that one input's trouble never hides the others.
      prometheus.handler = byQuery({ 'sum(x)': tc.reply, 'sum(y)': vector(atSeconds, [{ value: '5' }]) });
      const src = source({ queries: queries({ system: { cpu_percent: 'sum(x)', load1: 'sum(y)' } }) });

      const result = await src.readLatest([cpu, load1], atMs);

      expect(result.readings).toEqual([{ input: load1, timestampMs: atMs, value: 5 }]);
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]).toMatchObject({ input: cpu, reason: tc.reason });
      expect(result.problems[0]!.message).toMatch(tc.message);
    });
  }

  test('returns problems, not a rejection, when every query fails with a Prometheus error', async () => {
    prometheus.handler = () => apiError(400, 'bad_data', 'parse error');
    const result = await source({ queries: queries({ system: { cpu_percent: 'sum(x', load1: 'sum(y' } }) }).readLatest([cpu, load1], atMs);
    expect(result.readings).toEqual([]);
    expect(result.problems.map((p) => p.reason)).toEqual(['query_failed', 'query_failed']);
  });

  test('leaves inputs with an empty template out, without querying', async () => {
    const result = await source({ queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readLatest([load1, depth('a')], atMs);
    expect(result).toEqual({ readings: [], problems: [] });
    expect(prometheus.requests).toHaveLength(0);
  });

  test('sends one query for inputs whose rendered queries are identical', async () => {
    prometheus.handler = () => vector(atSeconds, [{ value: '1' }]);
    const result = await source({ queries: queries({ system: { load1: 'avg(node_load1)', load5: 'avg(node_load1)' } }) }).readLatest([load1, load5], atMs);
    expect(result.readings.map((r) => r.input)).toEqual([load1, load5]);
    expect(prometheus.requests).toHaveLength(1);
  });

  test('splits the result of a grouped queue template (no {{queue}}) by the queue label', async () => {
    prometheus.handler = () =>
      vector(atSeconds, [
        { labels: { queue: 'a' }, value: '10' },
        { labels: { queue: 'b' }, value: '20' },
        { labels: { queue: 'dup', pod: '1' }, value: '1' },
        { labels: { queue: 'dup', pod: '2' }, value: '2' },
        { labels: { queue: 'not-asked-for' }, value: '99' },
      ]);
    const src = source({ queries: queries({ queue: { depth: 'sum by (queue) (rabbitmq_queue_messages_ready)' } }) });

    const result = await src.readLatest([depth('a'), depth('b'), depth('missing'), depth('dup')], atMs);

    expect(prometheus.requests).toHaveLength(1);
    expect(prometheus.requests[0]!.params.get('query')).toBe('sum by (queue) (rabbitmq_queue_messages_ready)');
    expect(result.readings).toEqual([
      { input: depth('a'), timestampMs: atMs, value: 10 },
      { input: depth('b'), timestampMs: atMs, value: 20 },
    ]);
    expect(result.problems.map((p) => [p.input, p.reason])).toEqual([
      [depth('missing'), 'empty'],
      [depth('dup'), 'multiple_series'],
    ]);
    expect(result.problems[0]!.message).toContain('no series with queue="missing"');
  });

  test('uses the configured queue label for grouped templates', async () => {
    prometheus.handler = () => vector(atSeconds, [{ labels: { queue_name: 'a' }, value: '4' }]);
    const src = source({ queueLabel: 'queue_name', queries: queries({ queue: { consumers: 'sum by (queue_name) (c)' } }) });
    const result = await src.readLatest([consumers('a')], atMs);
    expect(result.readings).toEqual([{ input: consumers('a'), timestampMs: atMs, value: 4 }]);
  });

  test('runs at most `concurrency` requests at once (batching off, one query a request)', async () => {
    const queues = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    // Each wave of requests is held at the server until it is complete (three at once, the last one
    // alone), so the test reaches the limit by events, never by a pause.
    const held: (() => void)[] = [];
    let released = 0;
    prometheus.handler = async () => {
      await new Promise<void>((resolve) => {
        held.push(resolve);
        if (held.length < Math.min(3, queues.length - released)) return;
        released += held.length;
        for (const release of held.splice(0)) release();
      });
      return vector(atSeconds, [{ value: '1' }]);
    };
    const result = await source({ concurrency: 3, batchMaxQueries: 1, queries: queries({ queue: { depth: 'd{q="{{queue}}"}' } }) }).readLatest(queues.map(depth), atMs);
    expect(result.readings).toHaveLength(7);
    expect(prometheus.inFlight.max).toBe(3);
  });

  test('reports every request to the onQuery hook, and survives a hook that throws', async () => {
    prometheus.handler = byQuery({ 'sum(x)': vector(atSeconds, [{ value: '1' }]), 'sum(y)': apiError(400, 'bad_data', 'no') });
    const events: QueryEvent[] = [];
    const src = source({
      queries: queries({ system: { cpu_percent: 'sum(x)', load1: 'sum(y)' } }),
      onQuery: (event) => {
        events.push(event);
        throw new Error('broken hook');
      },
    });
    const result = await src.readLatest([cpu, load1], atMs);
    expect(result.readings).toHaveLength(1);
    expect(events.map((e) => [e.kind, e.outcome]).sort()).toEqual([
      ['instant', 'error'],
      ['instant', 'success'],
    ]);
    for (const event of events) expect(event.durationSeconds).toBeGreaterThanOrEqual(0);
  });
});

describe('PrometheusSource: several queries in one request', () => {
  // One request at a time: the three queries go in one batch. The fake answers a batch as Prometheus does (fake-prometheus.ts).
  const three = queries({ system: { cpu_percent: 'sum(a)', load1: 'sum(b)', load5: 'sum(c)' } });
  const answers = (b: Reply) => byQuery({ 'sum(a)': vector(atSeconds, [{ value: '1' }]), 'sum(b)': b, 'sum(c)': vector(atSeconds, [{ labels: { job: 'c' }, value: '3' }]) });

  test('a batch Prometheus refuses is sent again query by query: the others are read, the bad one named', async () => {
    prometheus.handler = answers(apiError(400, 'bad_data', '1:5: parse error: unexpected end of input'));
    const result = await source({ concurrency: 1, queries: three }).readLatest([cpu, load1, load5], atMs);
    expect(result.readings.map((r) => r.value)).toEqual([1, 3]);
    expect(result.problems).toEqual([{ input: load1, reason: 'query_failed', message: 'Prometheus answered HTTP 400 (bad_data): 1:5: parse error: unexpected end of input: sum(b)' }]);
    expect(prometheus.requests.map((r) => r.params.get('query'))).toEqual([expect.stringContaining('label_replace(sum(a), "foresight_batch"'), 'sum(a)', 'sum(b)', 'sum(c)']);
  });

  test('when Prometheus cannot answer a batch (503), each of its queries fails with its own query named, and is not sent again', async () => {
    // Two at a time: [a, b] and [c, d] go in two batches; the first is refused with 503.
    const four = queries({ system: { cpu_percent: 'sum(a)', load1: 'sum(b)', load5: 'sum(c)', load15: 'sum(d)' } });
    const load15: InputRef = { kind: 'system', metric: 'load15' };
    prometheus.handler = (request) => (request.params.get('query') === 'sum(b)' ? apiError(503, 'unavailable', 'shutting down') : vector(atSeconds, [{ value: '2' }]));
    const result = await source({ concurrency: 2, queries: four }).readLatest([cpu, load1, load5, load15], atMs);
    expect(result.readings.map((r) => r.input)).toEqual([load5, load15]);
    expect(result.problems).toEqual(
      ['sum(a)', 'sum(b)'].map((query, i) => ({ input: [cpu, load1][i], reason: 'query_failed', message: `Prometheus answered HTTP 503 (unavailable): shutting down: ${query}` })),
    );
    expect(prometheus.requests).toHaveLength(2);

    // When that was the only request, the read rejects, naming the batch by its first query.
    prometheus.requests.length = 0;
    const rejected = await rejection(source({ concurrency: 1, queries: four }).readLatest([cpu, load1, load5, load15], atMs));
    expect(rejected.message).toMatch(/all 1 queries failed; the first: Prometheus answered HTTP 503 .*shutting down: a batch of 4 queries, the first: sum\(a\)$/);
    expect(prometheus.requests).toHaveLength(1);
  });
});

describe('PrometheusSource.readHistory', () => {
  const stepSeconds = 60;
  const startMs = atMs - 24 * stepSeconds * 1000;

  test('runs query_range and places the matrix on the requested grid', async () => {
    // Prometheus sends float seconds; 0.001 s early must still land on its own grid point.
    prometheus.handler = (request) => matrix([{ values: rangeGrid(request).map((t, i) => [i === 3 ? t - 0.001 : t, String(i)] as const) }]);
    const range = { startMs, endMs: atMs, stepSeconds };

    const result = await source({ queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readHistory([cpu], range);

    expect(result.problems).toEqual([]);
    const series = result.history[0]!.series;
    expect(series.startMs).toBe(startMs);
    expect(series.stepSeconds).toBe(stepSeconds);
    expect([...series.values]).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const request = prometheus.requests[0]!;
    expect(request.path).toBe('/api/v1/query_range');
    expect([Number(request.params.get('start')), Number(request.params.get('end')), Number(request.params.get('step'))]).toEqual([startMs / 1000, atSeconds, 60]);
  });

  test('keeps gaps as NaN on the grid', async () => {
    prometheus.handler = (request) =>
      matrix([
        {
          values: rangeGrid(request)
            .filter((_, i) => i % 2 === 0)
            .map((t) => [t, '1'] as const),
        },
      ]);
    const result = await source({ queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readHistory([cpu], { startMs, endMs: startMs + 4 * 60_000, stepSeconds });
    expect([...result.history[0]!.series.values]).toEqual([1, Number.NaN, 1, Number.NaN, 1]);
  });

  test('splits a long range into chunks of at most maxPointsPerQuery points and stitches them without duplicates', async () => {
    prometheus.handler = (request) => matrix([{ labels: { job: 'x' }, values: rangeGrid(request).map((t) => [t, String(t)] as const) }]);
    const range = { startMs, endMs: startMs + 24 * 60_000, stepSeconds }; // 25 points.

    const result = await source({ maxPointsPerQuery: 10, queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readHistory([cpu], range);

    const ranges = prometheus.requests.map((r) => [Number(r.params.get('start')), Number(r.params.get('end'))]).sort((a, b) => a[0]! - b[0]!);
    const s = startMs / 1000;
    expect(ranges).toEqual([
      [s, s + 9 * 60],
      [s + 10 * 60, s + 19 * 60],
      [s + 20 * 60, s + 24 * 60],
    ]);
    expect(result.problems).toEqual([]);
    expect([...result.history[0]!.series.values]).toEqual(Array.from({ length: 25 }, (_, i) => s + i * 60));
  });

  test('a week at 60 s (10,081 points) takes two requests with the default limit', async () => {
    prometheus.handler = (request) => matrix([{ values: rangeGrid(request).map((t) => [t, '1'] as const) }]);
    const range = { startMs: atMs - 7 * 86_400_000, endMs: atMs, stepSeconds };
    const result = await source({ queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readHistory([cpu], range);
    expect(prometheus.requests).toHaveLength(2);
    const points = prometheus.requests.map((r) => rangeGrid(r).length);
    expect(points.sort((a, b) => a - b)).toEqual([81, 10_000]);
    expect(result.history[0]!.series.values.length).toBe(10_081);
    expect(result.history[0]!.series.values.every((v) => v === 1)).toBe(true);
  });

  test('one failed chunk fails the whole query, with the error in the problem', async () => {
    prometheus.handler = (request) =>
      Number(request.params.get('start')) > startMs / 1000
        ? apiError(400, 'bad_data', 'exceeded maximum resolution of 11,000 points per timeseries')
        : matrix([{ values: rangeGrid(request).map((t) => [t, '1'] as const) }]);
    const result = await source({ maxPointsPerQuery: 10, queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readHistory([cpu], { startMs, endMs: atMs, stepSeconds });
    expect(result.history).toEqual([]);
    expect(result.problems[0]).toMatchObject({ input: cpu, reason: 'query_failed' });
    expect(result.problems[0]!.message).toContain('exceeded maximum resolution');
  });

  test('merges a series across chunks by its labels, and splits grouped templates by queue', async () => {
    prometheus.handler = (request) => matrix(['a', 'b'].map((queue) => ({ labels: { queue, __name__: 'depth' }, values: rangeGrid(request).map((t) => [t, queue === 'a' ? '1' : '2'] as const) })));
    const range = { startMs, endMs: startMs + 24 * 60_000, stepSeconds };
    const src = source({ maxPointsPerQuery: 10, queries: queries({ queue: { depth: 'depth' } }) });

    const result = await src.readHistory([depth('a'), depth('b'), depth('c')], range);

    expect(prometheus.requests).toHaveLength(3);
    expect(result.history.map((h) => [h.input, h.series.values.length, new Set(h.series.values).size])).toEqual([
      [depth('a'), 25, 1],
      [depth('b'), 25, 1],
    ]);
    expect(result.history[1]!.series.values[0]).toBe(2);
    expect(result.problems.map((p) => [p.input, p.reason])).toEqual([[depth('c'), 'empty']]);
  });

  test('a series with no finite point in the range is "not_finite"', async () => {
    prometheus.handler = (request) => matrix([{ values: rangeGrid(request).map((t) => [t, 'NaN'] as const) }]);
    const result = await source({ queries: queries({ system: { cpu_percent: 'sum(x)/0' } }) }).readHistory([cpu], { startMs, endMs: atMs, stepSeconds });
    expect(result.problems.map((p) => p.reason)).toEqual(['not_finite']);
  });

  test('rejects a range that ends before it starts', async () => {
    const error = await rejection(source({ queries: queries({ system: { cpu_percent: 'x' } }) }).readHistory([cpu], { startMs: atMs, endMs: startMs, stepSeconds }));
    expect(error.code).toBe('FORESIGHT_ERR_INPUT_INVALID');
  });
});

describe('PrometheusSource.readHistory: answers decoded straight into columns, hostile ones refused', () => {
  const range = { startMs: atMs - 10 * 60_000, endMs: atMs, stepSeconds: 60 };
  // A second, healthy input shows that one query's bad answer never hides the others.
  const twoInputs = queries({ system: { cpu_percent: 'sum(x)', load1: 'sum(y)' } });
  const healthy = (request: RecordedRequest): Reply => matrix([{ values: rangeGrid(request).map((t) => [t, '5'] as const) }]);

  async function badAnswer(reply: Reply, options: Partial<PrometheusSourceOptions> = {}) {
    prometheus.handler = (request) => (request.params.get('query') === 'sum(x)' ? reply : healthy(request));
    const result = await source({ queries: twoInputs, ...options }).readHistory([cpu, load1], range);
    expect(result.history.map((h) => h.input)).toEqual([load1]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ input: cpu, reason: 'query_failed' });
    return result.problems[0]!.message;
  }

  test('an answer larger than maxResponseBytes is cut off while it streams in and refused', async () => {
    const big = matrix([{ values: Array.from({ length: 5000 }, (_, i) => [atSeconds + i, '123.456'] as const) }]);
    expect(JSON.stringify(big.body).length).toBeGreaterThan(100_000);
    const message = await badAnswer(big, { maxResponseBytes: 4096 });
    expect(message).toMatch(/^the answer is larger than source\.prometheus\.maxResponseBytes and was refused \(maxContentLength size of 4096 exceeded\): sum\(x\)$/);
  });

  test("a proxy's HTML error page is an HTTP error with its status and the page's start", async () => {
    const message = await badAnswer({ status: 403, body: '<html><body><h1>403 Forbidden</h1></body></html>', contentType: 'text/html' });
    expect(message).toBe('Prometheus answered HTTP 403: HTTP 403 Forbidden: <html><body><h1>403 Forbidden</h1></body></html>: sum(x)');
  });

  test("Prometheus' error JSON keeps its error type and text", async () => {
    const message = await badAnswer(apiError(422, 'execution', 'query processing would load too many samples into memory'));
    expect(message).toBe('Prometheus answered HTTP 422 (execution): query processing would load too many samples into memory: sum(x)');
  });

  test('a login page answered with 200 is not Prometheus API JSON', async () => {
    const message = await badAnswer({ body: '<html>login</html>', contentType: 'text/html' });
    expect(message).toBe('the answer is not Prometheus API JSON (expected an object at byte 0; it begins "<html>login</html>"): sum(x)');
  });

  test('malformed JSON and the wrong shapes are refused, naming what was wrong', async () => {
    expect(await badAnswer({ body: '{"status":"success","data":{"resultType":"matr' })).toMatch(/^the answer is not Prometheus API JSON \(unterminated string at byte 41; .*\): sum\(x\)$/);
    expect(await badAnswer(vector(atSeconds, [{ value: '1' }]))).toBe('unsupported result type "vector" for a range query: sum(x)');
    expect(await badAnswer({ body: { status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: 'many' }] } } })).toMatch(/expected an array at byte \d+/);
  });

  test('NaN, +Inf and -Inf points are left off the grid, the finite ones kept', async () => {
    prometheus.handler = (request) => matrix([{ values: rangeGrid(request).map((t, i) => [t, ['NaN', '+Inf', '-Inf', '2.5'][i % 4]!] as const) }]);
    const result = await source({ queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readHistory([cpu], range);
    expect([...result.history[0]!.series.values]).toEqual(Array.from({ length: 11 }, (_, i) => (i % 4 === 3 ? 2.5 : Number.NaN)));
  });

  test('a range read sends the credentials read per request, the headers, and stops when aborted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'foresight-range-auth-'));
    try {
      const tokenFile = join(dir, 'token');
      await writeFile(tokenFile, 'first\n');
      prometheus.handler = healthy;
      const src = source({ auth: { type: 'bearerFile', tokenFile }, headers: { 'X-Scope-OrgID': 'team-a' }, queries: queries({ system: { cpu_percent: 'sum(x)' } }) });
      await src.readHistory([cpu], range);
      await writeFile(tokenFile, 'second\n');
      await src.readHistory([cpu], range);
      expect(prometheus.requests.map((r) => [r.path, r.headers.authorization, r.headers['x-scope-orgid']])).toEqual([
        ['/api/v1/query_range', 'Bearer first', 'team-a'],
        ['/api/v1/query_range', 'Bearer second', 'team-a'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const controller = new AbortController();
    prometheus.handler = () => {
      controller.abort(new Error('cycle cancelled'));
      return 'hang';
    };
    await expect(source({ queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readHistory([cpu], range, controller.signal)).rejects.toThrow('cycle cancelled');
  });
});

describe('chunkRange', () => {
  test('covers the grid exactly once', () => {
    const range = { startMs: 0, endMs: 95_000, stepSeconds: 10 }; // 10 points: 0..90 s (95 is not a grid point).
    expect(chunkRange(range, 4)).toEqual([
      { startMs: 0, endMs: 30_000, stepSeconds: 10 },
      { startMs: 40_000, endMs: 70_000, stepSeconds: 10 },
      { startMs: 80_000, endMs: 90_000, stepSeconds: 10 },
    ]);
    expect(chunkRange(range, 11_000)).toEqual([{ startMs: 0, endMs: 90_000, stepSeconds: 10 }]);
  });
});

describe('when Prometheus is unreachable', () => {
  test('rejects with FORESIGHT_ERR_SOURCE_QUERY when the connection is refused', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const src = new PrometheusSource({ url, queries: queries({ system: { cpu_percent: 'sum(x)', load1: 'sum(y)' } }) });
    const error = await rejection(src.readLatest([cpu, load1], atMs));
    expect(error.code).toBe('FORESIGHT_ERR_SOURCE_QUERY');
    expect(error.message).toContain(url);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('sum(x)');
  });

  test('rejects with FORESIGHT_ERR_SOURCE_TIMEOUT when every query times out', async () => {
    prometheus.handler = () => 'hang';
    const src = source({ timeoutSeconds: 0.2, queries: queries({ system: { cpu_percent: 'sum(x)' } }) });
    const error = await rejection(src.readHistory([cpu], { startMs: atMs - 60_000, endMs: atMs, stepSeconds: 60 }));
    expect(error.code).toBe('FORESIGHT_ERR_SOURCE_TIMEOUT');
    expect(error.message).toMatch(/timed out/);
  });

  test('sends the evaluation timeout to Prometheus too', async () => {
    await source({ timeoutSeconds: 2.5, queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readLatest([cpu], atMs);
    expect(prometheus.requests[0]!.params.get('timeout')).toBe('2500ms');
  });

  test('stops sending after a full wave of unreachable failures, so an outage costs one timeout', async () => {
    prometheus.handler = () => 'hang';
    const queues = Array.from({ length: 20 }, (_, i) => `q${i}`);
    const src = source({ timeoutSeconds: 0.2, concurrency: 4, queries: queries({ queue: { depth: 'd{q="{{queue}}"}' } }) });
    const error = await rejection(src.readLatest(queues.map(depth), atMs));
    expect(error.code).toBe('FORESIGHT_ERR_SOURCE_TIMEOUT');
    expect(prometheus.requests).toHaveLength(4);
  });

  test('rejects when a gateway answers 502 to every query', async () => {
    prometheus.handler = () => ({ status: 502, body: '<html><body>502 Bad Gateway</body></html>', contentType: 'text/html' });
    const error = await rejection(source({ queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readLatest([cpu], atMs));
    expect(error.code).toBe('FORESIGHT_ERR_SOURCE_QUERY');
    expect(error.message).toContain('HTTP 502 Bad Gateway: <html><body>502 Bad Gateway</body></html>');
  });

  test('returns partial results when only some queries cannot get through', async () => {
    prometheus.handler = byQuery({ 'sum(x)': { status: 503, body: 'unavailable', contentType: 'text/plain' }, 'sum(y)': vector(atSeconds, [{ value: '1' }]) });
    const result = await source({ queries: queries({ system: { cpu_percent: 'sum(x)', load1: 'sum(y)' } }) }).readLatest([cpu, load1], atMs);
    expect(result.readings.map((r) => r.input)).toEqual([load1]);
    expect(result.problems[0]).toMatchObject({ input: cpu, reason: 'query_failed' });
    expect(result.problems[0]!.message).toContain('HTTP 503');
  });
});

describe('cancellation', () => {
  test('rejects with the abort reason when aborted while queries run', async () => {
    const controller = new AbortController();
    // Aborted once the request has reached Prometheus, which never answers it.
    prometheus.handler = () => {
      controller.abort(new Error('cycle cancelled'));
      return 'hang';
    };
    const pending = source({ queries: queries({ system: { cpu_percent: 'sum(x)' } }) }).readLatest([cpu], atMs, controller.signal);
    await expect(pending).rejects.toThrow('cycle cancelled');
  });

  test('sends nothing when the signal is already aborted', async () => {
    const src = source({ queries: queries({ system: { cpu_percent: 'sum(x)' } }) });
    await expect(src.readLatest([cpu], atMs, AbortSignal.abort(new Error('too late')))).rejects.toThrow('too late');
    expect(prometheus.requests).toHaveLength(0);
  });
});

describe('authentication and headers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-auth-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const oneQuery = queries({ system: { cpu_percent: 'sum(x)' } });

  test('sends no Authorization header by default', async () => {
    await source({ queries: oneQuery }).readLatest([cpu], atMs);
    expect(prometheus.requests[0]!.headers.authorization).toBeUndefined();
  });

  test('sends a bearer token', async () => {
    await source({ auth: { type: 'bearer', token: 's3cret' }, queries: oneQuery }).readLatest([cpu], atMs);
    expect(prometheus.requests[0]!.headers.authorization).toBe('Bearer s3cret');
  });

  test('re-reads a bearer token file on every query, so a rotated token is used', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'first\n');
    const src = source({ auth: { type: 'bearerFile', tokenFile }, queries: oneQuery });
    await src.readLatest([cpu], atMs);
    await writeFile(tokenFile, 'second\n');
    await src.readLatest([cpu], atMs);
    expect(prometheus.requests.map((r) => r.headers.authorization)).toEqual(['Bearer first', 'Bearer second']);
  });

  test('rejects, naming the file, when the token file cannot be read', async () => {
    const tokenFile = join(dir, 'missing');
    const error = await rejection(source({ auth: { type: 'bearerFile', tokenFile }, queries: oneQuery }).readLatest([cpu], atMs));
    expect(error.code).toBe('FORESIGHT_ERR_SOURCE_QUERY');
    expect(error.message).toContain(`cannot read the bearer token file ${tokenFile}`);
    expect(prometheus.requests).toHaveLength(0);
  });

  test('sends basic auth with a password', async () => {
    await source({ auth: { type: 'basic', username: 'user', password: 'p:ss' }, queries: oneQuery }).readLatest([cpu], atMs);
    expect(prometheus.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('user:p:ss').toString('base64')}`);
  });

  test('sends basic auth with a password file, re-read on every query', async () => {
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, 'one');
    const src = source({ auth: { type: 'basic', username: 'user', passwordFile }, queries: oneQuery });
    await src.readLatest([cpu], atMs);
    await writeFile(passwordFile, 'two');
    await src.readLatest([cpu], atMs);
    expect(prometheus.requests.map((r) => r.headers.authorization)).toEqual([`Basic ${Buffer.from('user:one').toString('base64')}`, `Basic ${Buffer.from('user:two').toString('base64')}`]);
  });

  test('sends custom headers such as a Mimir tenant', async () => {
    await source({ headers: { 'X-Scope-OrgID': 'team-a', 'X-Custom': 'yes' }, auth: { type: 'bearer', token: 't' }, queries: oneQuery }).readLatest([cpu], atMs);
    expect(prometheus.requests[0]!.headers).toMatchObject({ 'x-scope-orgid': 'team-a', 'x-custom': 'yes', authorization: 'Bearer t' });
  });

  test('asks for uncompressed answers unless gzip is on, and sends queries as POST forms', async () => {
    await source({ queries: oneQuery }).readLatest([cpu], atMs);
    await source({ gzip: true, queries: oneQuery }).readLatest([cpu], atMs);
    await source({ gzip: true, queries: oneQuery }).readHistory([cpu], { startMs: atMs - 60_000, endMs: atMs, stepSeconds: 60 });
    const [plain, gzip, range] = prometheus.requests;
    expect(plain!.headers['accept-encoding']).toBe('identity');
    expect(gzip!.headers['accept-encoding']).toMatch(/\bgzip\b/);
    expect(range!.headers['accept-encoding']).toMatch(/\bgzip\b/);
    for (const request of [plain!, range!]) {
      expect(request.method).toBe('POST');
      expect(request.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      expect(request.params.get('query')).toBe('sum(x)');
    }
  });

  test('honours a path prefix in the URL (Mimir serves the API under /prometheus)', async () => {
    await new PrometheusSource({ url: `${prometheus.url}/prometheus/`, queries: oneQuery }).readLatest([cpu], atMs);
    expect(prometheus.requests[0]!.path).toBe('/prometheus/api/v1/query');
  });
});

describe('configuration errors', () => {
  const cases: readonly { name: string; options: Partial<PrometheusSourceOptions>; message: RegExp }[] = [
    { name: 'an unknown placeholder, naming the key', options: { queries: queries({ queue: { depth: 'x{q="{{name}}"}' } }) }, message: /queries\.queue\.depth: .*unknown placeholder/ },
    {
      name: '{{queue}} in a system template',
      options: { queries: queries({ system: { cpu_percent: 'x{q="{{queue}}"}' } }) },
      message: /queries\.system\.cpu_percent: only queue templates may use \{\{queue\}\}/,
    },
    { name: "maxPointsPerQuery above Prometheus' limit", options: { maxPointsPerQuery: 11_001 }, message: /maxPointsPerQuery must be an integer of at least 1 and at most 11000/ },
    { name: 'a zero timeout', options: { timeoutSeconds: 0 }, message: /timeoutSeconds must be a number greater than 0/ },
    { name: 'a URL that is not http', options: { url: 'prometheus:9090' }, message: /must be http/ },
    {
      name: 'basic auth with both password and passwordFile',
      options: { auth: { type: 'basic', username: 'u', password: 'p', passwordFile: '/f' } },
      message: /exactly one of password and passwordFile/,
    },
    { name: 'basic auth with neither', options: { auth: { type: 'basic', username: 'u' } }, message: /exactly one of password and passwordFile/ },
    { name: 'a queue label that is not a label name', options: { queueLabel: 'queue-name' }, message: /not a Prometheus label name/ },
  ];
  for (const tc of cases) {
    test(`rejects ${tc.name}`, () => {
      let thrown: unknown;
      try {
        new PrometheusSource({ url: 'http://127.0.0.1:9090', queries: queries({}), ...tc.options });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ForesightError);
      expect((thrown as ForesightError).code).toBe('FORESIGHT_ERR_CONFIG_INVALID');
      expect((thrown as Error).message).toMatch(tc.message);
    });
  }
});
