/**
 * `npm run bench:source-reads -- [--queues N] [--rounds R]`: the CPU the Prometheus source spends on
 * one cycle's reads at N queues (default 1,000), against a real Prometheus (promtool backfill of
 * the last 3 hours at 1 minute): the latest value of every input and the recent past (6 points),
 * as bench:scale's configuration reads them (workloads of 10 queues, one grouped query per workload
 * and input: 7 × N/10 distinct queries). Each way of sending is timed over R rounds (default 10)
 * in this process: batched (the default) or one query per request, answers uncompressed (the
 * default) or gzip-compressed. It also reads the 3 hours (as a window's slice is read: one query
 * per request, 181 points a series) both ways, and prints the bytes of one answer both ways.
 * Prints a table; CPU figures on a busy machine are not comparable with a quiet one.
 */
import { performanceMetrics, queueMetrics, resources, systemMetrics, type InputRef, type Sample } from '../src/core/index.js';
import { PrometheusSource, type PrometheusSourceOptions, type TimeRange } from '../src/source/index.js';
import { startPrometheus } from '../test/support/prometheus.js';

const MINUTE_MS = 60_000;
const metrics = ['depth', 'enqueue_rate_per_second', 'dequeue_rate_per_second', 'wait_avg_seconds', 'wait_max_seconds', 'consumers', 'failed_messages'] as const;
const queuesPerWorkload = 10;
const off = <K extends string>(keys: readonly K[]): Record<K, string> => Object.fromEntries(keys.map((k) => [k, ''])) as Record<K, string>;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const queues = arg('queues', 1000);
const rounds = arg('rounds', 10);
const workloads = Math.ceil(queues / queuesPerWorkload);
const where = (q: number) => ({ namespace: `ns-${Math.floor(q / queuesPerWorkload) % 10}`, workload: `wl-${Math.floor(q / queuesPerWorkload)}` });
const endMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 10 * MINUTE_MS;
const startMs = endMs - 3 * 3_600_000;

const prometheus = await startPrometheus({
  backfill: Array.from({ length: queues }, (_, q) =>
    metrics.map((metric, m) => ({
      name: `bench_queue_${metric}`,
      labels: { ...where(q), queue: `q-${q}` },
      get samples(): Sample[] {
        const out: Sample[] = [];
        for (let t = startMs; t <= endMs; t += MINUTE_MS) out.push({ timestampMs: t, value: 50 + ((q * 37 + m * 11) % 500) + 5 * Math.sin(t / 600_000 + q) });
        return out;
      },
    })),
  ).flat(),
});
try {
  const inputs: InputRef[] = Array.from({ length: queues }, (_, q) => metrics.map((metric): InputRef => ({ kind: 'queue', ...where(q), queue: `q-${q}`, metric }))).flat();
  const source = (extra: Partial<PrometheusSourceOptions>) =>
    new PrometheusSource({
      url: prometheus.url,
      queries: {
        queue: off(queueMetrics),
        system: off(systemMetrics),
        performance: off(performanceMetrics),
        replicas: off(resources),
        workloads: Array.from({ length: workloads }, (_, w) => ({
          ...where(w * queuesPerWorkload),
          where: `workloads[${w}].queries`,
          inputs: {},
          queue: Object.fromEntries(metrics.map((m) => [m, `sum by (queue) (bench_queue_${m}{namespace="{{namespace}}", workload="{{workload}}"})`])),
        })),
      },
      ...extra,
    });
  const recent: TimeRange = { startMs: endMs - 5 * MINUTE_MS, endMs, stepSeconds: 60 };
  const whole: TimeRange = { startMs, endMs, stepSeconds: 60 };
  /** CPU (ms) and wall (ms) per round of `read`, after one round to warm up; checks that every input was read. */
  const timed = async (read: () => Promise<number>): Promise<[number, number]> => {
    if ((await read()) !== inputs.length) throw new Error('not every input was read');
    const cpu = process.cpuUsage();
    const began = performance.now();
    for (let i = 0; i < rounds; i++) await read();
    const used = process.cpuUsage(cpu);
    return [(used.user + used.system) / 1000 / rounds, (performance.now() - began) / rounds];
  };
  const rows: string[] = [];
  const ways: [string, Partial<PrometheusSourceOptions>][] = [
    ['batched, uncompressed (default)', {}],
    ['batched, gzip', { gzip: true }],
    ['one query per request, uncompressed', { batchMaxQueries: 1 }],
    ['one query per request, gzip', { batchMaxQueries: 1, gzip: true }],
  ];
  for (const [name, extra] of ways) {
    const s = source(extra);
    const requests = { count: 0 };
    const counting = source({ ...extra, onQuery: () => requests.count++ });
    await counting.readLatest(inputs, endMs);
    await counting.readHistory(inputs, recent);
    const [cpu, wall] = await timed(async () => (await s.readLatest(inputs, endMs)).readings.length + (await s.readHistory(inputs, recent)).history.length - inputs.length);
    rows.push(`| latest + recent past: ${name} | ${requests.count} | ${cpu.toFixed(0)} ms | ${wall.toFixed(0)} ms |`);
  }
  for (const [name, extra] of ways.slice(0, 2)) {
    const s = source(extra);
    const [cpu, wall] = await timed(async () => (await s.readHistory(inputs, whole)).history.length);
    rows.push(`| 3 hours (one query per request): ${name.replace('batched, ', '')} | ${workloads * metrics.length} | ${cpu.toFixed(0)} ms | ${wall.toFixed(0)} ms |`);
  }
  console.log(`${queues} queues, ${inputs.length} inputs, ${workloads * metrics.length} distinct queries; per round, ${rounds} rounds (CPU of this process)\n`);
  console.log(`| read | requests | CPU | wall |\n|---|---:|---:|---:|\n${rows.join('\n')}`);
  // The bytes on the wire: node:http does not decompress.
  const { request } = await import('node:http');
  const wire = (encoding: string) =>
    new Promise<number>((resolve, reject) => {
      const form = new URLSearchParams({
        query: 'sum by (queue) (bench_queue_depth{namespace="ns-0", workload="wl-0"})',
        start: String(whole.startMs / 1000),
        end: String(whole.endMs / 1000),
        step: '60',
      }).toString();
      const req = request(`${prometheus.url}/api/v1/query_range`, { method: 'POST', headers: { 'Accept-Encoding': encoding, 'Content-Type': 'application/x-www-form-urlencoded' } }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(form);
    });
  console.log(`\none 3-hour answer (10 series × 181 points): ${await wire('gzip')} bytes gzip, ${await wire('identity')} bytes identity`);
} finally {
  await prometheus.dispose();
}
