import { describe, expect, test } from 'vitest';
import {
  accessAttributes,
  createSnapshotProvider,
  externalMetricNames,
  handleRequest,
  negotiateAggregated,
  type ProviderSettings,
  resolveRoute,
  type RouteContext,
  type RouteResponse,
} from '../../../../src/publish/external-metrics/index.js';
import { ManualClock } from '../../../support/manual-clock.js';
import { makeSnapshot, storeOf } from './snapshot-fixture.js';

const completedAtMs = Date.UTC(2026, 10, 2, 12, 0, 0);
const settings: ProviderSettings = { maxAgeSeconds: 300, defaultHorizonSeconds: 900, defaultQuantile: '0.5', windowSeconds: 60, exposure: [] };
const build = { version: '1.2.3', revision: 'abcdef' };
const aggregatedV2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
/** What kubectl 1.32 sends for discovery (environment.md §5). */
const kubectlDiscoveryAccept = `${aggregatedV2},application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json`;

function contextFor(
  snapshot = makeSnapshot({
    completedAtMs,
    queues: [
      { queue: 'orders', depth: 12, forecasts: { 900: [1, 2.5, 4], 3600: [1, 2, 3] } },
      { queue: 'bad', forecasts: { 900: [1, Number.NaN, 3] } },
    ],
  }),
  clock = new ManualClock(completedAtMs + 1000),
): RouteContext {
  const store = storeOf(snapshot);
  return { provider: createSnapshotProvider({ latest: store.latest, clock, settings: () => settings }), build };
}

const context = contextFor();
const get = (url: string, accept?: string, ifNoneMatch?: string): RouteResponse => handleRequest({ method: 'GET', url, accept, ifNoneMatch }, context);
const json = (response: RouteResponse): Record<string, unknown> => JSON.parse(response.body) as Record<string, unknown>;

describe('discovery', () => {
  test('/apis is a legacy APIGroupList for plain JSON clients', () => {
    const response = get('/apis?timeout=32s', 'application/json, */*');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['vary']).toBe('Accept');
    expect(json(response)).toEqual({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [
        {
          name: 'external.metrics.k8s.io',
          versions: [{ groupVersion: 'external.metrics.k8s.io/v1beta1', version: 'v1beta1' }],
          preferredVersion: { groupVersion: 'external.metrics.k8s.io/v1beta1', version: 'v1beta1' },
        },
      ],
    });
  });

  test('/apis is an aggregated APIGroupDiscoveryList when the Accept header asks (kubectl, the aggregator)', () => {
    const response = get('/apis', kubectlDiscoveryAccept);
    expect(response.headers['content-type']).toBe(aggregatedV2);
    const body = json(response) as {
      kind: string;
      apiVersion: string;
      items: { metadata: { name: string }; versions: { version: string; freshness: string; resources: { resource: string; scope: string; verbs: string[]; responseKind: { kind: string } }[] }[] }[];
    };
    expect(body.kind).toBe('APIGroupDiscoveryList');
    expect(body.apiVersion).toBe('apidiscovery.k8s.io/v2');
    expect(body.items.map((i) => i.metadata.name)).toEqual(['external.metrics.k8s.io']);
    const version = body.items[0]!.versions[0]!;
    expect(version).toMatchObject({ version: 'v1beta1', freshness: 'Current' });
    expect(version.resources.map((r) => r.resource)).toEqual([...externalMetricNames]);
    for (const r of version.resources) expect(r).toMatchObject({ scope: 'Namespaced', verbs: ['get'], responseKind: { kind: 'ExternalMetricValueList' } });
  });

  test.each([
    [undefined, undefined],
    ['application/json', undefined],
    ['*/*', undefined],
    [aggregatedV2, 'v2'],
    ['application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList', 'v2beta1'],
    ['application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io', 'v2'],
    ['application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList, application/json', undefined],
    [`application/vnd.kubernetes.protobuf, ${aggregatedV2}`, 'v2'],
    [`application/json, ${aggregatedV2}`, undefined],
  ])('Accept %j negotiates %j', (accept, expected) => {
    expect(negotiateAggregated(accept)).toBe(expected);
  });

  test('discovery carries an ETag and answers 304 to If-None-Match (the aggregator revalidates every minute)', () => {
    const first = get('/apis', kubectlDiscoveryAccept);
    const etag = first.headers['etag']!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const again = get('/apis', kubectlDiscoveryAccept, etag);
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(get('/apis', 'application/json', etag).status).toBe(200); // the legacy document has another tag
  });

  test('/apis/external.metrics.k8s.io is the APIGroup', () => {
    expect(json(get('/apis/external.metrics.k8s.io'))).toMatchObject({ kind: 'APIGroup', apiVersion: 'v1', name: 'external.metrics.k8s.io', preferredVersion: { version: 'v1beta1' } });
  });

  test('/apis/external.metrics.k8s.io/v1beta1 lists the real metric names', () => {
    expect(json(get('/apis/external.metrics.k8s.io/v1beta1'))).toEqual({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: 'external.metrics.k8s.io/v1beta1',
      resources: externalMetricNames.map((name) => ({ name, singularName: '', namespaced: true, kind: 'ExternalMetricValueList', verbs: ['get'] })),
    });
  });

  test('/api is a 404 Status (kubectl api-resources then exits 0)', () => {
    const response = get('/api?timeout=32s', kubectlDiscoveryAccept);
    expect(response.status).toBe(404);
    expect(json(response)).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound' });
  });

  test('/version says what answers, in version.Info form', () => {
    expect(json(get('/version'))).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.0-foresight.1.2.3', gitCommit: 'abcdef', compiler: 'node' });
  });

  test('/openapi/v2 is a Swagger document of the read paths; /openapi/v3 indexes a 3.0 document', () => {
    const v2 = json(get('/openapi/v2')) as { swagger: string; paths: Record<string, unknown>; definitions: Record<string, unknown> };
    expect(v2.swagger).toBe('2.0');
    expect(Object.keys(v2.paths)).toContain('/apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/predicted_queue_depth');
    expect(Object.keys(v2.definitions)).toContain('io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValueList');
    const index = json(get('/openapi/v3')) as { paths: Record<string, { serverRelativeURL: string }> };
    const url = index.paths['apis/external.metrics.k8s.io/v1beta1']!.serverRelativeURL;
    const v3 = json(get(url)) as { openapi: string; components: { schemas: Record<string, unknown> }; paths: Record<string, unknown> };
    expect(v3.openapi).toBe('3.0.0');
    expect(Object.keys(v3.paths)).toHaveLength(externalMetricNames.length);
    expect(JSON.stringify(v3)).not.toContain('#/definitions/');
  });

  test('health endpoints answer ok', () => {
    for (const path of ['/healthz', '/livez', '/readyz']) expect(get(path)).toMatchObject({ status: 200, body: 'ok', metricLabel: 'health' });
  });
});

