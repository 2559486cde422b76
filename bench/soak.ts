/**
 * `npm run bench:soak`: the real service under a steady mix of valid and hostile requests for
 * minutes, checking the two properties a security review found to hold and that must keep holding
 * (issue 10): no request ever gets a 5xx, and memory stays bounded.
 *
 * It starts `foresight serve` as a child process as `npm start` runs it (replay source, model
 * process, the external-metrics HTTPS server with a generated local PKI; bench/support/
 * foresight-process.ts), waits for its first reconcile cycle, then sends `--rate` requests per second
 * over `--connections` keep-alive connections per port for `--minutes`: valid external-metrics, HTTP
 * API and KEDA reads beside malformed paths, bad label selectors, oversized queries, bad methods,
 * missing client certificates, unknown routes, garbage bodies to `POST /scaling/evaluate` and raw
 * malformed HTTP (bench/support/soak-traffic.ts). Every few seconds it reads the service's resident
 * memory from /proc. At the end it checks /healthz, stops the service with SIGTERM and prints:
 * requests and answers per class, the 5xx count, connection errors, 4xx answers without a Kubernetes
 * `Status` body, and RSS at start, peak and end with its slope over the second half in MB/min.
 *
 * Exits 1 when any answer was a 5xx, the service crashed or stopped answering /healthz, or a 4xx
 * from Foresight's own handlers had no `Status` body. The service is killed on every exit path
 * (normal end, error, SIGINT, SIGTERM).
 *
 * Usage: tsx bench/soak.ts [--minutes N] [--rate REQUESTS_PER_SECOND] [--connections N] [--sample-seconds S] [--built] [--json OUT]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { linearRegression } from 'simple-statistics';
import { ForesightProcess } from './support/foresight-process.js';
import { childProcesses, processTreeCpuSeconds, readMachineCpu, readProcess } from './support/proc-stat.js';
import { type Outcome, type RequestClass, requestClasses, type ServedNames, SoakClient } from './support/soak-traffic.js';

const { values: options } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    rate: { type: 'string', default: '100' },
    connections: { type: 'string', default: '8' },
    'sample-seconds': { type: 'string', default: '5' },
    built: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

const minutes = positive('minutes', options.minutes);
const ratePerSecond = positive('rate', options.rate);
const connections = Math.round(positive('connections', options.connections));
const sampleSeconds = positive('sample-seconds', options['sample-seconds']);

/** Per class: requests sent and what came back. */
interface ClassTally {
  readonly name: string;
  sent: number;
  readonly byStatusClass: Record<'2xx' | '3xx' | '4xx' | '5xx', number>;
  readonly statuses: Record<string, number>;
  connectionErrors: number;
  readonly errors: Record<string, number>;
  /** 4xx/5xx answers from Foresight's handlers whose body is not a Kubernetes `Status`. */
  withoutStatusBody: number;
}

interface RssSample {
  readonly minutes: number;
  readonly serviceBytes: number;
  /** The service's child processes (the model process), summed. */
  readonly childrenBytes: number;
}

function tally(name: string): ClassTally {
  return { name, sent: 0, byStatusClass: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, statuses: {}, connectionErrors: 0, errors: {}, withoutStatusBody: 0 };
}

