import { describe, expect, test } from 'vitest';
import {
  createSnapshotProvider,
  type ExternalMetricsProvider,
  parseLabelSelector,
  type ProviderSettings,
  providerSettingsFromConfig,
  quantityMilliValue,
  toValueList,
} from '../../../../src/publish/external-metrics/index.js';
import { ManualClock } from '../../../support/manual-clock.js';
import { configFromYaml } from '../../../support/service.js';
import { anomaly, decision, makeSnapshot, storeOf } from './snapshot-fixture.js';

const completedAtMs = Date.UTC(2026, 10, 2, 12, 0, 0, 750);
const baseSettings: ProviderSettings = { maxAgeSeconds: 300, defaultHorizonSeconds: 900, defaultQuantile: '0.5', windowSeconds: 60, exposure: [] };

const snapshot = makeSnapshot({
  completedAtMs,
  queues: [
    { queue: 'orders', depth: 1500.25, forecasts: { 900: [1000, 1234.5678, 1500], 3600: [800, 2000, 3000.5] } },
    { queue: 'claims.east_2', depth: 7, forecasts: { 900: [1, 2, 3], 3600: [4, 5, 6] } },
    { queue: 'empty', forecasts: { 900: [0, 0, 0] } },
  ],
  decisions: [decision('worker_processes', 7), decision('ml_workers', 2)],
  anomalies: [anomaly('cpu', 0.25), anomaly('queue_depth', 0.875, 'orders')],
});

function providerWith(settings: Partial<ProviderSettings> = {}, clock = new ManualClock(completedAtMs + 10_000), store = storeOf(snapshot)): ExternalMetricsProvider {
  const full = { ...baseSettings, ...settings };
  return createSnapshotProvider({ latest: () => store.latest(), clock, settings: () => full });
}

function get(provider: ExternalMetricsProvider, metric: string, selector = '', namespace = 'default') {
  const parsed = parseLabelSelector(selector);
  if (!parsed.ok) throw new Error(parsed.error);
  return provider.getExternalMetric({ namespace, metric, selector: parsed.value });
}

