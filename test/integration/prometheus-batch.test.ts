/**
 * Batched queries (src/source/prometheus-batch.ts) against a real Prometheus (Debian package),
 * history loaded with promtool: whatever the batching, every input gets the value, or the problem
 * (with Prometheus' own error text and the query), it gets when each query is sent alone; a batch
 * holding a bad query still answers the others; a result already carrying the index label is not
 * mistaken for ours; and no request holds more queries than the bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performanceMetrics, queueMetrics, resources, systemMetrics, type InputRef, type Sample } from '../../src/core/index.js';
import { PrometheusSource, type PrometheusSourceOptions, type QueryEvent } from '../../src/source/index.js';
import { batchLabel } from '../../src/source/prometheus-batch.js';
import { requireBinaries } from '../support/binaries.js';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const off = <K extends string>(keys: readonly K[]): Record<K, string> => Object.fromEntries(keys.map((k) => [k, ''])) as Record<K, string>;
const namespaces = ['shop', 'claims'];
const workloads = ['api', 'worker'];
const queues = ['alpha', 'beta', 'gamma'];

/** Every input of the test: the system and performance ones cover each outcome; the workloads' grouped queue templates are split by queue. */
const system: Record<string, string> = {
  cpu_percent: 'sum(batch_depth)', // a value
  memory_percent: 'batch_depth{queue="alpha"}', // multiple_series (one per namespace and workload)
  disk_io_bytes_per_second: 'scalar(sum(batch_depth))', // a scalar: a batch refuses it, alone it is a value
  network_io_bytes_per_second: 'batch_carrying', // carries the index label already
  load1: 'sum(batch_absent)', // empty
  load5: 'sum(batch_depth) / 0', // not_finite
  load15: 'sum(rate(batch_depth[5m])', // a syntax error: query_failed
};

function options(url: string, extra: Partial<PrometheusSourceOptions>): PrometheusSourceOptions {
  return {
    url,
    queries: {
      queue: off(queueMetrics),
      system: { ...off(systemMetrics), ...system },
      performance: { ...off(performanceMetrics), response_time_p95_seconds: 'max(batch_depth{queue="beta"})' },
      replicas: off(resources),
      workloads: namespaces.flatMap((namespace) =>
        workloads.map((workload) => ({
          namespace,
          workload,
          where: `workloads[${namespace}/${workload}].queries`,
          inputs: { cpu_percent: 'sum(batch_depth{namespace="{{namespace}}", workload="{{workload}}"}) / 10' },
          queue: {
            depth: 'sum by (queue) (batch_depth{namespace="{{namespace}}", workload="{{workload}}"})',
            consumers: 'sum(batch_depth{namespace="{{namespace}}", workload="{{workload}}", queue="{{queue}}"}) * 2',
          },
        })),
      ),
    },
    ...extra,
  };
}

const inputs: InputRef[] = [
  ...systemMetrics.map((metric): InputRef => ({ kind: 'system', metric })),
  { kind: 'performance', metric: 'response_time_p95_seconds' },
  ...namespaces.flatMap((namespace) =>
    workloads.flatMap((workload): InputRef[] => [
      { kind: 'workload', namespace, workload, metric: 'cpu_percent' },
      ...queues.flatMap((queue): InputRef[] => [
        { kind: 'queue', namespace, workload, queue, metric: 'depth' },
        { kind: 'queue', namespace, workload, queue, metric: 'consumers' },
      ]),
      // A queue with no data: empty, from the grouped query and from its own.
      { kind: 'queue', namespace, workload, queue: 'vanished', metric: 'depth' },
      { kind: 'queue', namespace, workload, queue: 'vanished', metric: 'consumers' },
    ]),
  ),
];