function record(t: ClassTally, requestClass: RequestClass, outcome: Outcome): void {
  t.sent++;
  if (outcome.status === undefined) {
    t.connectionErrors++;
    const why = outcome.error ?? 'unknown';
    t.errors[why] = (t.errors[why] ?? 0) + 1;
    return;
  }
  const statusClass = `${Math.floor(outcome.status / 100)}xx`;
  if (statusClass === '2xx' || statusClass === '3xx' || statusClass === '4xx' || statusClass === '5xx') t.byStatusClass[statusClass]++;
  t.statuses[outcome.status] = (t.statuses[outcome.status] ?? 0) + 1;
  if (outcome.statusBody === false && !requestClass.parserMayAnswer) t.withoutStatusBody++;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

/** Least-squares slope of RSS over the second half of the run, in MB per minute. */
function slopeMbPerMinute(samples: readonly RssSample[], pick: (s: RssSample) => number): number | undefined {
  const last = samples.at(-1);
  if (last === undefined) return undefined;
  const half = samples.filter((s) => s.minutes >= last.minutes / 2);
  if (half.length < 3) return undefined;
  return linearRegression(half.map((s) => [s.minutes, mb(pick(s))])).m;
}

function memoryFigures(samples: readonly RssSample[], pick: (s: RssSample) => number) {
  const values = samples.map(pick);
  return { startMb: mb(values[0] ?? 0), peakMb: mb(Math.max(0, ...values)), endMb: mb(values.at(-1) ?? 0), secondHalfSlopeMbPerMinute: slopeMbPerMinute(samples, pick) };
}

async function waitForFirstCycle(httpUrl: URL, service: ForesightProcess): Promise<void> {
  // A benchmark may poll: the first cycle fits a model per series, which takes seconds on a busy machine.
  for (;;) {
    if (service.exit !== undefined) throw new Error(`foresight serve exited before its first cycle:\n${service.recentLines.join('\n')}`);
    const ready = await fetch(new URL('/readyz', httpUrl)).then((r) => r.json() as Promise<{ firstCycleCompleted?: boolean }>);
    if (ready.firstCycleCompleted === true) return;
    await sleep(500);
  }
}

async function servedNames(httpUrl: URL): Promise<ServedNames> {
  const status = (await fetch(new URL('/scaling/status', httpUrl)).then((r) => r.json())) as { queues: { queue: string }[]; decisions: { resource: string }[] };
  const queues = status.queues.map((q) => q.queue);
  if (queues.length === 0) throw new Error('the service publishes no queue: nothing valid to ask for');
  return { queues, resources: [...new Set(status.decisions.map((d) => d.resource))] };
}

async function main(): Promise<number> {
  const service = new ForesightProcess({ built: options.built });
  // Every way out kills the service's process group: normal end, an exception, Ctrl-C, a kill.
  process.on('exit', () => service.kill());
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      service.kill();
      process.exit(code);
    });
  }
  const external = service.waitForLine((l) => l['msg'] === 'external metrics API listening');
  const serving = await service.waitForLine((l) => l['msg'] === 'foresight is serving');
  const httpUrl = new URL(String(serving['url']));
  const externalMetricsUrl = new URL(String((await external)['url']));
  await waitForFirstCycle(httpUrl, service);
  const names = await servedNames(httpUrl);
  const client = new SoakClient({ httpUrl, externalMetricsUrl, ...service.localPki() }, connections);

  // The schedule: each class as often as its weight, interleaved so the mix is steady at any scale.
  const classes = requestClasses(names);
  const schedule = classes.flatMap(({ weight }, index) => Array.from({ length: weight }, (_, k) => ({ index, order: (k + 0.5) / weight }))).sort((a, b) => a.order - b.order);
  const tallies = classes.map(({ requestClass }) => tally(requestClass.name));
  const perClassIndex = classes.map(() => 0);

  const machineBefore = readMachineCpu();
  const cpuBefore = processTreeCpuSeconds(service.pid);
  const loadBefore = loadavg();
  const startedMs = performance.now();
  const endMs = startedMs + minutes * 60_000;
  const samples: RssSample[] = [];
  const sample = () => {
    const self = readProcess(service.pid);
    if (self === undefined) return;
    const children = childProcesses(service.pid).reduce((sum, c) => sum + c.rssBytes, 0);
    samples.push({ minutes: (performance.now() - startedMs) / 60_000, serviceBytes: self.rssBytes, childrenBytes: children });
  };
  sample();
  const sampler = setInterval(sample, sampleSeconds * 1000);
  const progress = setInterval(() => {
    const sent = tallies.reduce((n, t) => n + t.sent, 0);
    const last = samples.at(-1);
    process.stderr.write(`  ${((performance.now() - startedMs) / 60_000).toFixed(1)} min: ${sent} requests, RSS ${last === undefined ? '?' : mb(last.serviceBytes).toFixed(0)} MB\n`);
  }, 30_000);

  // Open-loop pacing: request k is due at start + k / rate, whichever connection is free takes it.
  let next = 0;
  const worker = async () => {
    for (;;) {
      const k = next++;
      const dueMs = startedMs + (k * 1000) / ratePerSecond;
      if (dueMs >= endMs || service.exit !== undefined) return;
      const waitMs = dueMs - performance.now();
      if (waitMs > 0) await sleep(waitMs);
      const slot = schedule[k % schedule.length]!;
      const { requestClass } = classes[slot.index]!;
      const outcome = await client.send(requestClass.make(perClassIndex[slot.index]!++));
      record(tallies[slot.index]!, requestClass, outcome);
    }
  };
  // Twice the connections per port: the two ports have pools of their own.
  await Promise.all(Array.from({ length: 2 * connections }, worker));
  clearInterval(sampler);
  clearInterval(progress);
  sample();
  const elapsedMinutes = (performance.now() - startedMs) / 60_000;
  const cpuAfter = processTreeCpuSeconds(service.pid);
  const machineAfter = readMachineCpu();
  const loadAfter = loadavg();
  client.close();

  const crashed = service.exit;
  const healthy =
    crashed === undefined &&
    (await fetch(new URL('/healthz', httpUrl))
      .then((r) => r.status === 200)
      .catch(() => false));
  const stopStartedMs = performance.now();
  const shutdown = await service.stop(30_000);
  const shutdownSeconds = (performance.now() - stopStartedMs) / 1000;
  const errorLogLines = service.errorLines;
  const recentLines = service.recentLines;
  service.kill();

  const totals = tally('all');
  for (const t of tallies) {
    totals.sent += t.sent;
    for (const key of ['2xx', '3xx', '4xx', '5xx'] as const) totals.byStatusClass[key] += t.byStatusClass[key];
    totals.connectionErrors += t.connectionErrors;
    totals.withoutStatusBody += t.withoutStatusBody;
  }
  const service_ = memoryFigures(samples, (s) => s.serviceBytes);
  const models = memoryFigures(samples, (s) => s.childrenBytes);
  const machineBusy =
    machineBefore !== undefined && machineAfter !== undefined ? (machineAfter.busySeconds - machineBefore.busySeconds) / (machineAfter.totalSeconds - machineBefore.totalSeconds) : undefined;
  const serviceCpuSeconds = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  const failures = [
    ...(totals.byStatusClass['5xx'] > 0 ? [`${totals.byStatusClass['5xx']} answers were 5xx`] : []),
    ...(crashed === undefined ? [] : [`the service exited during the run (code ${crashed.code}, signal ${crashed.signal})`]),
    ...(crashed === undefined && !healthy ? ['the service did not answer /healthz after the run'] : []),
    ...(totals.withoutStatusBody > 0 ? [`${totals.withoutStatusBody} error answers from Foresight's handlers had no Kubernetes Status body`] : []),
  ];

  const fmt = (v: number | undefined, digits = 1) => (v === undefined ? 'n/a' : v.toFixed(digits));
  const statusList = (t: ClassTally) =>
    Object.entries(t.statuses)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
  const errorList = (t: ClassTally) =>
    Object.entries(t.errors)
      .map(([why, n]) => `${why}×${n}`)
      .join(' ');
  const lines = [
    `## Soak: ${fmt(elapsedMinutes)} min at ${ratePerSecond} requests/s, ${connections} keep-alive connections per port (${options.built ? 'dist/' : 'tsx'})`,
    '',
    '| class | sent | 2xx | 3xx | 4xx | 5xx | connection errors | 4xx/5xx without Status | statuses | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...[...tallies, totals].map(
      (t) =>
        `| ${t === totals ? '**all**' : t.name} | ${t.sent} | ${t.byStatusClass['2xx']} | ${t.byStatusClass['3xx']} | ${t.byStatusClass['4xx']} | ${t === totals ? `**${t.byStatusClass['5xx']}**` : t.byStatusClass['5xx']} | ${t.connectionErrors} | ${t.withoutStatusBody} | ${statusList(t)} | ${errorList(t)} |`,
    ),
    '',
    '| resident memory (MB) | start | peak | end | slope over the second half (MB/min) |',
    '|---|---:|---:|---:|---:|',
    `| service (pid ${service.pid}) | ${fmt(service_.startMb)} | ${fmt(service_.peakMb)} | ${fmt(service_.endMb)} | ${fmt(service_.secondHalfSlopeMbPerMinute, 2)} |`,
    `| its model process | ${fmt(models.startMb)} | ${fmt(models.peakMb)} | ${fmt(models.endMb)} | ${fmt(models.secondHalfSlopeMbPerMinute, 2)} |`,
    '',
    `${samples.length} RSS samples every ${sampleSeconds} s. Service CPU (with its model process): ${fmt(serviceCpuSeconds)} s. Machine: load average ${loadBefore.map((l) => l.toFixed(1)).join('/')} before, ${loadAfter.map((l) => l.toFixed(1)).join('/')} after; all cores ${fmt(machineBusy === undefined ? undefined : machineBusy * 100, 0)}% busy during the run.`,
    `After the run: /healthz ${healthy ? 'answered 200' : 'did not answer 200'}; SIGTERM → exit code ${shutdown.code ?? `signal ${shutdown.signal}`} in ${fmt(shutdownSeconds)} s; ${errorLogLines} error log lines.`,
    '',
    failures.length === 0 ? 'PASS: no 5xx, no crash, every error answer from Foresight a Kubernetes Status.' : `FAIL: ${failures.join('; ')}.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (failures.length > 0 && crashed !== undefined) process.stdout.write(`\nLast lines of the service:\n${recentLines.join('\n')}\n`);
  if (options.json !== undefined) {
    const result = {
      command: `tsx bench/soak.ts ${process.argv.slice(2).join(' ')}`.trim(),
      minutes: elapsedMinutes,
      ratePerSecond,
      connections,
      built: options.built,
      classes: tallies,
      totals,
      memory: { service: service_, modelProcess: models, samples },
      serviceCpuSeconds,
      machine: { loadBefore, loadAfter, busyShare: machineBusy },
      healthy,
      shutdown: { ...shutdown, seconds: shutdownSeconds },
      errorLogLines,
      failures,
    };
    writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
  }
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
