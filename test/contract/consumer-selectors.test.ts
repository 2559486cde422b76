/**
 * The shipped consumers of /metrics (the Grafana dashboard, the alerts, the recording rules over
 * Foresight's own series) against what /metrics publishes: every selector of a family written from
 * the snapshot must match at least one sample of a /metrics rendered from a snapshot that has every
 * kind of series, label values included. The catalog tests check names only; this one fails when a
 * family keeps its name but stops publishing what a consumer selects (a label value, a model's row:
 * the backtest families publish the serving model and the runner-up only, docs/metrics.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import type { InputRef } from '../../src/core/index.js';
import { type ModelAccuracy, type SeriesForecast, type Snapshot, SnapshotStore } from '../../src/engine/index.js';
import { createMetrics } from '../../src/publish/index.js';
import { SnapshotExposition } from '../../src/publish/snapshot-families.js';
import { dataPanels, intervalVariables, loadDashboard, root } from '../dashboards/dashboard-spec.js';
import { substituteVariables } from '../dashboards/promql-lint.js';
import { ManualClock } from '../support/manual-clock.js';
import { configFromYaml } from '../support/service.js';

/** A vector selector: the metric name and its label matchers. */
interface Selector {
  readonly name: string;
  readonly matchers: readonly { readonly label: string; readonly op: string; readonly value: string }[];
}

/** Every vector selector of a PromQL expression. */
function selectorsOf(expr: string): Selector[] {
  const selectors: { name: string; matchers: { label: string; op: string; value: string }[] }[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      const text = expr.slice(node.from, node.to);
      if (node.name === 'VectorSelector') selectors.push({ name: '', matchers: [] });
      else if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') selectors.at(-1)!.name = text;
      else if (node.name === 'UnquotedLabelMatcher') {
        const label = node.node.getChild('LabelName')!;
        const op = node.node.getChild('MatchOp')!;
        const value = node.node.getChild('StringLiteral')!;
        selectors.at(-1)!.matchers.push({ label: expr.slice(label.from, label.to), op: expr.slice(op.from, op.to), value: JSON.parse(expr.slice(value.from, value.to)) as string });
      }
    },
  });
  return selectors;
}

/** Labels Prometheus adds at scrape time (the target's), which the exposition itself never carries. */
const targetLabels = new Set(['cluster', 'job', 'instance', 'pod']);

/** Whether one exposition sample (its labels, absent ones reading "") satisfies a selector. */
function matches(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  return selector.matchers.every(({ label, op, value }) => {
    if (targetLabels.has(label)) return true;
    const actual = labels[label] ?? '';
    const regex = () => new RegExp(`^(?:${value})$`);
    switch (op) {
      case '=':
        return actual === value;
      case '!=':
        return actual !== value;
      case '=~':
        return regex().test(actual);
      case '!~':
        return !regex().test(actual);
      default:
        throw new Error(`unknown matcher ${op}`);
    }
  });
}

/** The samples of an exposition, by family name. */
function samplesOf(text: string): Map<string, Record<string, string>[]> {
  const byName = new Map<string, Record<string, string>[]>();
  for (const line of text.split('\n')) {
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (sample === null) continue;
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    byName.set(sample[1]!, [...(byName.get(sample[1]!) ?? []), labels]);
  }
  return byName;
}

const at = Date.UTC(2026, 10, 2, 12);
const candidates = ['naive', 'seasonal_naive', 'seasonal_mean', 'linear_trend', 'holt_winters', 'lag_regression', 'random_forest', 'auto'];
const queueMetrics = ['depth', 'enqueue_rate_per_second', 'dequeue_rate_per_second', 'wait_avg_seconds', 'wait_max_seconds', 'consumers', 'failed_messages'] as const;

/**
 * A snapshot with every kind of series the engine publishes: a workload's queue served by `auto`
 * (with a runner-up), one on a fallback, every candidate's backtest, anomalies, decisions, matured
 * accuracy, discovery, the history window and a shard.
 */
