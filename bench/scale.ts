/**
 * `npm run bench:scale -- --queues N [--days D] [--cycles K] [--rate R] [--json OUT.json] [--tsdb DIR [--backfill-only]] [--settle] [--source] [--heap-mb M]`: Foresight
 * with N queues (7 inputs each) in a real Prometheus (Debian package) loaded with promtool: D days
 * (default 14) at 1 minute. The queues belong to workloads of 10 queues each, spread over 10
 * namespaces, read with one grouped query per workload and input (no per-queue query).
 *
 * Measured (DESIGN.md "Quality bars"; goals in issue 13):
 * - firstForecastSeconds: service start until a snapshot forecasts every queue (goal ≤ 60 s);
 * - cycleCpuSeconds, cycleWallSeconds: medians over K steady cycles (after the first) of the cycle's
 *   CPU (the service's, and the model processes' answering the cycle's calls) and wall time (goal ≤ 1 s
 *   CPU). Refits run in the background between calls, at their own pace: their CPU during the cycles,
 *   the refits still queued, and the whole process tree's CPU per cycle are printed beside it;
 * - serviceRssBytes, modelProcessRssBytes: after the steady cycles (goal ≤ 400 MB for the service);
 * - scrapeSeconds, scrapeBytes: median of the first GET /metrics after each steady cycle, the one
 *   that writes the new snapshot's families (goal ≤ 250 ms); repeatedScrapeSeconds (outside the
 *   contract): median of 5 more of the same snapshot;
 * - externalMetricsP99Ms: p99 of external-metrics requests (mTLS, one queue each) at R requests/s
 *   (default 2,000) while a cycle runs (printed, not in the JSON contract).
 * The learned models (LSTM) are off here: their training runs in its own low-priority process at its own
 * pace (bench:train measures it), and would blur the cycle's CPU.
 *
 * `FORESIGHT_BENCH_PROFILE_DIR=DIR` writes a CPU profile of the service per cycle the benchmark runs (settling and
 * steady), `FORESIGHT_BENCH_HEAP_DIR=DIR` a heap snapshot after each (outside the measured span).
 *
 * The service runs compiled, by plain Node, as deployed; `--source` runs the sources through tsx instead.
 * `--heap-mb M` gives the service a V8 old-space ceiling (`--max-old-space-size=M`), as a tight container would.
 *
 * `--tsdb DIR` keeps the backfilled TSDB in DIR (its description in DIR.json) and reuses it while it
 * still holds data 2 h past now: a backfill of 1,000 queues takes about 50 minutes. Such data runs
 * 8 h past the backfill instead of 1 h; `--backfill-only` stops after the backfill. `--settle` runs
 * cycles until every history window is all read before the measured ones (about 32 at 1,000 queues).
 *
 * JSON contract (outside checks call it): {queues, firstForecastSeconds, cycleCpuSeconds,
 * cycleWallSeconds, serviceRssBytes, modelProcessRssBytes, scrapeSeconds, scrapeBytes}.
 */
import { execFileSync, fork } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Sample } from '../src/core/index.js';
import type { BackfillSeries } from '../test/support/openmetrics.js';
import { type PrometheusHandle, startPrometheus } from '../test/support/prometheus.js';
import { childProcesses, processTreeCpuSeconds, readProcess } from './support/proc-stat.js';
import type { ScaleChildCycle, ScaleChildCycleFailed, ScaleChildReady } from './support/scale-child.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const queuesPerWorkload = 10;
const namespaces = 10;
const metrics = ['depth', 'enqueue_rate_per_second', 'dequeue_rate_per_second', 'wait_avg_seconds', 'wait_max_seconds', 'consumers', 'failed_messages'] as const;

