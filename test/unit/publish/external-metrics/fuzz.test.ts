/**
 * Fuzzing of the external-metrics surface with a seeded PRNG: thousands of malformed (and some
 * well-formed) methods, paths, queries, selectors and Accept headers. The routes must never throw,
 * never answer 500, and every error must be a Kubernetes Status whose code matches the HTTP status.
 * A failing case prints its seed and index, so it can be replayed.
 */
import { describe, expect, test } from 'vitest';
import { createSnapshotProvider, formatLabelSelector, handleRequest, parseLabelSelector, type RouteContext, selectorMatches } from '../../../../src/publish/external-metrics/index.js';
import { ManualClock } from '../../../support/manual-clock.js';
import { prng } from './prng.js';
import { anomaly, decision, makeSnapshot, storeOf } from './snapshot-fixture.js';

const seed = Number(process.env['FUZZ_SEED'] ?? 20_261_102);
const completedAtMs = Date.UTC(2026, 10, 2, 12, 0, 0);

const snapshot = makeSnapshot({
  completedAtMs,
  queues: [
    { queue: 'orders', depth: 5, forecasts: { 900: [1, 2, 3], 3600: [4, 5, 6] } },
    { queue: 'claims.east_2', depth: 0, forecasts: { 900: [0, 0.001, 1e12] } },
    { queue: 'weird', depth: Number.NaN, forecasts: { 900: [Number.NaN, Number.POSITIVE_INFINITY, -1] } },
  ],
  decisions: [decision('worker_processes', 3)],
  anomalies: [anomaly('cpu', 0.5), anomaly('queue_depth', 1, 'orders')],
});

const exposures = [[], [{ namespaces: ['default', 'team-*'], queues: ['orders', 'claims.*'], resources: ['*'], systemMetrics: false }]];

function contexts(): RouteContext[] {
  // Fresh with and without exposure rules, and stale (the snapshot older than the maximum age).
  return [...exposures.map((exposure) => ({ exposure, ageMs: 5_000 })), { exposure: [], ageMs: 400_000 }].map(({ exposure, ageMs }) => {
    const store = storeOf(snapshot);
    return {
      provider: createSnapshotProvider({
        latest: store.latest,
        clock: new ManualClock(completedAtMs + ageMs),
        settings: () => ({ maxAgeSeconds: 300, defaultHorizonSeconds: 900, defaultQuantile: '0.5' as const, windowSeconds: 60, exposure }),
      }),
      build: { version: '0.0.0', revision: 'fuzz' },
    };
  });
}

const selectorFragments = [
  'queue',
  'horizon',
  'quantile',
  'metric',
  'resource',
  'orders',
  'claims.east_2',
  '15m',
  '1h',
  '60m',
  '0.5',
  '0.9',
  '0.50',
  '=',
  '==',
  '!=',
  '!',
  '!!',
  'in',
  'notin',
  '(',
  ')',
  ',',
  ',,',
  ' ',
  '\t',
  '>',
  '<',
  '5',
  '-1',
  '',
  'a/b',
  'example.com/x',
  '%',
  '%3D',
  '+',
  '&',
  '#',
  '?',
  'é',
  '😀',
  '\u0000',
  '"',
  "'",
  '\\',
  'x'.repeat(70),
  '9'.repeat(25),
  'in (',
  ')(',
  '=(',
];
const pathFragments = [
  'apis',
  'api',
  'external.metrics.k8s.io',
  'v1beta1',
  'namespaces',
  'default',
  'team-a',
  'kube-system',
  'Bad_NS',
  '',
  'predicted_queue_depth',
  'queue_depth',
  'recommended_replicas',
  'anomaly_score',
  'nope',
  '..',
  '.',
  '%',
  '%zz',
  '%2F',
  '%00',
  'version',
  'openapi',
  'v2',
  'v3',
  'healthz',
  'livez',
  'readyz',
  'é',
  '%E2%82%AC',
  'x'.repeat(300),
  '~',
  '*',
  ';',
  ':',
];
const methods = ['GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'get', '', 'CONNECT', 'TRACE'];
const accepts = [
  undefined,
  '',
  '*/*',
  'application/json',
  'application/vnd.kubernetes.protobuf, */*',
  ';;;,,',
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'application/json;v=;g=;as=',
  'text/html',
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
  '=,=;=',
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomText(random: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const r = random();
    out += r < 0.6 ? String.fromCharCode(32 + Math.floor(random() * 95)) : r < 0.9 ? pick(random, selectorFragments) : String.fromCodePoint(Math.floor(random() * 0x2ffff));
  }
  return out;
}

function randomSelector(random: () => number): string {
  const parts = Math.floor(random() * 12);
  let out = '';
  for (let i = 0; i < parts; i++) out += random() < 0.85 ? pick(random, selectorFragments) : randomText(random, 1 + Math.floor(random() * 4));
  return out;
}

/** encodeURIComponent, except for lone surrogates (which it refuses): those go in raw, which is malformed on purpose. */
function safeEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text;
  }
}