/** The items of a successful answer as `labels → value` pairs. */
function itemsOf(answer: ReturnType<typeof get>): [string, string][] {
  if (!answer.ok) throw new Error(`expected values, got ${answer.error.code}: ${answer.error.message}`);
  return answer.value.items.map((i) => [
    Object.entries(i.metricLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    i.value,
  ]);
}

describe('predicted_queue_depth: defaults make a selector resolve to one value per queue', () => {
  const provider = providerWith();
  test.each([
    ['queue=orders', [['queue=orders,horizon=15m,quantile=0.5', '1234568m']]],
    ['queue=orders,quantile=0.9', [['queue=orders,horizon=15m,quantile=0.9', '1500']]],
    ['queue=orders,quantile=0.1', [['queue=orders,horizon=15m,quantile=0.1', '1k']]],
    ['queue=orders,horizon=1h', [['queue=orders,horizon=1h,quantile=0.5', '2k']]],
    ['queue=orders,horizon=60m', [['queue=orders,horizon=1h,quantile=0.5', '2k']]], // 60m is spelled 1h
    ['queue=orders,horizon=3600s,quantile=0.90', [['queue=orders,horizon=1h,quantile=0.9', '3000500m']]],
    [
      'queue in (orders,claims.east_2)',
      [
        ['queue=orders,horizon=15m,quantile=0.5', '1234568m'],
        ['queue=claims.east_2,horizon=15m,quantile=0.5', '2'],
      ],
    ],
    [
      '',
      [
        ['queue=orders,horizon=15m,quantile=0.5', '1234568m'],
        ['queue=claims.east_2,horizon=15m,quantile=0.5', '2'],
        ['queue=empty,horizon=15m,quantile=0.5', '0'],
      ],
    ],
    [
      'queue!=orders',
      [
        ['queue=claims.east_2,horizon=15m,quantile=0.5', '2'],
        ['queue=empty,horizon=15m,quantile=0.5', '0'],
      ],
    ],
    ['queue=orders,horizon!=15m', [['queue=orders,horizon=1h,quantile=0.5', '2k']]], // only one other horizon: not ambiguous
  ] as const)('%j', (selector, expected) => {
    expect(itemsOf(get(provider, 'predicted_queue_depth', selector))).toEqual(expected);
  });

  test('a configured default horizon and quantile apply instead', () => {
    const other = providerWith({ defaultHorizonSeconds: 3600, defaultQuantile: '0.9' });
    expect(itemsOf(get(other, 'predicted_queue_depth', 'queue=orders'))).toEqual([['queue=orders,horizon=1h,quantile=0.9', '3000500m']]);
  });

  test.each([
    ['queue=orders,horizon in (15m,1h)', /matches 2 predicted_queue_depth values of queue "orders" \(horizon=15m quantile=0.5; horizon=1h quantile=0.5\)/],
    ['queue=orders,horizon', /matches 2 predicted_queue_depth values/],
    ['queue=orders,quantile!=0.5', /matches 2 predicted_queue_depth values .*quantile=0.1; .*quantile=0.9/],
  ])('%j would add up horizons or quantiles: 400', (selector, message) => {
    const answer = get(provider, 'predicted_queue_depth', selector);
    expect(answer.ok).toBe(false);
    if (!answer.ok) {
      expect(answer.error.code).toBe(400);
      expect(answer.error.message).toMatch(message);
    }
  });

  test('a selector that matches nothing is a 404 that lists what exists', () => {
    const answer = get(provider, 'predicted_queue_depth', 'queue=nope');
    expect(answer.ok).toBe(false);
    if (!answer.ok) {
      expect(answer.error.code).toBe(404);
      expect(answer.error.message).toContain('no predicted_queue_depth value matches the selector "horizon=15m,quantile=0.5,queue=nope" in namespace "default"');
      expect(answer.error.message).toContain('queues: orders, claims.east_2, empty; horizons: 15m, 1h; quantiles: 0.1, 0.5, 0.9');
    }
    const badHorizon = get(provider, 'predicted_queue_depth', 'queue=orders,horizon=2h');
    expect(!badHorizon.ok && badHorizon.error.code).toBe(404);
  });
});

describe('the other metrics', () => {
  const provider = providerWith();
  test('queue_depth serves observed depths (queues without a reading have no value)', () => {
    expect(itemsOf(get(provider, 'queue_depth'))).toEqual([
      ['queue=orders', '1500250m'],
      ['queue=claims.east_2', '7'],
    ]);
    expect(itemsOf(get(provider, 'queue_depth', 'queue=orders'))).toEqual([['queue=orders', '1500250m']]);
    expect(get(provider, 'queue_depth', 'queue=empty').ok).toBe(false);
  });

  test('recommended_replicas serves decisions by resource', () => {
    expect(itemsOf(get(provider, 'recommended_replicas', 'resource=worker_processes'))).toEqual([['resource=worker_processes', '7']]);
    expect(itemsOf(get(provider, 'recommended_replicas'))).toHaveLength(2);
  });

  test('recommended_replicas without decisions is a 404 that says why', () => {
    const bare = providerWith({}, undefined, storeOf(makeSnapshot({ completedAtMs, queues: [{ queue: 'orders', depth: 1 }] })));
    const answer = get(bare, 'recommended_replicas', 'resource=worker_processes');
    expect(answer.ok ? 200 : answer.error.code).toBe(404);
    if (!answer.ok) expect(answer.error.message).toMatch(/holds no scaling decisions/);
  });

  test('anomaly_score serves queue and system verdicts, selected by metric and queue', () => {
    expect(itemsOf(get(provider, 'anomaly_score', 'metric=queue_depth,queue=orders'))).toEqual([['metric=queue_depth,queue=orders', '875m']]);
    expect(itemsOf(get(provider, 'anomaly_score', 'metric=cpu'))).toEqual([['metric=cpu', '250m']]);
    expect(itemsOf(get(provider, 'anomaly_score', '!queue'))).toEqual([['metric=cpu', '250m']]);
  });

  test('an unknown metric is a 404 naming the served ones', () => {
    const answer = get(provider, 'queue_depth_forecast');
    expect(answer.ok).toBe(false);
    if (!answer.ok) {
      expect(answer.error).toMatchObject({ code: 404 });
      expect(answer.error.message).toContain('served metrics: predicted_queue_depth, queue_depth, recommended_replicas, anomaly_score');
    }
  });
});

describe('values on the wire', () => {
  test('timestamp is the snapshot time in whole seconds, window the data step, and the body is the list as JSON', () => {
    const answer = get(providerWith({ windowSeconds: 30 }), 'queue_depth', 'queue=orders');
    expect(answer.ok).toBe(true);
    if (!answer.ok) return;
    expect(answer.value.items[0]).toEqual({ metricName: 'queue_depth', metricLabels: { queue: 'orders' }, timestamp: '2026-11-02T12:00:00Z', window: 30, value: '1500250m' });
    expect(answer.value.body).toBe(JSON.stringify(toValueList(answer.value)));
    expect(answer.value.snapshotAgeSeconds).toBe(10);
  });

  test('a value that is not finite is never serialised: the answer is a 503, other queues are unaffected', () => {
    const withNaN = makeSnapshot({
      completedAtMs,
      queues: [
        { queue: 'orders', forecasts: { 900: [1, Number.NaN, 3] } },
        { queue: 'ok', forecasts: { 900: [1, 2, 3] } },
      ],
    });
    const provider = providerWith({}, undefined, storeOf(withNaN));
    const bad = get(provider, 'predicted_queue_depth', 'queue=orders');
    expect(bad.ok ? 200 : bad.error.code).toBe(503);
    if (!bad.ok) expect(bad.error.message).toMatch(/is NaN, which cannot be served/);
    expect(get(provider, 'predicted_queue_depth').ok).toBe(false); // the sum over all queues would be partial
    expect(itemsOf(get(provider, 'predicted_queue_depth', 'queue=ok'))).toEqual([['queue=ok,horizon=15m,quantile=0.5', '2']]);
    const infinite = providerWith({}, undefined, storeOf(makeSnapshot({ completedAtMs, queues: [{ queue: 'q', depth: Number.POSITIVE_INFINITY }] })));
    const inf = get(infinite, 'queue_depth');
    expect(!inf.ok && inf.error.code).toBe(503);
  });

  test('the HPA reads the sum of the items at milli precision', () => {
    const answer = get(providerWith(), 'predicted_queue_depth', 'queue in (orders,claims.east_2)');
    if (!answer.ok) throw new Error(answer.error.message);
    const sum = answer.value.items.reduce((total, item) => total + quantityMilliValue(item.value)!, 0n);
    expect(sum).toBe(1_234_568n + 2_000n);
  });
});

describe('freshness: an old or missing snapshot is a 503, so the HPA holds', () => {
  test('older than the maximum age', () => {
    const clock = new ManualClock(completedAtMs);
    const provider = providerWith({ maxAgeSeconds: 60 }, clock);
    clock.advance(60);
    expect(get(provider, 'queue_depth', 'queue=orders').ok).toBe(true);
    clock.advance(1);
    const stale = get(provider, 'queue_depth', 'queue=orders');
    expect(stale.ok).toBe(false);
    if (!stale.ok) {
      expect(stale.error.code).toBe(503);
      expect(stale.error.message).toMatch(/61 s old, older than the maximum age of 60 s \(snapshot.maxAge\)/);
    }
  });

  test('no snapshot yet', () => {
    const answer = get(providerWith({}, undefined, storeOf(undefined)), 'queue_depth');
    expect(!answer.ok && answer.error).toMatchObject({ code: 503, message: expect.stringMatching(/first reconcile cycle has not completed/) });
  });

  test('an unknown metric is a 404 even without a snapshot', () => {
    const answer = get(providerWith({}, undefined, storeOf(undefined)), 'nope');
    expect(!answer.ok && answer.error.code).toBe(404);
  });
});

describe('exposure rules: which queues a namespace may read', () => {
  const exposure = [
    { namespaces: ['shop'], queues: ['orders'], resources: ['worker_processes'], systemMetrics: false },
    { namespaces: ['claims-*'], queues: ['claims.*'], resources: [], systemMetrics: true },
    { namespaces: ['ops'], queues: ['*'], resources: ['*'], systemMetrics: true },
  ];
  const provider = providerWith({ exposure });
  test.each([
    ['shop', 'predicted_queue_depth', '', ['queue=orders,horizon=15m,quantile=0.5']],
    ['shop', 'recommended_replicas', '', ['resource=worker_processes']],
    ['shop', 'anomaly_score', '', ['metric=queue_depth,queue=orders']],
    ['claims-east', 'queue_depth', '', ['queue=claims.east_2']],
    ['claims-east', 'anomaly_score', '', ['metric=cpu']],
    ['ops', 'queue_depth', '', ['queue=orders', 'queue=claims.east_2']],
  ] as const)('%s reads %s: %j', (namespace, metric, selector, expected) => {
    expect(itemsOf(get(provider, metric, selector, namespace)).map(([labels]) => labels)).toEqual(expected);
  });

  test.each([
    ['shop', 'queue_depth', 'queue=claims.east_2'],
    ['claims-east', 'recommended_replicas', ''],
    ['default', 'queue_depth', ''],
    ['claims', 'queue_depth', ''], // "claims-*" needs the dash
  ])('%s may not read %s{%s}: 404 without naming hidden queues', (namespace, metric, selector) => {
    const answer = get(provider, metric, selector, namespace);
    expect(answer.ok).toBe(false);
    if (!answer.ok) {
      expect(answer.error.code).toBe(404);
      if (namespace === 'shop') expect(answer.error.message).not.toContain('claims.east_2,');
      if (namespace === 'default') expect(answer.error.message).toContain('none readable here');
    }
  });

  test('without rules every namespace reads everything', () => {
    expect(itemsOf(get(providerWith(), 'queue_depth', '', 'any-namespace'))).toHaveLength(2);
  });
});

describe('determinism', () => {
  test('equal snapshots give byte-identical bodies, whichever provider answers', () => {
    const copy = makeSnapshot({
      completedAtMs,
      queues: [
        { queue: 'orders', depth: 1500.25, forecasts: { 900: [1000, 1234.5678, 1500], 3600: [800, 2000, 3000.5] } },
        { queue: 'claims.east_2', depth: 7, forecasts: { 900: [1, 2, 3], 3600: [4, 5, 6] } },
        { queue: 'empty', forecasts: { 900: [0, 0, 0] } },
      ],
      decisions: [decision('worker_processes', 7), decision('ml_workers', 2)],
      anomalies: [anomaly('cpu', 0.25), anomaly('queue_depth', 0.875, 'orders')],
    });
    const a = providerWith();
    const b = providerWith({}, new ManualClock(completedAtMs + 42_000), storeOf(copy));
    for (const [metric, selector] of [
      ['predicted_queue_depth', ''],
      ['predicted_queue_depth', 'queue=orders,quantile=0.9'],
      ['queue_depth', ''],
      ['recommended_replicas', ''],
      ['anomaly_score', 'metric=cpu'],
    ] as const) {
      const left = get(a, metric, selector);
      const right = get(b, metric, selector);
      expect(left.ok && right.ok).toBe(true);
      if (left.ok && right.ok) expect(left.value.body).toBe(right.value.body);
    }
  });

  test('settings from the configuration: first horizon, configured quantile, snapshot.maxAge, forecast.step', () => {
    const config = configFromYaml('forecast: { horizons: [30m, 5m], step: 5m }\nexternalMetrics: { defaultQuantile: "0.9" }\nsnapshot: { maxAge: 10m }');
    expect(providerSettingsFromConfig(config)).toEqual({ maxAgeSeconds: 600, defaultHorizonSeconds: 1800, defaultQuantile: '0.9', windowSeconds: 300, exposure: [] });
    const explicit = configFromYaml('forecast: { horizons: [30m, 5m], step: 5m }\nexternalMetrics: { defaultHorizon: 5m }');
    expect(providerSettingsFromConfig(explicit).defaultHorizonSeconds).toBe(300);
  });
});