function everyKindOfSeries(): Snapshot {
  const inputs: Snapshot['inputs'][number][] = [];
  const forecasts: SeriesForecast[] = [];
  const accuracy: ModelAccuracy[] = [];
  const queues: Snapshot['queues'][number][] = [];
  const anomalies: Snapshot['anomalies'][number][] = [];
  for (const [q, queue] of ['orders', 'billing'].entries()) {
    const depthForecasts: SeriesForecast[] = [];
    for (const metric of queueMetrics) {
      const input: InputRef = { kind: 'queue', namespace: 'shop', workload: 'worker', queue, metric };
      const key = `queue/shop/worker/${queue}/${metric}`;
      inputs.push({ input, key, timestampMs: at, value: 10 });
      anomalies.push({
        metric: metric === 'depth' ? 'queue_depth' : metric,
        queue,
        namespace: 'shop',
        workload: 'worker',
        seriesKey: key,
        detector: 'adaptive',
        score: 0.9,
        isAnomaly: true,
        severity: 'critical',
        confidence: 0.9,
        value: 10,
      });
      if (metric !== 'depth') continue;
      // billing's depth is forecast by naive standing in for the model (a fallback).
      const forecast: SeriesForecast =
        q === 0
          ? {
              seriesKey: key,
              input,
              horizonSeconds: 900,
              originMs: at,
              model: 'auto',
              selection: { served: 'holt_winters', why: 'lowest_validation_mae', reason: 'test', runnerUp: 'seasonal_mean' },
              value: 12,
              p10: 8,
              p90: 16,
            }
          : { seriesKey: key, input, horizonSeconds: 900, originMs: at, model: 'naive', fallbackReason: 'too little history', value: 10, p10: 9, p90: 11 };
      forecasts.push(forecast);
      depthForecasts.push(forecast);
      for (const model of candidates) accuracy.push({ seriesKey: key, model, mase: 0.7, wape: 0.2, accuracyPercent: 80, coverage: 0.8, horizonSeconds: 900, points: 100, evaluatedAtMs: at });
    }
    queues.push({ queue, namespace: 'shop', workload: 'worker', threshold: 100, resource: 'worker_processes', current: { depth: 10 }, depthForecasts });
  }
  for (const metric of ['cpu_percent', 'memory_percent', 'disk_io_bytes_per_second', 'network_io_bytes_per_second', 'load1', 'load5', 'load15'] as const) {
    inputs.push({ input: { kind: 'system', metric }, key: `system/${metric}`, timestampMs: at, value: 1 });
  }
  for (const metric of ['response_time_p95_seconds', 'error_rate_percent', 'db_connection_utilization_percent'] as const) {
    inputs.push({ input: { kind: 'performance', metric }, key: `performance/${metric}`, timestampMs: at, value: 1 });
  }
  inputs.push({ input: { kind: 'replicas', resource: 'worker_processes' }, key: 'replicas/worker_processes', timestampMs: at, value: 2 });
  return {
    cycle: 1,
    startedAtMs: at - 200,
    completedAtMs: at,
    durationSeconds: 0.2,
    inputs,
    queues,
    forecasts,
    accuracy,
    maturedAccuracy: [{ seriesKey: 'queue/shop/worker/orders/depth', horizonSeconds: 900, accuracyPercent: 88, wape: 0.12, mase: 0.6, coverage: 0.8, points: 12, pending: 15 }],
    anomalies,
    decisions: [{ resource: 'worker_processes', namespace: 'shop', workload: 'worker', currentReplicas: 2, recommendedReplicas: 3, direction: 'up', reasons: ['forecast_demand'], confidence: 0.9 }],
    problems: [{ inputKey: 'system/load5', reason: 'empty', message: 'no data' }],
    optimizer: [{ resource: 'worker_processes', recommendedReplicas: 3, confidence: 0.8, trusted: true, capacityPerReplica: 5, predictedLoad: 15, reasons: ['learned_capacity'] }],
    discovery: [{ namespace: 'shop', workload: 'worker', active: 2, stale: 0, leftOut: 0, limit: 100 }],
    history: { pendingSeries: 0, pendingPoints: 0, failedSeries: 0 },
    shard: { index: 0, replicas: 2, ownWorkloads: 1, readBack: { attemptedAtMs: at, lastSuccessAtMs: at, series: 3, oldestSampleMs: at - 15_000 }, queues: [], decisions: [], anomalies: [] },
  };
}

/**
 * The PromQL of every shipped consumer: dashboard targets and variables (with every queue, and
 * with one queue chosen, as a person picks it), alerts, the foresight-outputs recording rules.
 */
