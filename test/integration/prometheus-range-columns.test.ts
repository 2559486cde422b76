/**
 * Range reads decoded straight into columns (src/source/prometheus-matrix.ts), against a real
 * Prometheus (Debian package) holding a day of backfilled history: every point comes back as the
 * same double that was stored, the same as prometheus-query decodes it, across chunks, for a
 * grouped query split by queue (label values with quotes, backslashes and non-ASCII characters),
 * and Prometheus' NaN and ±Inf are handled as before.
 */
import { PrometheusDriver } from 'prometheus-query';
import { describe, expect, it } from 'vitest';
import type { InputRef, Sample } from '../../src/core/index.js';
import { PrometheusSource, type PrometheusSourceOptions } from '../../src/source/index.js';
import { requireBinaries } from '../support/binaries.js';
import { usePrometheus } from '../support/prometheus.js';

const MINUTE_MS = 60_000;
const endMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 10 * MINUTE_MS;
const startMs = endMs - 86_400_000;
const queues = ['orders', 'say "hi" \\ there', 'Zürich-é'] as const;

/** Values with every digit count Prometheus writes: 17-digit fractions, integers, tiny and huge ones. */
function valueAt(queue: number, t: number): number {
  const i = (t - startMs) / MINUTE_MS;
  switch (i % 4) {
    case 0:
      return 100 * Math.abs(Math.sin(i * 0.37 + queue));
    case 1:
      return Math.round(1000 * Math.abs(Math.cos(i)));
    case 2:
      return 1e-9 * (i + 1) * (queue + 1);
    default:
      return 3.3e22 * (1 + i / 7);
  }
}

function samples(queue: number): Sample[] {
  const out: Sample[] = [];
  for (let t = startMs; t <= endMs; t += MINUTE_MS) out.push({ timestampMs: t, value: valueAt(queue, t) });
  return out;
}

const off = <K extends string>(keys: readonly K[]): Record<K, string> => Object.fromEntries(keys.map((k) => [k, ''])) as Record<K, string>;
const depth = (queue: string): InputRef => ({ kind: 'queue', queue, metric: 'depth' });
const cpu: InputRef = { kind: 'system', metric: 'cpu_percent' };
const load1: InputRef = { kind: 'system', metric: 'load1' };

function queries(system: { cpu_percent: string; load1: string }): PrometheusSourceOptions['queries'] {
  return {
    queue: { ...off(['enqueue_rate_per_second', 'dequeue_rate_per_second', 'wait_avg_seconds', 'wait_max_seconds', 'consumers', 'failed_messages'] as const), depth: 'test_range_value' },
    system: { ...off(['memory_percent', 'disk_io_bytes_per_second', 'network_io_bytes_per_second', 'load5', 'load15'] as const), ...system },
    performance: { response_time_p95_seconds: '', error_rate_percent: '', db_connection_utilization_percent: '' },
    replicas: { worker_processes: '', api_instances: '', batch_processors: '', ml_workers: '', db_connections: '' },
  };
}

describe.skipIf(!requireBinaries('prometheus', 'promtool'))('range reads decoded into columns, against a real Prometheus', () => {
  const prometheus = usePrometheus(() => ({ backfill: queues.map((queue, q) => ({ name: 'test_range_value', labels: { queue }, samples: samples(q) })) }));
  const range = { startMs, endMs, stepSeconds: 60 };

  it('reads back every stored double exactly, across chunks, split by queue', { timeout: 60_000 }, async () => {
    const source = new PrometheusSource({ url: prometheus().url, maxPointsPerQuery: 500, queries: queries({ cpu_percent: '', load1: '' }) });
    const result = await source.readHistory(queues.map(depth), range);
    expect(result.problems).toEqual([]);
    expect(result.history.map((h) => h.input)).toEqual(queues.map(depth));
    result.history.forEach(({ series }, q) => {
      expect(series.startMs).toBe(startMs);
      expect([...series.values]).toEqual(samples(q).map((s) => s.value));
    });
  });

  it('decodes every point as prometheus-query does, and NaN and ±Inf as before', { timeout: 60_000 }, async () => {
    // The oracle: the driver's objects, one Date per point.
    const driver = new PrometheusDriver({ endpoint: prometheus().url, baseURL: '/api/v1/' });
    const answer = await driver.rangeQuery('sum(test_range_value)', startMs, endMs, 60);
    const oracle = new Map(answer.result[0]!.values.map((v: { time: Date; value: number }) => [v.time.getTime(), v.value]));
    const source = new PrometheusSource({ url: prometheus().url, queries: queries({ cpu_percent: 'sum(test_range_value)', load1: 'sum(test_range_value) / 0' }) });
    const result = await source.readHistory([cpu, load1], range);
    const [sum, infinite] = result.history;
    expect(oracle.size).toBe(1441);
    expect([...sum!.series.values]).toEqual(Array.from({ length: 1441 }, (_, i) => oracle.get(startMs + i * MINUTE_MS)));
    // +Inf points are no values: the input has no finite point in the range.
    expect(infinite).toBeUndefined();
    expect(result.problems).toEqual([{ input: load1, reason: 'not_finite', message: 'no finite value in the range: sum(test_range_value) / 0' }]);
    const nanQuery = '(sum(test_range_value) - sum(test_range_value)) / 0';
    const nan = await new PrometheusSource({ url: prometheus().url, queries: queries({ cpu_percent: nanQuery, load1: '' }) }).readHistory([cpu], range);
    expect(nan).toEqual({ history: [], problems: [{ input: cpu, reason: 'not_finite', message: `no finite value in the range: ${nanQuery}` }] });
    const mixed = await new PrometheusSource({ url: prometheus().url, queries: queries({ cpu_percent: 'sum(test_range_value) / (minute() % 2)', load1: '' }) }).readHistory([cpu], range);
    // minute() % 2 is 0 on even minutes: +Inf there, the sum divided by 1 elsewhere.
    mixed.history[0]!.series.values.forEach((value, i) => {
      const t = startMs + i * MINUTE_MS;
      expect(value).toEqual(new Date(t).getUTCMinutes() % 2 === 0 ? Number.NaN : oracle.get(t));
    });
  });
});
