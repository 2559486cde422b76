/**
 * `npm run bench:metrics -- [--queues N] [--snapshots K]`: the cost of GET /metrics at N queues
 * (default 1,000), without Prometheus or models: a snapshot shaped like `bench:scale`'s (workloads
 * of 10 queues in 10 namespaces, 7 inputs per queue each with an anomaly score, depth and arrival
 * rate forecast at one horizon by `auto` with every candidate's backtest scores, as the model
 * process reports them, one decision per workload) is published K times (default 5, each a new
 * snapshot object, as each cycle makes) and /metrics is read after each, through the service's
 * own HTTP API (express, the client in the same process): the first read of a snapshot writes its
 * families, later ones reuse them. Prints a table: median time of the render alone (the bytes
 * publish hands the route) and of the GET, first after a new snapshot and repeated, the size and
 * the samples of the largest families.
 */
import type { AddressInfo } from 'node:net';
import process from 'node:process';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildApi } from '../src/api/index.js';
import type { InputRef } from '../src/core/index.js';
import { type AnomalyState, type ModelAccuracy, type QueueState, type SeriesForecast, type Snapshot, SnapshotStore } from '../src/engine/index.js';
import { createMetrics } from '../src/publish/index.js';
import { ManualClock } from '../test/support/manual-clock.js';
import { configFromYaml } from '../test/support/service.js';

function parseArgs(argv: readonly string[]): { queues: number; snapshots: number } {
  const value = (name: string, fallback: number): number => {
    const at = argv.indexOf(`--${name}`);
    if (at < 0) return fallback;
    const n = Number(argv[at + 1]);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`bench:metrics: --${name} needs a positive integer, got "${argv[at + 1] ?? ''}"\n`);
      process.exit(2);
    }
    return n;
  };
  return { queues: value('queues', 1000), snapshots: value('snapshots', 5) };
}

const queueMetrics = ['depth', 'enqueue_rate_per_second', 'dequeue_rate_per_second', 'wait_avg_seconds', 'wait_max_seconds', 'failed_messages', 'consumers'] as const;
/** What the model process scores per series (`auto`'s seven candidates, and `auto` itself: engine/model-host.ts scoresOf). */
const models = ['naive', 'seasonal_naive', 'seasonal_mean', 'linear_trend', 'holt_winters', 'lag_regression', 'random_forest', 'auto'];
/** What `auto` chose, varied the way real choices vary: a model alone or a combination, and the runner-up. */
const choices: readonly { served: string; runnerUp: string }[] = [
  { served: 'holt_winters', runnerUp: 'seasonal_mean' },
  { served: 'median_top3(holt_winters, seasonal_mean, lag_regression)', runnerUp: 'holt_winters' },
  { served: 'mean_top2(seasonal_naive, random_forest)', runnerUp: 'median_top3(seasonal_naive, random_forest, holt_winters)' },
];

/** A score with as many digits as a real one (a computed float, not a round number). */
const score = (seed: number, scale: number): number => scale * (0.5 + ((seed * 7919) % 1000) / 1731);