describe('metric values', () => {
  test.each([
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue%3Dorders',
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue=orders',
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue+in+%28orders%29', // Go's url.Values encoding
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?pretty=true&labelSelector=horizon%3D15m%2Cqueue%3Dorders',
    '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue%3Dorders&labelSelector=ignored%3Dsecond',
  ])('%s → the one value of orders', (url) => {
    const response = get(url, 'application/vnd.kubernetes.protobuf, */*');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.metricLabel).toBe('predicted_queue_depth');
    expect(json(response)).toEqual({
      kind: 'ExternalMetricValueList',
      apiVersion: 'external.metrics.k8s.io/v1beta1',
      metadata: {},
      items: [{ metricName: 'predicted_queue_depth', metricLabels: { queue: 'orders', horizon: '15m', quantile: '0.5' }, timestamp: '2026-11-02T12:00:00Z', window: 60, value: '2500m' }],
    });
    expect(response.snapshotAgeSeconds).toBe(1);
  });

  test('authorization sees a list of the metric in the namespace; discovery a non-resource get', () => {
    expect(accessAttributes(resolveRoute('GET', '/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/queue_depth?labelSelector=queue%3Da'))).toEqual({
      kind: 'resource',
      verb: 'list',
      group: 'external.metrics.k8s.io',
      version: 'v1beta1',
      resource: 'queue_depth',
      namespace: 'shop',
    });
    expect(accessAttributes(resolveRoute('GET', '/apis?timeout=32s'))).toEqual({ kind: 'nonResource', verb: 'get', path: '/apis' });
    expect(accessAttributes(resolveRoute('GET', '/healthz'))).toBeUndefined();
  });
});

