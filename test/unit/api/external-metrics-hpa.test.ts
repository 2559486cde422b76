/**
 * HPA emulation: the replica count a stock HorizontalPodAutoscaler would compute from our answers.
 * No HPA controller runs here, so its arithmetic is re-implemented below from
 * pkg/controller/podautoscaler/replica_calculator.go (reference/kubernetes-and-keda.md §4.3): the
 * items are summed at milli precision (`Quantity.MilliValue()`), a ratio within the 0.1 tolerance
 * keeps the current replicas, an error blocks the metric (the HPA then holds; it never scales down on
 * an error). Requests go over mTLS as the aggregator forwards the HPA's: front-proxy certificate and
 * X-Remote-User of the HPA's service account. Behaviour policies (rate limits, stabilization) are not
 * emulated; min/max clamping is.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExternalMetricsServer } from '../../../src/api/extension-server/index.js';
import { type ExternalMetricValueList, quantityMilliValue } from '../../../src/publish/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { makeSnapshot, storeOf } from '../publish/external-metrics/snapshot-fixture.js';
import { call, configFromYaml, filesModeYaml, makeTestPki, startServer, type TestPki } from './external-metrics-harness.js';

/** An External metric of an autoscaling/v2 HPA. */
interface ExternalMetricSpec {
  readonly name: string;
  /** matchLabels; the HPA sends them as `selector.String()`: sorted by key. */
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: 'In' | 'NotIn'; readonly values: readonly string[] }[];
  readonly target: { readonly type: 'Value'; readonly value: string } | { readonly type: 'AverageValue'; readonly averageValue: string };
}

/** The HPA's state for one computation. */
interface HpaState {
  readonly currentReplicas: number;
  /** Ready pods matching the scale target (Value targets scale them). Default: currentReplicas. */
  readonly readyPods?: number;
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
}

type Proposal = { readonly replicas: number; readonly usageMilli: bigint } | { readonly error: string };

/** `selector.String()` of a metav1.LabelSelector as the HPA's client sends it. */
function selectorString(spec: ExternalMetricSpec): string {
  const requirements = [
    ...Object.entries(spec.matchLabels ?? {}).map(([k, v]) => ({ key: k, text: `${k}=${v}` })),
    ...(spec.matchExpressions ?? []).map((e) => ({ key: e.key, text: `${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${[...e.values].sort().join(',')})` })),
  ];
  return requirements
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => r.text)
    .join(',');
}

const tolerance = 0.1;

/** The HPA's proposal for one External metric, from the items it fetched. */
function propose(items: ExternalMetricValueList['items'], spec: ExternalMetricSpec, state: HpaState): Proposal {
  if (items.length === 0) return { error: 'no metrics returned from external metrics API' };
  const usage = items.reduce((sum, item) => sum + quantityMilliValue(item.value)!, 0n);
  const current = state.currentReplicas;
  if (spec.target.type === 'AverageValue') {
    const perPod = quantityMilliValue(spec.target.averageValue)!;
    const ratio = Number(usage) / (Number(perPod) * current);
    const replicas = Math.abs(1 - ratio) > tolerance ? Math.ceil(Number(usage) / Number(perPod)) : current;
    return { replicas, usageMilli: usage };
  }
  const target = quantityMilliValue(spec.target.value)!;
  const ratio = Number(usage) / Number(target);
  if (current === 0) return { replicas: Math.ceil(ratio), usageMilli: usage };
  if (Math.abs(1 - ratio) <= tolerance) return { replicas: current, usageMilli: usage };
  return { replicas: Math.ceil(ratio * (state.readyPods ?? current)), usageMilli: usage };
}

/** One HPA sync: fetch like the HPA's external-metrics client, propose, clamp; an error holds. */
async function reconcile(server: ExternalMetricsServer, pki: TestPki, namespace: string, spec: ExternalMetricSpec, state: HpaState): Promise<{ replicas: number; proposal: Proposal }> {
  const selector = selectorString(spec);
  const query = selector === '' ? '' : `?labelSelector=${encodeURIComponent(selector)}`;
  const answer = await call(server.url, `/apis/external.metrics.k8s.io/v1beta1/namespaces/${namespace}/${spec.name}${query}`, {
    ca: pki.servingCA.certPem,
    cert: pki.frontProxyClient,
    headers: {
      Accept: 'application/vnd.kubernetes.protobuf, */*',
      'X-Remote-User': 'system:serviceaccount:kube-system:horizontal-pod-autoscaler',
      'X-Remote-Group': ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    },
  });
  const proposal: Proposal = answer.status === 200 ? propose(answer.json<ExternalMetricValueList>().items, spec, state) : { error: `${answer.status}: ${answer.json<{ message: string }>().message}` };
  if ('error' in proposal) return { replicas: state.currentReplicas, proposal };
  const clamped = Math.min(state.maxReplicas ?? Number.POSITIVE_INFINITY, Math.max(state.minReplicas ?? 1, proposal.replicas));
  return { replicas: clamped, proposal };
}

