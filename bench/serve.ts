/**
 * `npm run bench:serve`: requests per second and latency of the external-metrics endpoint with 1,000
 * queues in the snapshot (DESIGN.md "Quality bars": p99 under 5 ms at 2,000 requests/s), beside a
 * bare `node:http` (and `node:https`) server that returns a fixed body of the same size and headers, as
 * a ratio.
 *
 * The servers run in a child process and autocannon in this one, so each has a core of its own on a
 * 2-core machine. The request mix is what HPAs send: one queue per request (200 distinct queues),
 * default and explicit horizon/quantile, queue_depth, anomaly_score and recommended_replicas. The
 * external-metrics server is measured as deployed behind the aggregator: TLS with the front-proxy
 * client certificate and the HPA's identity in X-Remote-* headers, authentication included; and over plain HTTP (routes only) to separate
 * the cost of TLS from the cost of answering.
 *
 * Two runs per target: a fixed offered load of 2,000 requests/s (latency at the design's rate), and
 * an unthrottled run (the most it can serve). Latencies are per response, measured by autocannon
 * with sub-millisecond resolution, from send to complete response.
 *
 * Each run is repeated (3 rounds by default, targets interleaved within a round) and the median of
 * each figure is reported, because a shared machine's background load moves single runs a lot.
 *
 * Usage: tsx bench/serve.ts [--duration SECONDS] [--rate REQUESTS_PER_SECOND] [--connections N] [--repeat N] [--json]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { createExternalMetricsServer } from '../src/api/extension-server/index.js';
import { loadConfigFromText } from '../src/config/index.js';
import type { AnomalyState, QueueState, ResourceDecision, Snapshot } from '../src/engine/index.js';
import { type CertificateAndKey, createCertificate, createSnapshotProvider, handleRequest, providerSettingsFromConfig } from '../src/publish/index.js';
import { messageOf } from '../src/core/index.js';

const queueCount = 1000;

interface Targets {
  readonly externalHttps: number;
  readonly externalHttp: number;
  readonly bareHttps: number;
  readonly bareHttp: number;
  readonly fixedBodyBytes: number;
}

interface Tls {
  readonly ca: string;
  readonly client: { readonly cert: string; readonly key: string };
}

/** The snapshot served: 1,000 queues with two horizons, five decisions, an anomaly score per queue. */
function bigSnapshot(nowMs: number): Snapshot {
  const queues: QueueState[] = [];
  for (let i = 0; i < queueCount; i++) {
    const queue = `q${String(i).padStart(4, '0')}`;
    const base = 100 + ((i * 7919) % 5000) + 0.123;
    queues.push({
      queue,
      threshold: 1000,
      resource: 'worker_processes',
      current: { depth: base },
      depthForecasts: [900, 3600].map((horizonSeconds) => ({
        seriesKey: `queue/${queue}/depth`,
        input: { kind: 'queue', queue, metric: 'depth' },
        horizonSeconds,
        originMs: nowMs,
        model: 'holt_winters',
        value: base * 1.1,
        p10: base * 0.9,
        p90: base * 1.4,
      })),
    });
  }
  const decisions: ResourceDecision[] = (['worker_processes', 'api_instances', 'batch_processors', 'ml_workers', 'db_connections'] as const).map((resource, i) => ({
    resource,
    currentReplicas: 2 + i,
    recommendedReplicas: 3 + i,
    direction: 'up',
    reasons: ['queue_trend'],
    confidence: 0.9,
  }));
  const anomalies: AnomalyState[] = queues.map((q, i) => ({
    metric: 'queue_depth',
    queue: q.queue,
    seriesKey: `queue/${q.queue}/depth`,
    detector: 'zscore',
    score: (i % 100) / 100,
    isAnomaly: false,
    severity: 'none',
    confidence: 0.5,
    value: 1,
  }));
  return {
    cycle: 1,
    startedAtMs: nowMs,
    completedAtMs: nowMs,
    durationSeconds: 0.5,
    inputs: [],
    queues,
    forecasts: queues.flatMap((q) => q.depthForecasts),
    accuracy: [],
    maturedAccuracy: [],
    anomalies,
    decisions,
    problems: [],
  };
}