function consumerExpressions(): { readonly where: string; readonly expr: string }[] {
  const dashboard = loadDashboard();
  return [...dashboardExpressions(dashboard, '.+'), ...dashboardExpressions(dashboard, 'orders'), ...rules('alerts/foresight.rules.yaml'), ...rules('rules/recording.rules.yaml')];
}

function dashboardExpressions(dashboard: ReturnType<typeof loadDashboard>, queue: string): { readonly where: string; readonly expr: string }[] {
  const values = { ...intervalVariables, datasource: 'prometheus', cluster: '.*', namespace: '.*', job: 'foresight', queue, horizon: '15m' };
  return [
    ...dataPanels(dashboard).flatMap((p) => p.targets.map((t) => ({ where: `dashboard (queue ${queue}): ${p.title} / ${t.refId}`, expr: substituteVariables(t.expr, values) }))),
    ...dashboard.templating.list.flatMap((v) =>
      v.type === 'query' ? [{ where: `dashboard variable ${v.name}`, expr: substituteVariables(/^label_values\((.+), [a-z_]+\)$/.exec(v.definition)![1]!, values) }] : [],
    ),
  ];
}

/** The rules of a rule file, but those over exporters' series (foresight-inputs). */
function rules(file: string): { readonly where: string; readonly expr: string }[] {
  return z
    .object({ groups: z.array(z.object({ name: z.string(), rules: z.array(z.object({ alert: z.string().optional(), record: z.string().optional(), expr: z.string() })) })) })
    .parse(parse(readFileSync(join(root, file), 'utf8')))
    .groups.filter((g) => g.name !== 'foresight-inputs')
    .flatMap((g) => g.rules.map((r) => ({ where: `${file}: ${r.alert ?? r.record}`, expr: r.expr })));
}

describe('shipped consumers against what /metrics publishes', () => {
  it('every selector of a snapshot family matches a published sample', async () => {
    const clock = new ManualClock(at);
    const store = new SnapshotStore({ historyRetentionSeconds: 3600 });
    store.publish(everyKindOfSeries());
    const config = configFromYaml('workloads:\n  - { name: worker, namespace: shop, queues: [{ name: orders, threshold: 100 }, { name: billing, threshold: 100 }] }\n');
    const text = await createMetrics({ registry: new Registry(), store, clock, config: () => config, build: { version: 't', revision: 't' } }).exposition.text();
    const samples = samplesOf(text);
    // The families written from the snapshot (and the threshold, which a workload's queue takes from it).
    const snapshotFamilies = new Set([...new SnapshotExposition().text(undefined).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    snapshotFamilies.add('queue_depth_threshold');
    for (const name of snapshotFamilies) expect(samples.get(name)?.length ?? 0, `the fixture gives ${name} samples`).toBeGreaterThan(0);
    const checked: string[] = [];
    for (const { where, expr } of consumerExpressions()) {
      for (const selector of selectorsOf(expr)) {
        if (!snapshotFamilies.has(selector.name)) continue;
        checked.push(selector.name);
        const found = (samples.get(selector.name) ?? []).some((labels) => matches(selector, labels));
        expect(found, `${where} selects ${selector.name}${JSON.stringify(selector.matchers)}, which /metrics does not publish`).toBe(true);
      }
    }
    // The consumers do read the limited families (the test would be vacuous otherwise).
    for (const name of ['foresight_forecast_backtest_mase', 'foresight_forecast_backtest_accuracy_percent', 'foresight_forecast_model_info', 'predicted_queue_depth', 'anomaly_score'])
      expect(checked).toContain(name);
  });

  it('a selector of a model row no longer published is caught', () => {
    const samples = samplesOf(new SnapshotExposition().text(everyKindOfSeries()));
    const [naiveRow] = selectorsOf('foresight_forecast_backtest_mase{series="queue/shop/worker/orders/depth",model="naive"}');
    const [servedRow] = selectorsOf('foresight_forecast_backtest_mase{series="queue/shop/worker/orders/depth",model="auto"}');
    const mase = samples.get('foresight_forecast_backtest_mase') ?? [];
    expect(mase.some((labels) => matches(naiveRow!, labels))).toBe(false);
    expect(mase.some((labels) => matches(servedRow!, labels))).toBe(true);
  });
});
