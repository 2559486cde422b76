/**
 * Proves the real-Prometheus harness (test/support/prometheus.ts): backfilled history comes back
 * exactly, scraping works, and a stopped Prometheus fails fast and comes back with its data.
 * Other integration tests build on these guarantees, so this file keeps them honest.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/core/index.js';
import { requireBinaries } from '../support/binaries.js';
import { formatOpenMetrics, type BackfillSeries } from '../support/openmetrics.js';
import { PrometheusUnreachableError, usePrometheus, type PrometheusHandle, type RangeSeries } from '../support/prometheus.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** A label value with every character OpenMetrics must escape, to prove the round trip. */
const AWKWARD_QUEUE = 'claims "priority" \\ east\nwing';

/** A daily sine around `level`, one point a minute, ending at `endMs` (inclusive). */
function dailySine(startMs: number, endMs: number, level: number, amplitude: number): Sample[] {
  const samples: Sample[] = [];
  for (let t = startMs; t <= endMs; t += MINUTE_MS) {
    samples.push({ timestampMs: t, value: level + amplitude * Math.sin((2 * Math.PI * (t % DAY_MS)) / DAY_MS) });
  }
  return samples;
}

/** A one-metric exporter on a kernel-chosen loopback port. */
async function startExporter(body: string): Promise<{ server: Server; target: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    response.end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, target: `127.0.0.1:${port}` };
}

describe('openmetrics writer', () => {
  it('writes seconds, escapes label values, groups families and ends with # EOF', () => {
    const text = formatOpenMetrics([
      { name: 'queue_depth', labels: { queue: 'a"b\\c\nd' }, samples: [{ timestampMs: 1_700_000_000_500, value: 1 }] },
      { name: 'jobs_total', type: 'counter', samples: [{ timestampMs: 1_700_000_000_000, value: Number.NaN }] },
      { name: 'queue_depth', labels: { queue: 'z' }, samples: [{ timestampMs: 1_700_000_060_000, value: -2.5 }] },
    ]);
    expect(text).toBe(
      [
        '# TYPE queue_depth gauge',
        'queue_depth{queue="a\\"b\\\\c\\nd"} 1 1700000000.5',
        'queue_depth{queue="z"} -2.5 1700000060',
        '# TYPE jobs counter',
        'jobs_total NaN 1700000000',
        '# EOF',
        '',
      ].join('\n'),
    );
  });
});

describe.skipIf(!requireBinaries('prometheus', 'promtool'))('Prometheus harness (real prometheus + promtool)', () => {
  // Whole minutes, so the range query's grid falls exactly on the samples.
  const endMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const startMs = endMs - 3 * DAY_MS;
  const history: BackfillSeries[] = [
    { name: 'harness_queue_depth', labels: { queue: 'batch', env: 'test' }, samples: dailySine(startMs, endMs, 1000, 400) },
    { name: 'harness_queue_depth', labels: { queue: AWKWARD_QUEUE, env: 'test' }, samples: dailySine(startMs, endMs, 50, 10) },
  ];
  const batch = history[0]!.samples;

  let exporter: { server: Server; target: string };
  beforeAll(async () => {
    exporter = await startExporter('# TYPE harness_scraped gauge\nharness_scraped 42\n');
  });
  afterAll(async () => {
    await new Promise((done) => exporter?.server.close(done));
  });

  // Registered after the exporter's hooks, so it starts after the exporter and stops before it.
  const usePrometheusHandle = usePrometheus(() => ({
    backfill: history,
    scrapeTargets: [{ job: 'harness', targets: [exporter.target], scrapeIntervalSeconds: 1 }],
  }));
  let prometheus: PrometheusHandle;
  beforeAll(() => {
    prometheus = usePrometheusHandle();
  });

  function batchSeries(result: RangeSeries[]): RangeSeries {
    const series = result.find((s) => s.metric['queue'] === 'batch');
    expect(series, 'the batch series').toBeDefined();
    return series!;
  }

  it('returns the backfilled 3 days of 1-minute history from query_range, value for value', async () => {
    const result = await prometheus.queryRange('harness_queue_depth{env="test"}', startMs, endMs, 60);
    expect(result).toHaveLength(2);
    const series = batchSeries(result);
    expect(series.metric).toEqual({ __name__: 'harness_queue_depth', queue: 'batch', env: 'test' });
    expect(series.samples).toHaveLength(batch.length); // 3 * 1440 + 1
    for (let i = 0; i < batch.length; i++) {
      expect(series.samples[i]!.timestampMs).toBe(batch[i]!.timestampMs);
      expect(series.samples[i]!.value).toBeCloseTo(batch[i]!.value, 9);
    }
  });

  it('keeps escaped label values intact', async () => {
    const result = await prometheus.query('count by (queue) (harness_queue_depth)', endMs);
    expect(result.map((s) => s.metric['queue']).sort()).toEqual([AWKWARD_QUEUE, 'batch'].sort());
  });

  it('answers an instant query at the fixture end', async () => {
    const [sample, ...rest] = await prometheus.query('harness_queue_depth{queue="batch"}', endMs);
    expect(rest).toEqual([]);
    expect(sample!.timestampMs).toBe(endMs);
    expect(sample!.value).toBeCloseTo(batch.at(-1)!.value, 9);
  });

  it('scrapes a static target', async () => {
    const result = await prometheus.waitFor('harness_scraped{job="harness"}', (r) => r.length === 1);
    expect(result[0]!.value).toBe(42);
    const targets = await prometheus.targets();
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({ job: 'harness', health: 'up', scrapeUrl: `http://${exporter.target}/metrics` });
  });

  it('fails fast while stopped, then comes back on the same port with its data', async () => {
    const { url, dataDir } = prometheus;
    const stoppedAtMs = Date.now();
    await prometheus.stop();
    expect(prometheus.running).toBe(false);

    // Fails fast: the connection is refused, the request does not wait for a timeout.
    const refused = prometheus.query('harness_queue_depth', endMs);
    await expect(refused).rejects.toBeInstanceOf(PrometheusUnreachableError);
    await expect(refused).rejects.toThrow(/ECONNREFUSED/);

    await prometheus.restart();
    expect(prometheus.running).toBe(true);
    expect(prometheus.url).toBe(url);
    expect(prometheus.dataDir).toBe(dataDir);

    // Backfilled blocks survive...
    const series = batchSeries(await prometheus.queryRange('harness_queue_depth', startMs, endMs, 3600));
    expect(series.samples).toHaveLength(3 * 24 + 1);
    expect(series.samples.at(-1)!.value).toBeCloseTo(batch.at(-1)!.value, 9);
    // ...and so do the samples scraped before the stop, replayed from the WAL (queried at a time
    // before the restart, so fresh scrapes cannot answer for them).
    const scraped = await prometheus.query('harness_scraped', stoppedAtMs);
    expect(scraped.map((s) => s.value)).toEqual([42]);
  });
});