/** The HPA-like request mix: 200 queues, a few selector forms and metrics. */
function requestPaths(): string[] {
  const paths: string[] = [];
  const base = '/apis/external.metrics.k8s.io/v1beta1/namespaces/default';
  for (let i = 0; i < 200; i++) {
    const queue = `q${String((i * 37) % queueCount).padStart(4, '0')}`;
    switch (i % 5) {
      case 0:
      case 1:
        paths.push(`${base}/predicted_queue_depth?labelSelector=queue%3D${queue}`);
        break;
      case 2:
        paths.push(`${base}/predicted_queue_depth?labelSelector=horizon%3D1h%2Cquantile%3D0.9%2Cqueue%3D${queue}`);
        break;
      case 3:
        paths.push(`${base}/queue_depth?labelSelector=queue%3D${queue}`);
        break;
      default:
        paths.push(i % 10 === 4 ? `${base}/anomaly_score?labelSelector=metric%3Dqueue_depth%2Cqueue%3D${queue}` : `${base}/recommended_replicas?labelSelector=resource%3Dworker_processes`);
    }
  }
  return paths;
}

/** What the aggregator adds to a proxied HPA request. */
const hpaHeaders = {
  accept: 'application/vnd.kubernetes.protobuf, */*',
  'x-remote-user': 'system:serviceaccount:kube-system:horizontal-pod-autoscaler',
  'x-remote-group': 'system:serviceaccounts',
};

function listen(server: HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** The child: every server, on one core. */
async function runServers(): Promise<void> {
  const nowMs = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'foresight-bench-serve-'));
  const make = (name: string, usage: 'ca' | 'server' | 'client', issuer?: CertificateAndKey, hosts?: string[]) =>
    createCertificate({ subject: { commonName: name }, usage, notBeforeMs: nowMs - 60_000, validForSeconds: 86_400, ...(hosts === undefined ? {} : { hosts }) }, issuer);
  const ca = make('bench-ca', 'ca');
  const serving = make('foresight', 'server', ca, ['localhost', '127.0.0.1']);
  // The aggregator's proxy certificate: requests carry the HPA's identity in X-Remote-* headers.
  const client = make('front-proxy-client', 'client', ca);
  for (const [name, value] of Object.entries({ 'ca.crt': ca.certPem, 'tls.crt': serving.certPem, 'tls.key': serving.keyPem })) writeFileSync(join(dir, name), value);
  const loaded = loadConfigFromText({
    text: `logLevel: silent\nforecast: { horizons: [15m, 1h] }\nexternalMetrics: { host: 127.0.0.1, port: 0, tls: { certFile: ${join(dir, 'tls.crt')}, keyFile: ${join(dir, 'tls.key')} }, requestHeader: { clientCAFile: ${join(dir, 'ca.crt')}, allowedNames: [front-proxy-client] } }`,
    file: 'bench.yaml',
    env: {},
  });
  if (!loaded.ok) throw new Error(loaded.error.message);
  const config = loaded.value;
  const snapshot = bigSnapshot(nowMs);
  const store = { latest: () => snapshot };
  const clock = { nowMs: () => nowMs + 1000 }; // a fixed age: the snapshot never goes stale during the run

  const external = createExternalMetricsServer({ store, clock, config: () => config, logger: pino({ level: 'silent' }), build: { version: 'bench', revision: 'bench' }, env: {} });
  await external.start();
  // The same routes without TLS and authentication, to separate their cost.
  const settings = providerSettingsFromConfig(config);
  const context = { provider: createSnapshotProvider({ latest: store.latest, clock, settings: () => settings }), build: { version: 'bench', revision: 'bench' } };
  const plain = createHttpServer((req, res) => {
    const answer = handleRequest({ method: req.method ?? 'GET', url: req.url ?? '/', accept: req.headers.accept }, context);
    res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
    res.end(answer.body);
  });
  plain.keepAliveTimeout = 75_000;
  // The bare servers return a typical answer, with the same headers: autocannon's JavaScript HTTP
  // parser pays per header, so fewer headers would flatter the bare server with client-side savings.
  const sample = handleRequest({ method: 'GET', url: requestPaths()[0]! }, context);
  const fixed = sample.body;
  const fixedHeaders = { ...sample.headers, 'content-length': Buffer.byteLength(fixed) };
  const bareHandler = (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(200, fixedHeaders);
    res.end(fixed);
  };
  const bareHttp = createHttpServer(bareHandler);
  bareHttp.keepAliveTimeout = 75_000;
  const bareHttps = createHttpsServer({ key: serving.keyPem, cert: serving.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false }, bareHandler);
  bareHttps.keepAliveTimeout = 75_000;
  const targets: Targets = {
    externalHttps: Number(new URL(external.url).port),
    externalHttp: await listen(plain),
    bareHttps: await listen(bareHttps),
    bareHttp: await listen(bareHttp),
    fixedBodyBytes: Buffer.byteLength(fixed),
  };
  const tls: Tls = { ca: ca.certPem, client: { cert: client.certPem, key: client.keyPem } };
  process.send?.({ targets, tls });
  process.on('message', (message) => {
    if (message === 'stop') process.exit(0);
  });
}