describe.skipIf(!requireBinaries('prometheus', 'promtool'))('batched queries with a real Prometheus', () => {
  // Whole hours in the past: every moment the test reads is already in the TSDB.
  const endMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;
  const startMs = endMs - 3 * HOUR_MS;
  const atMs = endMs - HOUR_MS;
  let prometheus: PrometheusHandle;

  beforeAll(async () => {
    const samples = (level: number): Sample[] => {
      const out: Sample[] = [];
      for (let t = startMs; t <= endMs; t += MINUTE_MS) out.push({ timestampMs: t, value: level + ((t / MINUTE_MS) % 7) });
      return out;
    };
    prometheus = await startPrometheus({
      backfill: [
        ...namespaces.flatMap((namespace, n) =>
          workloads.flatMap((workload, w) => queues.map((queue, q) => ({ name: 'batch_depth', labels: { namespace, workload, queue }, samples: samples(100 * n + 10 * w + q) }))),
        ),
        { name: 'batch_carrying', labels: { [batchLabel]: 'theirs' }, samples: samples(5) },
      ],
    });
  });
  afterAll(async () => {
    await prometheus?.dispose();
  });

  /** Reads with a source, counting its requests. */
  async function read(extra: Partial<PrometheusSourceOptions>, how: (source: PrometheusSource) => Promise<unknown>): Promise<{ answer: unknown; requests: QueryEvent[] }> {
    const requests: QueryEvent[] = [];
    const answer = await how(new PrometheusSource(options(prometheus.url, { ...extra, onQuery: (event) => requests.push(event) })));
    return { answer, requests };
  }

  it('answers every input as the queries sent alone do, values and problems, and names the bad query', async () => {
    const latest = (source: PrometheusSource) => source.readLatest(inputs, atMs);
    const alone = await read({ batchMaxQueries: 1 }, latest);
    // One request at a time: every query is in one batch (the bad ones are then sent alone).
    const batched = await read({ concurrency: 1 }, latest);
    expect(batched.answer).toEqual(alone.answer);
    // Compressed answers (source.prometheus.gzip) read the same.
    expect((await read({ concurrency: 1, gzip: true }, latest)).answer).toEqual(alone.answer);
    const distinct = new Set(Object.values(system)).size + 1 + namespaces.length * workloads.length * (2 + queues.length + 1);
    expect(alone.requests).toHaveLength(distinct);
    // The batch fails (the syntax error, the scalar), then each query goes alone: one request more.
    expect(batched.requests).toHaveLength(distinct + 1);

    const { readings, problems } = alone.answer as Awaited<ReturnType<PrometheusSource['readLatest']>>;
    const problemOf = (metric: string) => problems.find((p) => p.input.kind === 'system' && p.input.metric === metric);
    expect(problemOf('memory_percent')?.reason).toBe('multiple_series');
    expect(problemOf('load1')?.reason).toBe('empty');
    expect(problemOf('load5')?.reason).toBe('not_finite');
    expect(problemOf('load15')).toMatchObject({ reason: 'query_failed', message: expect.stringMatching(/parse error.*: sum\(rate\(batch_depth\[5m\]\)$/) });
    const value = (input: Partial<InputRef>) => readings.find((r) => Object.entries(input).every(([k, v]) => (r.input as Record<string, unknown>)[k] === v))?.value;
    expect(value({ kind: 'system', metric: 'disk_io_bytes_per_second' })).toBe(value({ kind: 'system', metric: 'cpu_percent' }));
    expect(value({ kind: 'system', metric: 'network_io_bytes_per_second' })).toBeGreaterThanOrEqual(5);
    const sample = 100 + 10 + 2 + ((atMs / MINUTE_MS) % 7); // claims/worker/gamma at atMs
    expect(value({ kind: 'queue', namespace: 'claims', workload: 'worker', queue: 'gamma', metric: 'depth' })).toBe(sample);
    expect(value({ kind: 'queue', namespace: 'claims', workload: 'worker', queue: 'gamma', metric: 'consumers' })).toBe(2 * sample);
    expect(problems.filter((p) => p.input.kind === 'queue' && p.input.queue === 'vanished').map((p) => p.reason)).toEqual(Array(8).fill('empty'));
  });

  it('a batch of good queries answers in one request, and the short range reads equal those sent alone', async () => {
    const good = inputs.filter((i) => i.kind !== 'system' || ['cpu_percent', 'load1', 'load5', 'memory_percent'].includes(i.metric));
    const recent = { startMs: atMs - 5 * MINUTE_MS, endMs: atMs, stepSeconds: 60 };
    const history = (source: PrometheusSource) => source.readHistory(good, recent);
    const alone = await read({ batchMaxQueries: 1 }, history);
    const batched = await read({ concurrency: 1 }, history);
    expect(batched.answer).toEqual(alone.answer);
    expect(batched.requests).toHaveLength(1);
    expect(batched.requests[0]!.kind).toBe('range');
    const { history: series } = alone.answer as Awaited<ReturnType<PrometheusSource['readHistory']>>;
    expect(series.length).toBeGreaterThan(20);
    for (const s of series) expect(s.series.values).toHaveLength(6);

    // A whole-query failure in a range batch (a scalar in label_replace) falls back the same way.
    const all = (source: PrometheusSource) => source.readHistory(inputs, recent);
    expect((await read({ concurrency: 1 }, all)).answer).toEqual((await read({ batchMaxQueries: 1 }, all)).answer);
  });

  it.each([
    ['a result carrying the index label already', 'network_io_bytes_per_second'],
    ['a scalar', 'disk_io_bytes_per_second'],
    ['a syntax error', 'load15'],
  ] as const)('a batch holding %s is sent again query by query, with the answers of the queries alone', async (_, metric) => {
    const some = [...inputs.filter((i) => i.kind === 'queue' || i.kind === 'workload'), { kind: 'system', metric } satisfies InputRef];
    const latest = (source: PrometheusSource) => source.readLatest(some, atMs);
    const alone = await read({ batchMaxQueries: 1 }, latest);
    const batched = await read({ concurrency: 1 }, latest);
    expect(batched.answer).toEqual(alone.answer);
    expect(batched.requests).toHaveLength(alone.requests.length + 1);
  });

  it('never puts more than batchMaxQueries queries in a request, and leaves long range reads alone', async () => {
    const good = inputs.filter((i) => i.kind === 'queue' || i.kind === 'workload');
    const distinct = namespaces.length * workloads.length * (2 + queues.length + 1);
    const bounded = await read({ concurrency: 1, batchMaxQueries: 4 }, (source) => source.readLatest(good, atMs));
    expect(bounded.requests).toHaveLength(Math.ceil(distinct / 4));
    expect(bounded.answer).toEqual((await read({ batchMaxQueries: 1 }, (source) => source.readLatest(good, atMs))).answer);
    // Two hours of points: each query alone.
    const long = await read({ concurrency: 1 }, (source) => source.readHistory(good, { startMs: atMs - 2 * HOUR_MS, endMs: atMs, stepSeconds: 60 }));
    expect(long.requests).toHaveLength(distinct);
  });
});