describe("HPA emulation: replicas from our answers with the HPA's own formula", () => {
  let pki: TestPki;
  let server: ExternalMetricsServer;
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
  const store = storeOf(
    makeSnapshot({
      completedAtMs: Date.UTC(2026, 10, 2, 12, 0, 0),
      queues: [
        // Served as 1234568m (p50) and 1800250m (p90) at 15m; 2500 at 1h.
        { queue: 'orders', depth: 900, forecasts: { 900: [1000, 1234.5678, 1800.25], 3600: [2000, 2500, 3000] } },
        // 65.4321 is served as 65432m: with orders' 1234568m the sum is exactly 1300000m.
        { queue: 'claims', depth: 40, forecasts: { 900: [50, 65.4321, 80] } },
      ],
    }),
  );

  beforeAll(async () => {
    pki = await makeTestPki();
    server = await startServer({ config: configFromYaml(filesModeYaml(pki)), store, clock });
  });
  afterAll(async () => {
    await server?.stop();
    await pki?.dispose();
  });

  const orders = (target: ExternalMetricSpec['target'], extra: Record<string, string> = {}): ExternalMetricSpec => ({
    name: 'predicted_queue_depth',
    matchLabels: { queue: 'orders', ...extra },
    target,
  });

  const cases: readonly { readonly name: string; readonly spec: ExternalMetricSpec; readonly state: HpaState; readonly replicas: number; readonly usageMilli?: bigint }[] = [
    // AverageValue: desired = ceil(usage / target) unless |1 − usage / (target × current)| ≤ 0.1.
    { name: 'AverageValue 100, 10 replicas: 1234.568 / 100 → 13', spec: orders({ type: 'AverageValue', averageValue: '100' }), state: { currentReplicas: 10 }, replicas: 13, usageMilli: 1_234_568n },
    { name: 'AverageValue 100, 12 replicas: ratio 1.029 is within tolerance → stays 12', spec: orders({ type: 'AverageValue', averageValue: '100' }), state: { currentReplicas: 12 }, replicas: 12 },
    { name: 'AverageValue 100, 11 replicas: ratio 1.122 → 13', spec: orders({ type: 'AverageValue', averageValue: '100' }), state: { currentReplicas: 11 }, replicas: 13 },
    { name: 'AverageValue 100, 20 replicas: ratio 0.617 → scale down to 13', spec: orders({ type: 'AverageValue', averageValue: '100' }), state: { currentReplicas: 20 }, replicas: 13 },
    {
      name: 'AverageValue 150m on the 0.9 quantile: 1800.25 / 0.15 → 12002',
      spec: orders({ type: 'AverageValue', averageValue: '150m' }, { quantile: '0.9' }),
      state: { currentReplicas: 10 },
      replicas: 12_002,
      usageMilli: 1_800_250n,
    },
    { name: 'AverageValue 250 at the 1h horizon: 2500 / 250 → 10', spec: orders({ type: 'AverageValue', averageValue: '250' }, { horizon: '1h' }), state: { currentReplicas: 4 }, replicas: 10 },
    { name: 'AverageValue 100, clamped to maxReplicas 8', spec: orders({ type: 'AverageValue', averageValue: '100' }), state: { currentReplicas: 5, maxReplicas: 8 }, replicas: 8 },
    {
      name: 'AverageValue 100 over two queues: 1234.568 + 65.432 = 1300 exactly → 13',
      spec: { name: 'predicted_queue_depth', matchExpressions: [{ key: 'queue', operator: 'In', values: ['orders', 'claims'] }], target: { type: 'AverageValue', averageValue: '100' } },
      state: { currentReplicas: 1 },
      replicas: 13,
      usageMilli: 1_300_000n,
    },
    // Value: desired = ceil(usage / target × ready pods) unless |1 − usage / target| ≤ 0.1.
    { name: 'Value 1k, 4 ready pods: ratio 1.2346 → ceil(4.94) = 5', spec: orders({ type: 'Value', value: '1k' }), state: { currentReplicas: 4 }, replicas: 5 },
    { name: 'Value 1200, 4 pods: ratio 1.029 within tolerance → stays 4', spec: orders({ type: 'Value', value: '1200' }), state: { currentReplicas: 4 }, replicas: 4 },
    { name: 'Value 1k, 6 replicas of which 3 ready: ceil(1.2346 × 3) = 4', spec: orders({ type: 'Value', value: '1k' }), state: { currentReplicas: 6, readyPods: 3 }, replicas: 4 },
    { name: 'Value 1k from zero replicas: ceil(1.2346) = 2', spec: orders({ type: 'Value', value: '1k' }), state: { currentReplicas: 0, minReplicas: 0 }, replicas: 2 },
    {
      name: 'Value 2k on the observed depth 900: ratio 0.45 → ceil(0.45 × 10) = 5',
      spec: { name: 'queue_depth', matchLabels: { queue: 'orders' }, target: { type: 'Value', value: '2k' } },
      state: { currentReplicas: 10 },
      replicas: 5,
      usageMilli: 900_000n,
    },
  ];

  for (const tc of cases) {
    test(tc.name, async () => {
      const { replicas, proposal } = await reconcile(server, pki, 'default', tc.spec, tc.state);
      expect('error' in proposal ? proposal.error : 'ok').toBe('ok');
      if (tc.usageMilli !== undefined && !('error' in proposal)) expect(proposal.usageMilli).toBe(tc.usageMilli);
      expect(replicas).toBe(tc.replicas);
    });
  }

  test('an unknown queue is an error: the HPA holds its replicas (and says why)', async () => {
    const { replicas, proposal } = await reconcile(
      server,
      pki,
      'default',
      { name: 'predicted_queue_depth', matchLabels: { queue: 'nope' }, target: { type: 'AverageValue', averageValue: '100' } },
      { currentReplicas: 7 },
    );
    expect(replicas).toBe(7);
    expect('error' in proposal && proposal.error).toMatch(/^404: no predicted_queue_depth value matches/);
  });

  test('a stale snapshot is a 503: the HPA holds instead of scaling down on old data', async () => {
    clock.advance(3600);
    try {
      const { replicas, proposal } = await reconcile(server, pki, 'default', orders({ type: 'AverageValue', averageValue: '100' }), { currentReplicas: 20 });
      expect(replicas).toBe(20);
      expect('error' in proposal && proposal.error).toMatch(/^503: the forecast snapshot is \d+ s old/);
    } finally {
      clock.advance(-3600);
    }
  });
});