/** Cost of answering in-process (routes, selector, provider; no sockets), in µs per request. */
function routeCost(): { readonly microsPerRequest: number; readonly requests: number } {
  const nowMs = Date.now();
  const snapshot = bigSnapshot(nowMs);
  const settings = { maxAgeSeconds: 300, defaultHorizonSeconds: 900, defaultQuantile: '0.5' as const, windowSeconds: 60, exposure: [] };
  const context = { provider: createSnapshotProvider({ latest: () => snapshot, clock: { nowMs: () => nowMs }, settings: () => settings }), build: { version: 'bench', revision: 'bench' } };
  const paths = requestPaths();
  for (let i = 0; i < 20_000; i++) handleRequest({ method: 'GET', url: paths[i % paths.length]! }, context);
  const requests = 200_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) handleRequest({ method: 'GET', url: paths[i % paths.length]! }, context);
  return { microsPerRequest: Number(process.hrtime.bigint() - started) / 1e3 / requests, requests };
}

interface Measured {
  readonly target: string;
  readonly mode: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly non2xx: number;
  readonly errors: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function measure(target: string, url: string, options: { readonly durationSeconds: number; readonly connections: number; readonly rate?: number; readonly tls?: Tls }): Promise<Measured> {
  const latencies: number[] = [];
  let non2xx = 0;
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections: options.connections,
        duration: options.durationSeconds,
        // Every target gets the same request bytes; only the external-metrics server reads the identity headers.
        requests: requestPaths().map((path) => ({ method: 'GET', path, headers: hpaHeaders })),
        ...(options.rate === undefined ? {} : { overallRate: options.rate }),
        ...(options.tls === undefined ? {} : { tlsOptions: { ca: options.tls.ca, cert: options.tls.client.cert, key: options.tls.client.key } }),
      },
      (error, result) => (error === null || error === undefined ? resolve(result) : reject(error)),
    );
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
    else non2xx++;
  });
  const result = await done;
  latencies.sort((a, b) => a - b);
  return {
    target,
    mode: options.rate === undefined ? 'max' : `${options.rate} req/s`,
    requestsPerSecond: (latencies.length + non2xx) / options.durationSeconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    p999Ms: percentile(latencies, 99.9),
    maxMs: latencies.at(-1) ?? Number.NaN,
    non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** The median of each figure over repeated runs of one target and mode. */
function medianOf(runs: readonly Measured[], first: Measured): Measured {
  const median = (pick: (m: Measured) => number) => {
    const values = runs.map(pick).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)]!;
  };
  return {
    target: first.target,
    mode: first.mode,
    requestsPerSecond: median((m) => m.requestsPerSecond),
    p50Ms: median((m) => m.p50Ms),
    p99Ms: median((m) => m.p99Ms),
    p999Ms: median((m) => m.p999Ms),
    maxMs: median((m) => m.maxMs),
    non2xx: runs.reduce((sum, m) => sum + m.non2xx, 0),
    errors: runs.reduce((sum, m) => sum + m.errors, 0),
  };
}