const goodSelectors = ['', 'queue=orders', 'queue in (orders,claims.east_2)', 'metric=cpu', 'resource=worker_processes', 'queue=orders,quantile=0.9', 'horizon=1h', 'queue!=weird'];
const metrics = ['predicted_queue_depth', 'queue_depth', 'recommended_replicas', 'anomaly_score'];

function randomUrl(random: () => number): string {
  if (random() < 0.15) {
    // Well-formed requests, so that the successful path is fuzzed too (with the odd encoding).
    const selector = pick(random, goodSelectors);
    return `/apis/external.metrics.k8s.io/v1beta1/namespaces/${pick(random, ['default', 'team-a', 'other'])}/${pick(random, metrics)}?labelSelector=${random() < 0.5 ? safeEncode(selector) : selector.replaceAll(' ', '+')}`;
  }
  const r = random();
  let path: string;
  if (r < 0.5) {
    // Mostly-valid metric paths with one or two things wrong, which reach deepest into the code.
    const segments = ['apis', 'external.metrics.k8s.io', 'v1beta1', 'namespaces', pick(random, pathFragments), pick(random, pathFragments)];
    if (random() < 0.3) segments[Math.floor(random() * segments.length)] = pick(random, pathFragments);
    if (random() < 0.1) segments.push(pick(random, pathFragments));
    path = `/${segments.join('/')}`;
  } else if (r < 0.8) {
    const count = Math.floor(random() * 6);
    path = `/${Array.from({ length: count }, () => pick(random, pathFragments)).join(random() < 0.9 ? '/' : '//')}`;
  } else {
    path = random() < 0.5 ? `/${randomText(random, Math.floor(random() * 40))}` : randomText(random, Math.floor(random() * 40));
  }
  const q = random();
  if (q < 0.2) return path;
  const selector = randomSelector(random);
  const encoded = q < 0.5 ? safeEncode(selector) : q < 0.7 ? selector : q < 0.85 ? selector.replaceAll(' ', '+') : `${selector}&labelSelector=${randomSelector(random)}`;
  return `${path}?${random() < 0.9 ? 'labelSelector=' : pick(random, ['pretty=1&', '=', '&&', 'labelSelector', ''])}${encoded}`;
}

const allowedStatuses = new Set([200, 304, 400, 404, 405, 503]);

describe(`fuzzed requests (seed ${seed})`, () => {
  test('5,000 requests: never a throw, never a 500, every error a matching Status', () => {
    const random = prng(seed);
    const ctxs = contexts();
    const seenStatuses = new Map<number, number>();
    for (let i = 0; i < 5_000; i++) {
      const request = { method: pick(random, methods), url: randomUrl(random), accept: pick(random, accepts) };
      const where = `case ${i} (seed ${seed}): ${JSON.stringify(request).slice(0, 300)}`;
      let response: ReturnType<typeof handleRequest>;
      try {
        response = handleRequest(request, pick(random, ctxs));
      } catch (error) {
        throw new Error(`${where} threw ${String(error)}`);
      }
      seenStatuses.set(response.status, (seenStatuses.get(response.status) ?? 0) + 1);
      expect(allowedStatuses.has(response.status), where).toBe(true);
      if (response.status === 304) continue;
      if (response.metricLabel === 'health') {
        expect(response.body, where).toBe('ok');
        continue;
      }
      const body = JSON.parse(response.body) as Record<string, unknown>;
      if (response.status >= 400) {
        expect(body, where).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: response.status });
        expect(typeof body['message'], where).toBe('string');
        expect((body['message'] as string).length, where).toBeLessThan(2_000);
      } else {
        expect(body !== null && typeof body === 'object', where).toBe(true);
        if (response.metricLabel !== 'discovery') expect(body['kind'], where).toBe('ExternalMetricValueList');
      }
    }
    // The generator must reach the interesting outcomes, or the fuzzing proves little.
    for (const status of [200, 400, 404, 405, 503]) expect(seenStatuses.get(status) ?? 0, `status ${status} reached`).toBeGreaterThan(20);
  });

  test('5,000 selectors: parse or a message; what parses round-trips through its canonical form', () => {
    const random = prng(seed + 1);
    let parsedCount = 0;
    for (let i = 0; i < 5_000; i++) {
      const text = randomSelector(random);
      const where = `selector case ${i} (seed ${seed + 1}): ${JSON.stringify(text)}`;
      const parsed = parseLabelSelector(text);
      if (!parsed.ok) {
        expect(parsed.error.length, where).toBeGreaterThan(0);
        continue;
      }
      parsedCount++;
      const again = parseLabelSelector(formatLabelSelector(parsed.value));
      expect(again.ok, where).toBe(true);
      if (again.ok) {
        expect(again.value, where).toEqual(parsed.value);
        for (const labels of [{}, { queue: 'orders' }, { queue: 'orders', horizon: '15m', quantile: '0.5' }, { metric: 'cpu' }]) {
          expect(selectorMatches(again.value, labels), where).toBe(selectorMatches(parsed.value, labels));
        }
      }
    }
    expect(parsedCount).toBeGreaterThan(200);
  });
});