/** The snapshot of a cycle over `queues` queues, completed at `atMs`. */
function snapshotOf(queues: number, atMs: number, cycle: number): Snapshot {
  const inputs: Snapshot['inputs'][number][] = [];
  const forecasts: SeriesForecast[] = [];
  const accuracy: ModelAccuracy[] = [];
  const anomalies: AnomalyState[] = [];
  const queueStates: QueueState[] = [];
  const decisions: Snapshot['decisions'][number][] = [];
  for (let q = 0; q < queues; q++) {
    const namespace = `ns-${q % 10}`;
    const workload = `wl-${Math.floor(q / 10)}`;
    const queue = `q-${String(q).padStart(4, '0')}`;
    const depthForecasts: SeriesForecast[] = [];
    for (const metric of queueMetrics) {
      const input: InputRef = { kind: 'queue', namespace, workload, queue, metric };
      const key = `queue/${namespace}/${workload}/${queue}/${metric}`;
      const value = (q * 7 + cycle) % 100;
      inputs.push({ input, key, timestampMs: atMs, value });
      anomalies.push({
        metric: metric === 'depth' ? 'queue_depth' : metric,
        queue,
        namespace,
        workload,
        seriesKey: key,
        detector: 'adaptive',
        score: 0.1,
        isAnomaly: false,
        severity: 'none',
        confidence: 0.1,
        value,
      });
      if (metric !== 'depth' && metric !== 'enqueue_rate_per_second') continue;
      const choice = choices[q % choices.length]!;
      const selection = { served: choice.served, why: 'lowest_validation_mae', reason: 'lowest validation MAE of 23 combinations of 7 models', runnerUp: choice.runnerUp } as const;
      const forecast: SeriesForecast = { seriesKey: key, input, horizonSeconds: 900, originMs: atMs, model: 'auto', selection, value: value + 1.5, p10: value, p90: value + 3 };
      forecasts.push(forecast);
      if (metric === 'depth') depthForecasts.push(forecast);
      models.forEach((model, m) => {
        const seed = q * 97 + m * 13 + metric.length;
        accuracy.push({
          seriesKey: key,
          model,
          mase: score(seed, 1),
          wape: score(seed + 1, 0.2),
          accuracyPercent: score(seed + 2, 80),
          coverage: score(seed + 3, 0.7),
          horizonSeconds: 900,
          points: 3000,
          evaluatedAtMs: atMs,
        });
      });
    }
    queueStates.push({ queue, namespace, workload, threshold: 1000, resource: 'worker_processes', current: { depth: q % 100 }, depthForecasts });
    if (q % 10 === 0) decisions.push({ resource: 'worker_processes', namespace, workload, currentReplicas: 2, recommendedReplicas: 3, direction: 'up', reasons: ['forecast_demand'], confidence: 0.9 });
  }
  return { cycle, startedAtMs: atMs - 500, completedAtMs: atMs, durationSeconds: 0.5, inputs, queues: queueStates, forecasts, accuracy, maturedAccuracy: [], anomalies, decisions, problems: [] };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The wall time of a piece of work and the CPU time the process spent meanwhile. */
interface Duration {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Bytes and samples of each family in `text`, largest first. */
function families(text: string): { name: string; bytes: number; samples: number }[] {
  const byName = new Map<string, { bytes: number; samples: number }>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    const family = byName.get(name) ?? { bytes: 0, samples: 0 };
    family.bytes += Buffer.byteLength(line) + 1;
    family.samples++;
    byName.set(name, family);
  }
  return [...byName.entries()].map(([name, f]) => ({ name, ...f })).sort((a, b) => b.bytes - a.bytes);
}

async function main(): Promise<void> {
  const { queues, snapshots } = parseArgs(process.argv.slice(2));
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12));
  const config = configFromYaml('workloads:\n  - { name: wl-0, namespace: ns-0, queues: [{ name: q-0000, threshold: 1000 }] }\n');
  const store = new SnapshotStore({ historyRetentionSeconds: 3600 });
  const { exposition } = createMetrics({ registry: new Registry(), store, clock, config: () => config, build: { version: 'bench', revision: 'bench' } });
  const api = buildApi({
    store,
    exposition,
    clock,
    config: () => config,
    evaluate: () => Promise.reject(new Error('bench:metrics runs no cycle')),
    build: { version: 'bench' },
    logger: pino({ level: 'silent' }),
  });
  const server = api.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  // Wall time, and the process's CPU time, which a busy machine inflates less (the machine is shared).
  const timed = async <T>(work: () => Promise<T>): Promise<[T, Duration]> => {
    const began = performance.now();
    const cpu = process.cpuUsage();
    const result = await work();
    const used = process.cpuUsage(cpu);
    return [result, { wallMs: performance.now() - began, cpuMs: (used.user + used.system) / 1000 }];
  };
  const get = async (): Promise<string> => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
    return response.text();
  };
  const times = { render: [] as Duration[], renderAgain: [] as Duration[], get: [] as Duration[], getAgain: [] as Duration[] };
  let text = '';
  try {
    // One warm-up round, not counted: the first render also compiles the code it runs. Each round
    // publishes two snapshots: one rendered alone, one read through HTTP.
    for (let round = 0; round <= snapshots; round++) {
      clock.advance(30);
      store.publish(snapshotOf(queues, clock.nowMs(), 2 * round + 1));
      const [, render] = await timed(() => exposition.body());
      const [, renderAgain] = await timed(() => exposition.body());
      clock.advance(30);
      store.publish(snapshotOf(queues, clock.nowMs(), 2 * round + 2));
      const [body, first] = await timed(get);
      const [, again] = await timed(get);
      text = body;
      if (round === 0) continue;
      times.render.push(render);
      times.renderAgain.push(renderAgain);
      times.get.push(first);
      times.getAgain.push(again);
    }
  } finally {
    server.close();
  }
  const all = families(text);
  const samples = all.reduce((sum, f) => sum + f.samples, 0);
  const ms = (values: readonly Duration[]) => `${median(values.map((d) => d.wallMs)).toFixed(0)} ms (CPU ${median(values.map((d) => d.cpuMs)).toFixed(0)} ms)`;
  process.stdout.write(
    [
      `| /metrics at ${queues} queues (median of ${snapshots} snapshots) | value |`,
      '|---|---:|',
      `| render, first after a new snapshot | ${ms(times.render)} |`,
      `| render, the same snapshot again | ${ms(times.renderAgain)} |`,
      `| GET /metrics, first after a new snapshot | ${ms(times.get)} |`,
      `| GET /metrics, the same snapshot again | ${ms(times.getAgain)} |`,
      `| size | ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB, ${samples} samples |`,
      ...all.slice(0, 8).map((f) => `| \`${f.name}\` | ${(f.bytes / 1e6).toFixed(2)} MB, ${f.samples} samples |`),
      '',
    ].join('\n'),
  );
}

await main();