function parseArgs(argv: readonly string[]): { durationSeconds: number; rate: number; connections: number; repeat: number; json: boolean } {
  const out = { durationSeconds: 5, rate: 2000, connections: 10, repeat: 3, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = () => {
      const value = Number(argv[++i]);
      if (!Number.isFinite(value) || value <= 0) throw new Error(`${arg} needs a positive number`);
      return value;
    };
    if (arg === '--duration') out.durationSeconds = next();
    else if (arg === '--rate') out.rate = next();
    else if (arg === '--connections') out.connections = Math.round(next());
    else if (arg === '--repeat') out.repeat = Math.round(next());
    else if (arg === '--json') out.json = true;
    else throw new Error(`unknown argument ${arg}; usage: tsx bench/serve.ts [--duration SECONDS] [--rate N] [--connections N] [--repeat N] [--json]`);
  }
  return out;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const child = fork(fileURLToPath(import.meta.url), ['--serve-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { targets, tls } = await new Promise<{ targets: Targets; tls: Tls }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { targets: Targets; tls: Tls }));
    child.once('exit', (code) => reject(new Error(`the server process exited with ${code}`)));
  });
  try {
    const runs: [string, string, Tls | undefined][] = [
      ['external metrics, HTTPS + front-proxy cert', `https://127.0.0.1:${targets.externalHttps}`, tls],
      ['bare node:https, fixed body', `https://127.0.0.1:${targets.bareHttps}`, tls],
      ['external metrics, plain HTTP (routes only)', `http://127.0.0.1:${targets.externalHttp}`, undefined],
      ['bare node:http, fixed body', `http://127.0.0.1:${targets.bareHttp}`, undefined],
    ];
    // Warm-up: JIT, TLS sessions, snapshot index.
    for (const [name, url, t] of runs) await measure(name, url, { durationSeconds: 2, connections: args.connections, ...(t === undefined ? {} : { tls: t }) });
    const rounds: Measured[][] = [];
    for (let round = 0; round < args.repeat; round++) {
      const results: Measured[] = [];
      for (const rate of [args.rate, undefined]) {
        for (const [name, url, t] of runs) {
          results.push(
            await measure(name, url, { durationSeconds: args.durationSeconds, connections: args.connections, ...(rate === undefined ? {} : { rate }), ...(t === undefined ? {} : { tls: t }) }),
          );
        }
      }
      rounds.push(results);
    }
    const results = rounds[0]!.map((first, i) =>
      medianOf(
        rounds.map((round) => round[i]!),
        first,
      ),
    );
    const route = routeCost();
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(', ');
    if (args.json) {
      console.log(
        JSON.stringify(
          { queues: queueCount, ...args, fixedBodyBytes: targets.fixedBodyBytes, cpus: cpus().length, loadAverage: loadavg(), routeMicrosPerRequest: route.microsPerRequest, results },
          null,
          2,
        ),
      );
      return;
    }
    const by = (target: string, mode: string) => results.find((r) => r.target === target && r.mode === mode)!;
    const fixedMode = `${args.rate} req/s`;
    console.log(`## bench:serve — external metrics with ${queueCount} queues in the snapshot\n`);
    console.log(
      `${args.connections} keep-alive connections, ${args.durationSeconds} s per run, median of ${args.repeat} interleaved rounds (non-2xx and errors summed), 200 distinct HPA-like requests; bare servers answer a fixed ${targets.fixedBodyBytes}-byte body with the same headers.`,
    );
    console.log(`Machine: ${cpus().length} CPUs, load average ${load} at the end (other work on the machine skews latency tails).\n`);
    console.log('| target | offered load | req/s served | p50 ms | p99 ms | p99.9 ms | max ms | non-2xx | errors |');
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of results)
      console.log(`| ${r.target} | ${r.mode} | ${fmt(r.requestsPerSecond, 0)} | ${fmt(r.p50Ms, 3)} | ${fmt(r.p99Ms, 3)} | ${fmt(r.p999Ms, 3)} | ${fmt(r.maxMs, 1)} | ${r.non2xx} | ${r.errors} |`);
    console.log('\n| ratio (external metrics ÷ bare server, same transport) | max req/s | p99 at the offered load |');
    console.log('|---|---:|---:|');
    for (const [ext, bare, label] of [
      [runs[0]![0], runs[1]![0], 'HTTPS + front-proxy certificate'],
      [runs[2]![0], runs[3]![0], 'plain HTTP'],
    ] as const) {
      console.log(`| ${label} | ${fmt(by(ext, 'max').requestsPerSecond / by(bare, 'max').requestsPerSecond)} | ${fmt(by(ext, fixedMode).p99Ms / by(bare, fixedMode).p99Ms)} |`);
    }
    console.log(`\nIn-process answer cost (route, selector, provider; no sockets): ${fmt(route.microsPerRequest, 2)} µs per request over ${route.requests} requests.`);
    const goal = by(runs[0]![0], fixedMode);
    const met = goal.p99Ms < 5 && goal.requestsPerSecond >= 0.98 * args.rate && goal.non2xx === 0 && goal.errors === 0;
    console.log(`\nGoal (DESIGN.md): p99 < 5 ms at ${args.rate} req/s over HTTPS — ${met ? 'MET' : 'NOT MET'} (p99 ${fmt(goal.p99Ms, 3)} ms at ${fmt(goal.requestsPerSecond, 0)} req/s).`);
  } finally {
    child.send('stop');
  }
}

if (process.argv.includes('--serve-child')) {
  void runServers();
} else {
  main().catch((error: unknown) => {
    console.error(messageOf(error));
    process.exitCode = 1;
  });
}
