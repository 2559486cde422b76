/**
 * `npm run bench:metrics -- [--queues N] [--snapshots K]`: the cost of GET /metrics at N queues
 * (default 1,000), without Prometheus or models: a snapshot shaped like `bench:scale`'s (workloads
 * of 10 queues in 10 namespaces, 7 inputs per queue each with an anomaly score, depth and arrival
 * rate forecast at one horizon with six models' backtest scores, one decision per workload) is
 * published K times (default 5, each a new snapshot object, as each cycle makes) and /metrics is
 * rendered after each: the first render of a snapshot writes its families, later ones reuse them.
 * Prints a table: median time of the first render after a new snapshot and of a repeat, size, lines.
 */
import process from 'node:process';
import { Registry } from 'prom-client';
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
const models = ['naive', 'seasonal_naive', 'seasonal_mean', 'linear_trend', 'holt_winters', 'auto'];

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
      const forecast: SeriesForecast = { seriesKey: key, input, horizonSeconds: 900, originMs: atMs, model: 'auto', value: value + 1.5, p10: value, p90: value + 3 };
      forecasts.push(forecast);
      if (metric === 'depth') depthForecasts.push(forecast);
      for (const model of models) accuracy.push({ seriesKey: key, model, mase: 0.8, wape: 0.12, accuracyPercent: 88, coverage: 0.8, horizonSeconds: 900, points: 3000, evaluatedAtMs: atMs });
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

async function main(): Promise<void> {
  const { queues, snapshots } = parseArgs(process.argv.slice(2));
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12));
  const config = configFromYaml('workloads:\n  - { name: wl-0, namespace: ns-0, queues: [{ name: q-0000, threshold: 1000 }] }\n');
  const store = new SnapshotStore({ historyRetentionSeconds: 3600 });
  const { exposition } = createMetrics({ registry: new Registry(), store, clock, config: () => config, build: { version: 'bench', revision: 'bench' } });
  const first: number[] = [];
  const repeat: number[] = [];
  let text = '';
  // One warm-up round, not counted: the first render also compiles the code it runs.
  for (let round = 0; round <= snapshots; round++) {
    clock.advance(30);
    store.publish(snapshotOf(queues, clock.nowMs(), round + 1));
    let began = performance.now();
    text = await exposition.text();
    if (round > 0) first.push(performance.now() - began);
    began = performance.now();
    await exposition.text();
    if (round > 0) repeat.push(performance.now() - began);
  }
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  process.stdout.write(
    [
      `| /metrics at ${queues} queues (median of ${snapshots} snapshots) | value |`,
      '|---|---:|',
      `| first render after a new snapshot | ${median(first).toFixed(0)} ms |`,
      `| the same snapshot again | ${median(repeat).toFixed(0)} ms |`,
      `| size | ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB, ${lines} samples |`,
      '',
    ].join('\n'),
  );
}

await main();
