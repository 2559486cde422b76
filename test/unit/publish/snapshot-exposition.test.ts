import { Gauge, Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import type { ModelAccuracy, SeriesForecast, Snapshot } from '../../../src/engine/index.js';
import { type MetricDefinition, metricCatalog } from '../../../src/publish/index.js';
import { SnapshotExposition } from '../../../src/publish/snapshot-families.js';
import { familyText, labelPairs } from '../../../src/publish/text-exposition.js';

type Sample = readonly [labels: Readonly<Record<string, string>>, value: number];
const each = (samples: readonly Sample[]) => (emit: (labels: string, value: number) => void) => {
  for (const [labels, value] of samples) emit(labelPairs(labels), value);
};
import { anomaly, decision, makeSnapshot } from './external-metrics/snapshot-fixture.js';

const definition: MetricDefinition = { name: 'foresight_test_family', type: 'gauge', help: 'A help text with a \\ backslash\nand a newline.', labelNames: ['queue', 'series'] };

/** What prom-client's registry writes for the same samples set one after another on a gauge. */
async function promClientText(samples: readonly Sample[]): Promise<string> {
  const registry = new Registry();
  const gauge = new Gauge({ name: definition.name, help: definition.help, labelNames: definition.labelNames, registers: [registry] });
  for (const [labels, value] of samples) gauge.set(labels, value);
  return (await registry.metrics()).trimEnd();
}

describe('familyText', () => {
  test("writes what prom-client's registry writes: escapes, value spellings, label order", async () => {
    const samples: Sample[] = [
      [{ queue: 'plain' }, 1.5],
      [{ queue: 'a "quoted" \\ name\nwith a newline', series: 'x' }, -2],
      [{ queue: 'nan' }, Number.NaN],
      [{ queue: 'inf' }, Number.POSITIVE_INFINITY],
      [{ queue: 'minus-inf' }, Number.NEGATIVE_INFINITY],
      [{ queue: 'large' }, 1e21],
      [{ series: 'only series' }, 0],
      [{ series: 'y', queue: 'labels in the order given' }, 7],
    ];
    expect(familyText(definition, each(samples))).toBe(await promClientText(samples));
  });

  test('a family without samples is its HELP and TYPE lines, as in prom-client', async () => {
    expect(familyText(definition, each([]))).toBe(await promClientText([]));
    expect(familyText({ ...definition, labelNames: [] }, each([[{}, 3]]))).toBe(`${familyText(definition, each([]))}\nforesight_test_family 3`);
  });
});

/** A snapshot with a seed queue, a workload's queue, inputs, decisions, anomalies, discovery and a shard. */
function richSnapshot(completedAtMs: number, depth: number): Snapshot {
  const base = makeSnapshot({
    completedAtMs,
    queues: [
      { queue: 'orders', depth, forecasts: { 900: [1, 2, 3] } },
      { queue: 'billing', depth: 4, forecasts: { 300: [0, 1, 2], 900: [0, 2, 5] } },
    ],
    decisions: [decision('worker_processes', 3), { ...decision('api_instances', 2), namespace: 'shop', workload: 'storefront' }],
    anomalies: [anomaly('cpu', 0.25), { ...anomaly('queue_depth', 0.75, 'orders'), namespace: 'shop', workload: 'orders-worker' }],
  });
  return {
    ...base,
    queues: base.queues.map((q) => (q.queue === 'orders' ? { ...q, namespace: 'shop', workload: 'orders-worker' } : q)),
    inputs: [
      {
        input: { kind: 'queue', namespace: 'shop', workload: 'orders-worker', queue: 'orders', metric: 'depth' },
        key: 'queue/shop/orders-worker/orders/depth',
        timestampMs: completedAtMs,
        value: depth,
      },
      { input: { kind: 'system', metric: 'load5' }, key: 'system/load5', timestampMs: completedAtMs, value: 0.5 },
      { input: { kind: 'replicas', resource: 'worker_processes' }, key: 'replicas/worker_processes', timestampMs: completedAtMs, value: 2 },
    ],
    accuracy: [{ seriesKey: 'queue/orders/depth', model: 'naive', mase: 0.5, wape: 0.1, accuracyPercent: 90, coverage: 0.8, horizonSeconds: 900, points: 10, evaluatedAtMs: completedAtMs }],
    maturedAccuracy: [{ seriesKey: 'queue/orders/depth', horizonSeconds: 900, accuracyPercent: 88, wape: 0.12, mase: 0.6, coverage: 0.8, points: 12, pending: 15 }],
    discovery: [{ namespace: 'shop', workload: 'orders-worker', active: 2, stale: 1, leftOut: 0, limit: 100 }],
    problems: [{ inputKey: 'system/load5', reason: 'empty', message: 'no data' }],
  };
}

const catalogByName = new Map(Object.values(metricCatalog).map((d) => [d.name, d]));

describe('SnapshotExposition', () => {
  test("every sample line names a catalog family and only that family's labels", () => {
    const text = new SnapshotExposition().text(richSnapshot(Date.UTC(2026, 10, 2, 12), 10));
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples.length).toBeGreaterThan(20);
    // Each series once (familyText does not merge repeats: the families must not make them).
    const series = samples.map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(series.filter((x, i) => series.indexOf(x) !== i)).toEqual([]);
    for (const line of samples) {
      const match = /^([a-z_:]+)(?:\{(.*)\})? \S+$/.exec(line);
      expect(match, line).not.toBeNull();
      const family = catalogByName.get(match![1]!);
      expect(family, line).toBeDefined();
      const labelNames = [...(match![2] ?? '').matchAll(/([a-z_]+)="/g)].map((m) => m[1]);
      for (const name of labelNames) expect(family!.labelNames, line).toContain(name);
    }
    // An input with a problem reads 0, once, though its older value is listed too.
    expect(samples.filter((l) => l.startsWith('foresight_source_input_up{input="system/load5"}'))).toEqual(['foresight_source_input_up{input="system/load5"} 0']);
    expect(text).toContain('predicted_queue_depth{queue="orders",namespace="shop",workload="orders-worker",horizon="15m",quantile="0.9"} 3');
    expect(text).toContain('# TYPE predicted_queue_depth summary');
  });

  test('makes the text once per snapshot: a second scrape reads nothing of it, a new snapshot is written afresh', () => {
    const exposition = new SnapshotExposition();
    let reads = 0;
    const counted = (s: Snapshot): Snapshot =>
      new Proxy(s, {
        get(target, property, receiver) {
          reads++;
          return Reflect.get(target, property, receiver);
        },
      });
    const first = counted(richSnapshot(Date.UTC(2026, 10, 2, 12), 10));
    const text = exposition.text(first);
    expect(reads).toBeGreaterThan(0);
    reads = 0;
    expect(exposition.text(first)).toBe(text);
    expect(reads).toBe(0);
    const next = exposition.text(counted(richSnapshot(Date.UTC(2026, 10, 2, 12, 0, 30), 11)));
    expect(reads).toBeGreaterThan(0);
    expect(next).toContain('queue_depth_current{queue="orders",namespace="shop",workload="orders-worker"} 11');
    expect(next).not.toContain('queue_depth_current{queue="orders",namespace="shop",workload="orders-worker"} 10');
  });

  test('before the first snapshot every family is listed without samples', () => {
    const text = new SnapshotExposition().text(undefined);
    expect(text.split('\n').every((l) => l === '' || l.startsWith('# '))).toBe(true);
    expect(text).toContain('# TYPE foresight_forecast summary');
  });
});

describe('backtest scores on /metrics', () => {
  const at = Date.UTC(2026, 10, 2, 12);
  /** What the model process reports per series: every candidate of auto, and auto itself. */
  const candidates = ['naive', 'seasonal_naive', 'seasonal_mean', 'linear_trend', 'holt_winters', 'lag_regression', 'random_forest', 'auto'];
  const scores = (seriesKey: string): ModelAccuracy[] =>
    candidates.map((model, i) => ({ seriesKey, model, mase: 0.5 + i / 10, wape: 0.1, accuracyPercent: 90 - i, coverage: 0.8, horizonSeconds: 900, points: 100, evaluatedAtMs: at }));
  const forecast = (seriesKey: string, horizonSeconds: number, extra: Partial<SeriesForecast>): SeriesForecast => ({
    seriesKey,
    input: { kind: 'system', metric: 'cpu_percent' },
    horizonSeconds,
    originMs: at,
    model: 'auto',
    value: 50,
    p10: 40,
    p90: 60,
    ...extra,
  });
  const backtestFamilies = ['foresight_forecast_backtest_accuracy_percent', 'foresight_forecast_backtest_mase', 'foresight_forecast_backtest_wape_ratio', 'foresight_forecast_backtest_coverage_ratio'];
  /** The (series, model) pairs each backtest family publishes. */
  const published = (snapshot: Snapshot): Record<string, string[]> => {
    const text = new SnapshotExposition().text(snapshot);
    return Object.fromEntries(
      backtestFamilies.map((name) => [
        name,
        text
          .split('\n')
          .filter((l) => l.startsWith(`${name}{`))
          .map((l) => /series="([^"]*)",model="([^"]*)"/.exec(l)!.slice(1).join(' ')),
      ]),
    );
  };

  test("publish the serving model's and the runner-up's rows of each series, not every candidate's", () => {
    const base = makeSnapshot({ completedAtMs: at, queues: [] });
    const selection = (runnerUp: string) => ({ served: 'median_top3(holt_winters, seasonal_mean, naive)', why: 'lowest_validation_mae', reason: 'test', runnerUp }) as const;
    const snapshot: Snapshot = {
      ...base,
      forecasts: [
        // Chosen by auto, runner-up a model alone: both rows.
        forecast('system/cpu_percent', 900, { selection: selection('seasonal_mean') }),
        forecast('system/cpu_percent', 3600, { selection: selection('seasonal_mean') }),
        // Runner-up a combination, which has no row: auto's alone.
        forecast('system/memory_percent', 900, { selection: selection('mean_top2(naive, holt_winters)') }),
        // A configured model, nothing compared: its row alone.
        forecast('system/load1', 900, { model: 'holt_winters' }),
        // naive standing in: naive's row.
        forecast('system/load5', 900, { model: 'naive', fallbackReason: 'too little history', selection: { served: 'naive', why: 'fallback', reason: 'too little history' } }),
      ],
      // system/load15 has scores but no forecast this cycle: nothing serves it, nothing published.
      accuracy: ['system/cpu_percent', 'system/memory_percent', 'system/load1', 'system/load5', 'system/load15'].flatMap(scores),
    };
    const expected = ['system/cpu_percent seasonal_mean', 'system/cpu_percent auto', 'system/memory_percent auto', 'system/load1 holt_winters', 'system/load5 naive'];
    for (const [name, pairs] of Object.entries(published(snapshot))) expect(pairs.sort(), name).toEqual([...expected].sort());
  });

  test("every published row joins foresight_forecast_model_info on series and model, or is a series' runner-up", () => {
    const base = makeSnapshot({ completedAtMs: at, queues: [] });
    const keys = Array.from({ length: 20 }, (_, i) => `queue/shop/worker/q${i}/depth`);
    const snapshot: Snapshot = {
      ...base,
      forecasts: keys.map((key, i) => forecast(key, 900, { selection: { served: 'holt_winters', why: 'lowest_validation_mae', reason: 'test', runnerUp: candidates[i % 7]! } })),
      accuracy: keys.flatMap(scores),
    };
    const text = new SnapshotExposition().text(snapshot);
    const info = text.split('\n').filter((l) => l.startsWith('foresight_forecast_model_info{'));
    const named = new Set(
      info.flatMap((l) => {
        const [, series, model, runnerUp] = /series="([^"]*)",model="([^"]*)",.*runner_up="([^"]*)"/.exec(l)!;
        return [`${series} ${model}`, `${series} ${runnerUp}`];
      }),
    );
    const pairs = published(snapshot);
    for (const name of backtestFamilies) {
      expect(pairs[name]).toHaveLength(40);
      for (const pair of pairs[name]!) expect(named.has(pair), pair).toBe(true);
    }
  });
});