describe('every error is a Kubernetes Status', () => {
  const m = '/apis/external.metrics.k8s.io/v1beta1';
  const cases: readonly {
    readonly name: string;
    readonly method?: string;
    readonly url: string;
    readonly code: number;
    readonly reason: string;
    readonly message: RegExp;
    readonly context?: RouteContext;
  }[] = [
    { name: 'unknown metric', url: `${m}/namespaces/default/queue_depth_forecast`, code: 404, reason: 'NotFound', message: /could not find the metric "queue_depth_forecast"/ },
    { name: 'unknown metric with a bad selector', url: `${m}/namespaces/default/nope?labelSelector=%3D%3D`, code: 404, reason: 'NotFound', message: /could not find the metric "nope"/ },
    {
      name: 'bad selector',
      url: `${m}/namespaces/default/queue_depth?labelSelector=queue+in+%28`,
      code: 400,
      reason: 'BadRequest',
      message: /invalid labelSelector "queue in \(": unable to parse requirement/,
    },
    { name: 'ambiguous selector', url: `${m}/namespaces/default/predicted_queue_depth?labelSelector=horizon`, code: 400, reason: 'BadRequest', message: /the HPA would add them up/ },
    { name: 'no match', url: `${m}/namespaces/default/queue_depth?labelSelector=queue%3Dnope`, code: 404, reason: 'NotFound', message: /no queue_depth value matches/ },
    { name: 'value not finite', url: `${m}/namespaces/default/predicted_queue_depth?labelSelector=queue%3Dbad`, code: 503, reason: 'ServiceUnavailable', message: /is NaN/ },
    {
      name: 'stale snapshot',
      url: `${m}/namespaces/default/queue_depth`,
      code: 503,
      reason: 'ServiceUnavailable',
      message: /older than the maximum age/,
      context: contextFor(undefined, new ManualClock(completedAtMs + 301_000)),
    },
    {
      name: 'no snapshot',
      url: `${m}/namespaces/default/queue_depth`,
      code: 503,
      reason: 'ServiceUnavailable',
      message: /first reconcile cycle/,
      context: { provider: createSnapshotProvider({ latest: () => undefined, clock: new ManualClock(), settings: () => settings }), build },
    },
    { name: 'cluster-scoped path', url: `${m}/predicted_queue_depth`, code: 404, reason: 'NotFound', message: /external metrics are namespaced/ },
    { name: 'namespace without metric', url: `${m}/namespaces/default`, code: 404, reason: 'NotFound', message: /could not find the requested resource/ },
    { name: 'path beyond the metric', url: `${m}/namespaces/default/queue_depth/extra`, code: 404, reason: 'NotFound', message: /could not find the requested resource/ },
    { name: 'invalid namespace', url: `${m}/namespaces/Bad_NS/queue_depth`, code: 400, reason: 'BadRequest', message: /invalid namespace "Bad_NS"/ },
    { name: 'bad percent-encoding', url: `${m}/namespaces/%zz/queue_depth`, code: 400, reason: 'BadRequest', message: /malformed percent-encoding/ },
    { name: 'other group', url: '/apis/custom.metrics.k8s.io/v1beta1', code: 404, reason: 'NotFound', message: /serves external.metrics.k8s.io\/v1beta1/ },
    { name: 'write method', method: 'POST', url: `${m}/namespaces/default/queue_depth`, code: 405, reason: 'MethodNotAllowed', message: /read-only/ },
    { name: 'delete on discovery', method: 'DELETE', url: '/apis', code: 405, reason: 'MethodNotAllowed', message: /read-only/ },
    { name: 'URL too long', url: `${m}/namespaces/default/queue_depth?labelSelector=${'a'.repeat(20_000)}`, code: 431, reason: 'RequestHeaderFieldsTooLarge', message: /at most 16384/ },
    { name: 'selector too long', url: `${m}/namespaces/default/queue_depth?labelSelector=${'a'.repeat(9_000)}`, code: 400, reason: 'BadRequest', message: /at most 8192 are accepted/ },
  ];
  for (const tc of cases) {
    test(`${tc.name}: ${tc.code} ${tc.reason}`, () => {
      const response = handleRequest({ method: tc.method ?? 'GET', url: tc.url }, tc.context ?? context);
      expect(response.status).toBe(tc.code);
      expect(response.headers['content-type']).toBe('application/json');
      const body = json(response);
      expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: tc.code, reason: tc.reason });
      expect(body['message']).toMatch(tc.message);
      if (tc.code === 405) expect(response.headers['allow']).toBe('GET, HEAD');
    });
  }
});