interface Args {
  readonly queues: number;
  readonly days: number;
  readonly cycles: number;
  readonly rate: number;
  readonly json: string | undefined;
  readonly tsdb: string | undefined;
  readonly backfillOnly: boolean;
  readonly settle: boolean;
  readonly source: boolean;
  /** The service's V8 old-space ceiling in MB (`--max-old-space-size`), as a container's memory limit would set it; none by default. */
  readonly heapMb: number | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i < 0 ? undefined : argv[i + 1];
  };
  const count = (name: string, fallback: number): number => {
    const raw = value(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, got ${raw}`);
    return n;
  };
  return {
    queues: count('queues', 1000),
    days: count('days', 14),
    cycles: count('cycles', 5),
    rate: count('rate', 2000),
    json: value('json'),
    tsdb: value('tsdb'),
    backfillOnly: argv.includes('--backfill-only'),
    settle: argv.includes('--settle'),
    source: argv.includes('--source'),
    heapMb: value('heap-mb') === undefined ? undefined : count('heap-mb', 1),
  };
}

const queueName = (i: number) => `q-${String(i).padStart(5, '0')}`;
const workloadOf = (i: number) => Math.floor(i / queuesPerWorkload);
const namespaceOf = (w: number) => `ns-${w % namespaces}`;

/** A daily cycle with a per-queue level and phase, plus a deterministic wiggle (no random seed to manage). */
function valueAt(queue: number, metric: number, t: number): number {
  const level = 50 + ((queue * 37 + metric * 11) % 500);
  const phase = ((queue * 7) % 24) * 3_600_000;
  return Math.max(0, level * (1 + 0.5 * Math.sin((2 * Math.PI * ((t + phase) % DAY_MS)) / DAY_MS)) + 5 * Math.sin(t / 600_000 + queue));
}

/** The series, each generating its samples when read, so N × 7 × 20,160 samples are never all in memory. */
function backfill(queues: number, startMs: number, endMs: number): BackfillSeries[] {
  const series: BackfillSeries[] = [];
  for (let q = 0; q < queues; q++) {
    const w = workloadOf(q);
    metrics.forEach((metric, m) => {
      series.push({
        name: `bench_queue_${metric}`,
        labels: { namespace: namespaceOf(w), workload: `wl-${w}`, queue: queueName(q) },
        get samples(): Sample[] {
          const out: Sample[] = [];
          for (let t = startMs; t <= endMs; t += MINUTE_MS) out.push({ timestampMs: t, value: valueAt(q, m, t) });
          return out;
        },
      });
    });
  }
  return series;
}

function configYaml(queues: number, prometheusUrl: string): string {
  const workloads = Math.ceil(queues / queuesPerWorkload);
  const queueQueries = metrics.map((m) => `        ${m}: 'sum by (queue) (bench_queue_${m}{namespace="{{namespace}}", workload="{{workload}}"})'`).join('\n');
  const lines = [
    'server: { host: 127.0.0.1, port: 0 }',
    'logLevel: silent',
    'externalMetrics: { host: 127.0.0.1, port: 0, pkiDir: __PKI_DIR__ }',
    `source: { type: prometheus, prometheus: { url: ${prometheusUrl}, timeout: 60s } }`,
    // One cycle from the scheduler (the first forecast); the benchmark triggers the steady ones.
    'scaling: { monitoringInterval: 1h }',
    'snapshot: { maxAge: 2h }',
    'forecast: { modelProcess: true }',
    'ml: { lstm: { enabled: false } }',
    'queries:',
    '  system: { cpu_percent: "", memory_percent: "", disk_io_bytes_per_second: "", network_io_bytes_per_second: "", load1: "", load5: "", load15: "" }',
    '  performance: { response_time_p95_seconds: "", error_rate_percent: "", db_connection_utilization_percent: "" }',
    'workloads:',
  ];
  for (let w = 0; w < workloads; w++) {
    const names = [];
    for (let q = w * queuesPerWorkload; q < Math.min(queues, (w + 1) * queuesPerWorkload); q++) names.push(`{ name: ${queueName(q)}, threshold: 1000 }`);
    lines.push(`  - name: wl-${w}`, `    namespace: ${namespaceOf(w)}`, '    maxReplicas: 20', `    queues: [${names.join(', ')}]`);
    lines.push('    queries: &q'.replace('&q', w === 0 ? '&q' : '*q'));
    if (w === 0) {
      lines.push('      cpu_percent: ""', '      memory_percent: ""', '      response_time_p95_seconds: ""', '      error_rate_percent: ""', '      replicas: ""', '      queue:', queueQueries);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** What a kept TSDB holds (DIR.json beside it). */
interface KeptTsdb {
  readonly queues: number;
  readonly days: number;
  readonly startMs: number;
  readonly endMs: number;
}

/** A Prometheus holding the benchmark's history: backfilled now, or a kept TSDB that still fits (`--tsdb`). */
async function prometheusWithHistory(args: Args): Promise<PrometheusHandle> {
  const nowMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const describedAt = args.tsdb === undefined ? undefined : `${args.tsdb}.json`;
  if (args.tsdb !== undefined && describedAt !== undefined && existsSync(describedAt)) {
    const kept = JSON.parse(readFileSync(describedAt, 'utf8')) as KeptTsdb;
    // The steady cycles read the newest minutes: the data must outlast the run by a margin.
    if (kept.queues === args.queues && kept.days === args.days && kept.endMs >= nowMs + 2 * 3_600_000) {
      process.stderr.write(`reusing the TSDB in ${args.tsdb} (${kept.queues} queues, data until ${new Date(kept.endMs).toISOString()})\n`);
      return startPrometheus({ dataDir: args.tsdb });
    }
    process.stderr.write(`the TSDB in ${args.tsdb} does not fit this run (${JSON.stringify(kept)}); backfilling it again\n`);
    rmSync(args.tsdb, { recursive: true, force: true });
  }
  // Data runs past now, so that the steady cycles' latest reads find samples.
  const endMs = nowMs + (args.tsdb === undefined ? 1 : 8) * 3_600_000;
  const startMs = nowMs - args.days * DAY_MS;
  const loadBegan = performance.now();
  process.stderr.write(`backfilling ${args.queues} queues × 7 inputs × ${args.days} days at 1m with promtool...\n`);
  const prometheus = await startPrometheus({ backfill: backfill(args.queues, startMs, endMs), backfillTimeoutMs: 4 * 3_600_000, ...(args.tsdb === undefined ? {} : { dataDir: args.tsdb }) });
  process.stderr.write(`Prometheus ready after ${((performance.now() - loadBegan) / 1000).toFixed(0)} s\n`);
  if (describedAt !== undefined) writeFileSync(describedAt, `${JSON.stringify({ queues: args.queues, days: args.days, startMs, endMs } satisfies KeptTsdb)}\n`);
  return prometheus;
}

/**
 * The service's child process: compiled by tsc and run by plain Node, as deployed (`npm start` runs
 * `dist/`), unless `--source`, which runs the sources through tsx's loader. The loader adds about
 * 50 MB of resident memory (measured: the service's modules alone hold 107 MB under Node, 161 MB
 * under tsx) and the compiled code is what a profile of production shows.
 */
function childScript(source: boolean): string {
  if (source) return fileURLToPath(new URL('./support/scale-child.ts', import.meta.url));
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write('compiling the service for the benchmark (tsconfig.bench.json → dist.bench/)...\n');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.bench.json')], { stdio: 'inherit' });
  // The compiled tree sits one folder deeper than dist/, so the files the service reads beside its
  // modules are copied in: package.json (the version, the package root) and src/'s assets (the KEDA proto).
  copyFileSync(join(root, 'package.json'), join(root, 'dist.bench', 'package.json'));
  cpSync(join(root, 'src'), join(root, 'dist.bench', 'src'), { recursive: true, filter: (from) => !from.endsWith('.ts') });
  return join(root, 'dist.bench', 'bench', 'support', 'scale-child.js');
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const prometheus = await prometheusWithHistory(args);
  if (args.backfillOnly) {
    await prometheus.dispose();
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'foresight-bench-scale-'));
  const pkiDir = join(work, 'pki');
  const configPath = join(work, 'config.yaml');
  writeFileSync(configPath, configYaml(args.queues, prometheus.url));
  // Only the service gets the heap ceiling: the model process it forks starts with its own defaults.
  const heapFlags = args.heapMb === undefined ? [] : [`--max-old-space-size=${args.heapMb}`];
  const child = fork(childScript(args.source), [configPath, pkiDir, String(args.queues)], { stdio: ['ignore', 2, 2, 'ipc'], execArgv: args.source ? [...process.execArgv, ...heapFlags] : heapFlags });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const ready = await new Promise<ScaleChildReady>((resolve, reject) => {
      child.once('message', (m: ScaleChildReady | ScaleChildCycleFailed) => (m.type === 'ready' ? resolve(m) : reject(new Error(`no first forecast: ${m.message}`))));
      child.once('exit', (code, signal) => reject(new Error(`the service exited with ${signal ?? `code ${code}`} before its first forecast`)));
    });
    process.stderr.write(`first forecast of ${ready.queues} queues after ${ready.firstForecastSeconds.toFixed(1)} s, service RSS at most ${(ready.peakRssBytes / 1e6).toFixed(0)} MB until then\n`);
    const servicePid = child.pid!;
    const cycle = (): Promise<ScaleChildCycle> =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => reject(new Error(`the service exited with ${signal ?? `code ${code}`} during a cycle`));
        child.once('exit', onExit);
        child.once('message', (m: ScaleChildCycle | ScaleChildCycleFailed) => {
          child.off('exit', onExit);
          if (m.type === 'cycle') resolve(m);
          else reject(new Error(`a cycle failed: ${m.message}`));
        });
        child.send('cycle');
      });
    const scrape = async (): Promise<{ seconds: number; bytes: number }> => {
      const began = performance.now();
      const body = await (await fetch(`${ready.url}/metrics`)).text();
      return { seconds: (performance.now() - began) / 1000, bytes: Buffer.byteLength(body) };
    };
    // The cycle's CPU: the service's, and the model processes' answering its calls. Background
    // refits (which run at their own pace, between calls) are measured apart: treeCpu has everything.
    const cpu: number[] = [];
    const treeCpu: number[] = [];
    const wall: number[] = [];
    let refitCpuSeconds = 0;
    let lastCycle: ScaleChildCycle | undefined;
    // The first scrape after each cycle writes the new snapshot's families; later ones reuse them.
    const scrapes: { seconds: number; bytes: number }[] = [];
    // --settle: cycles until every history window is all read (the older slices done; the anomaly
    // trackers catch up meanwhile), so the measured cycles are those of a service past its start.
    for (let settling = 1; args.settle && settling <= 200; settling++) {
      const done = await cycle();
      process.stderr.write(
        `settling cycle ${settling}: ${done.seconds.toFixed(1)} s wall, ${(done.serviceCpuSeconds + done.modelCallsCpuSeconds).toFixed(2)} s CPU, ${done.historyPendingSeries} series still reading older history, ${done.queuedRefits} refits queued\n`,
      );
      if (done.historyPendingSeries === 0) break;
    }
    for (let i = 0; i < args.cycles; i++) {
      const before = processTreeCpuSeconds(servicePid) ?? Number.NaN;
      const done = await cycle();
      lastCycle = done;
      treeCpu.push((processTreeCpuSeconds(servicePid) ?? Number.NaN) - before);
      cpu.push(done.serviceCpuSeconds + done.modelCallsCpuSeconds);
      refitCpuSeconds += done.modelRefitsCpuSeconds;
      wall.push(done.seconds);
      scrapes.push(await scrape());
      process.stderr.write(
        `steady cycle ${i + 1}: ${done.seconds.toFixed(2)} s wall, ${cpu[cpu.length - 1]!.toFixed(2)} s CPU (service ${done.serviceCpuSeconds.toFixed(2)} + model calls ${done.modelCallsCpuSeconds.toFixed(2)}), ` +
          `${done.prometheusRequests} requests to Prometheus, background refits meanwhile ${done.modelRefitsCpuSeconds.toFixed(2)} s CPU, ${done.queuedRefits} refits queued, ${done.historyPendingSeries} series still reading older history, ${done.queuesWithForecasts} queues forecast; first scrape after it ${(scrapes[scrapes.length - 1]!.seconds * 1000).toFixed(0)} ms; ${memoryLine(done.memory)}\n`,
      );
    }
    const repeated: { seconds: number; bytes: number }[] = [];
    for (let i = 0; i < 5; i++) repeated.push(await scrape());
    const p99 = await externalMetricsDuringCycle(ready, pkiDir, args.rate, cycle);
    const service = readProcess(servicePid);
    const models = childProcesses(servicePid).filter((p) => p.state !== 'Z');
    const result = {
      queues: args.queues,
      firstForecastSeconds: ready.firstForecastSeconds,
      cycleCpuSeconds: median(cpu),
      cycleWallSeconds: median(wall),
      serviceRssBytes: service?.rssBytes ?? Number.NaN,
      modelProcessRssBytes: models.reduce((sum, p) => sum + p.rssBytes, 0),
      scrapeSeconds: median(scrapes.map((s) => s.seconds)),
      scrapeBytes: median(scrapes.map((s) => s.bytes)),
      /** Scrapes of a snapshot already scraped once (outside the contract). */
      repeatedScrapeSeconds: median(repeated.map((s) => s.seconds)),
    };
    const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
    const rows: [string, string, string][] = [
      ['queues (7 inputs each)', String(result.queues), ''],
      ['first forecast', `${result.firstForecastSeconds.toFixed(1)} s`, '≤ 60 s'],
      ['steady cycle CPU (median)', `${result.cycleCpuSeconds.toFixed(2)} s`, '≤ 1 s'],
      ['steady cycle wall (median)', `${result.cycleWallSeconds.toFixed(2)} s`, ''],
      ['process tree CPU during a steady cycle, background refits included (median)', `${median(treeCpu).toFixed(2)} s`, ''],
      [
        'background refits during the steady cycles',
        `${refitCpuSeconds.toFixed(1)} s CPU over ${wall.reduce((a, b) => a + b, 0).toFixed(1)} s of cycles; ${lastCycle?.queuedRefits ?? 'NaN'} still queued`,
        '',
      ],
      ['service RSS', mb(result.serviceRssBytes), '≤ 400 MB'],
      ['service RSS, most until the first forecast', mb(ready.peakRssBytes), ''],
      ['model process RSS', mb(result.modelProcessRssBytes), ''],
      ['/metrics scrape (the first after each cycle)', `${(result.scrapeSeconds * 1000).toFixed(0)} ms, ${(result.scrapeBytes / 1e3).toFixed(0)} kB`, '≤ 250 ms'],
      ['/metrics scrape (the same snapshot again)', `${(result.repeatedScrapeSeconds * 1000).toFixed(0)} ms`, ''],
      [`external-metrics p99 at ${args.rate} req/s during a cycle`, `${p99.p99Ms.toFixed(2)} ms (${p99.requests} requests, ${p99.errors} errors)`, '< 5 ms'],
    ];
    console.log(`| measure | value | goal |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
    if (args.json !== undefined) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    // A child that already exited has no channel: sending would raise an uncaught 'error' and skip the cleanup below.
    if (child.connected) child.send('stop');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await prometheus.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Where the service's memory is: RSS, the V8 heap used and allocated, and memory outside it (typed arrays' buffers). */
function memoryLine(m: NodeJS.MemoryUsage): string {
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  return `RSS ${mb(m.rss)} (heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, external ${mb(m.external)}, of which array buffers ${mb(m.arrayBuffers)})`;
}

/** Offers `rate` external-metrics requests per second (one queue each, in its namespace) while one cycle runs. */
async function externalMetricsDuringCycle(ready: ScaleChildReady, pkiDir: string, rate: number, cycle: () => Promise<ScaleChildCycle>): Promise<{ p99Ms: number; requests: number; errors: number }> {
  const tls = { ca: readFileSync(join(pkiDir, 'ca.crt')), cert: readFileSync(join(pkiDir, 'client.crt')), key: readFileSync(join(pkiDir, 'client.key')) };
  const requests = Array.from({ length: Math.min(200, ready.queues) }, (_, i) => {
    const q = Math.floor((i * ready.queues) / Math.min(200, ready.queues));
    return { method: 'GET' as const, path: `/apis/external.metrics.k8s.io/v1beta1/namespaces/${namespaceOf(workloadOf(q))}/predicted_queue_depth?labelSelector=queue%3D${queueName(q)}` };
  });
  // One run that outlasts the cycle: 1.5 s of warm-up (TLS handshakes), then the cycle; only the
  // responses that complete while the cycle runs are counted.
  const timed: { atMs: number; ms: number; ok: boolean }[] = [];
  let instance: autocannon.Instance | undefined;
  const running = new Promise<void>((resolve, reject) => {
    const started = autocannon({ url: ready.externalMetricsUrl, connections: 20, duration: 600, overallRate: rate, requests, tlsOptions: tls }, (error) => (error ? reject(error) : resolve()));
    instance = started;
    started.on('response', (_c: unknown, status: number, _b: number, ms: number) => timed.push({ atMs: performance.now(), ms, ok: status === 200 }));
  });
  await new Promise((r) => setTimeout(r, 1500));
  const fromMs = performance.now();
  await cycle();
  const toMs = performance.now();
  instance?.stop();
  await running;
  const during = timed.filter((t) => t.atMs >= fromMs && t.atMs <= toMs);
  const latencies = during
    .filter((t) => t.ok)
    .map((t) => t.ms)
    .sort((a, b) => a - b);
  return { p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(0.99 * latencies.length))] ?? Number.NaN, requests: during.length, errors: during.length - latencies.length };
}

await main();
