/**
 * The manifests in examples/: the HPA against the Kubernetes schema, the KEDA ScaledObjects against
 * the fields KEDA requires, and each trigger against what Foresight actually serves (the
 * metadata parses, the query selects a published series, the URL is answered).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { metricCatalog } from '../../src/publish/index.js';
import { answerMetricsApi, buildMetricSpec, parseScalerMetadata } from '../../src/publish/keda/index.js';
import { fixtureSnapshot } from '../unit/publish/keda/snapshot-fixture.js';
import { repoRoot } from './chart-sources.js';
import { validateManifest } from './manifest-checks.js';

const dir = join(repoRoot, 'examples');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function load(file: string): unknown[] {
  return parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJSON() as unknown);
}

// What KEDA's admission webhook and CRD require of a ScaledObject, for the fields the examples use.
// Trigger metadata values must be strings: an unquoted number is a classic reason KEDA rejects one.
const scaledObjectSchema = z.strictObject({
  apiVersion: z.literal('keda.sh/v1alpha1'),
  kind: z.literal('ScaledObject'),
  metadata: z.strictObject({ name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/), namespace: z.string() }),
  spec: z.strictObject({
    scaleTargetRef: z.strictObject({ name: z.string().min(1), kind: z.string().optional(), apiVersion: z.string().optional() }),
    minReplicaCount: z.number().int().min(0).optional(),
    maxReplicaCount: z.number().int().min(1),
    pollingInterval: z.number().int().positive().optional(),
    cooldownPeriod: z.number().int().nonnegative().optional(),
    fallback: z.strictObject({ failureThreshold: z.number().int().positive(), replicas: z.number().int().positive() }).optional(),
    triggers: z
      .array(
        z.strictObject({
          type: z.enum(['prometheus', 'metrics-api', 'external', 'external-push']),
          metricType: z.enum(['AverageValue', 'Value']).optional(),
          metadata: z.record(z.string(), z.string()),
        }),
      )
      .min(1),
  }),
});
type Trigger = z.infer<typeof scaledObjectSchema>['spec']['triggers'][number];

const configured = { queues: ['orders'], horizonsSeconds: [900, 3600] };
const nowMs = Date.UTC(2026, 10, 2, 12, 0, 0);
const snapshot = fixtureSnapshot(1, nowMs, [{ queue: 'orders', depth: 10, forecasts: [{ horizonSeconds: 900, p10: 5, value: 50, p90: 120 }] }]);

/** Checks one trigger against the surface it talks to. */
function checkTrigger(trigger: Trigger): void {
  const m = trigger.metadata;
  switch (trigger.type) {
    case 'prometheus': {
      const query = m['query'] ?? '';
      let broken = false;
      parser.parse(query).iterate({
        enter: (node) => {
          if (node.type.isError) broken = true;
        },
      });
      expect(broken, `query does not parse: ${query}`).toBe(false);
      // It selects the published series with published label values, aggregated to one element.
      expect(query).toMatch(new RegExp(`^max\\(${metricCatalog.predictedQueueDepth.name}\\{queue="orders",horizon="(15m|1h)",quantile="(0\\.1|0\\.5|0\\.9)"\\}\\)$`));
      expect(Number(m['threshold'])).toBeGreaterThan(0);
      return;
    }
    case 'metrics-api': {
      const url = new URL(m['url'] ?? '');
      expect(url.pathname).toBe('/keda/metrics');
      expect(url.host).toBe('foresight.monitoring.svc:8000');
      const answer = answerMetricsApi(Object.fromEntries(url.searchParams), snapshot, { horizonSeconds: 900, quantile: '0.5' }, { nowMs, maxAgeSeconds: 300 });
      expect(answer.ok, JSON.stringify(answer)).toBe(true);
      if (answer.ok) expect(typeof (answer.value as unknown as Record<string, unknown>)[m['valueLocation'] ?? '']).toBe('number');
      expect(m['format']).toBe('json');
      return;
    }
    case 'external':
    case 'external-push': {
      expect(m['scalerAddress']).toBe('foresight.monitoring.svc:9000');
      const request = parseScalerMetadata(m, { horizonSeconds: 900, quantile: '0.5' });
      expect(request.ok, JSON.stringify(request)).toBe(true);
      if (request.ok) expect(buildMetricSpec(request.value, configured).ok).toBe(true);
      return;
    }
  }
}

describe('examples/', () => {
  test('has the HPA and a ScaledObject for each KEDA path', () => {
    const kinds = files.flatMap(load).map((d) => {
      const o = d as { kind?: string; spec?: { triggers?: { type?: string }[] } };
      return o.kind === 'ScaledObject' ? `ScaledObject/${o.spec?.triggers?.[0]?.type}` : String(o.kind);
    });
    expect(kinds.sort()).toEqual(['HorizontalPodAutoscaler', 'ScaledObject/external', 'ScaledObject/external-push', 'ScaledObject/metrics-api', 'ScaledObject/prometheus']);
  });

  for (const file of files) {
    test(`${file} is valid and matches what Foresight serves`, () => {
      for (const doc of load(file)) {
        const kind = (doc as { kind?: string }).kind;
        if (kind === 'ScaledObject') {
          const parsed = scaledObjectSchema.safeParse(doc);
          if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
          for (const trigger of parsed.data.spec.triggers) checkTrigger(trigger);
          if (parsed.data.spec.triggers.some((t) => t.type === 'external-push')) expect(parsed.data.spec.minReplicaCount).toBe(0);
          continue;
        }
        validateManifest(doc as { apiVersion: string; kind: string; metadata: { name: string } });
        const hpa = doc as { spec: { metrics: { type: string; external: { metric: { name: string; selector: { matchLabels: Record<string, string> } }; target: { type: string } } }[] } };
        const metric = hpa.spec.metrics[0];
        expect(metric?.type).toBe('External');
        expect(metric?.external.metric.name).toBe('predicted_queue_depth');
        expect(metric?.external.target.type).toBe('AverageValue');
        // One item per selector: queue, horizon and quantile are all pinned.
        expect(Object.keys(metric?.external.metric.selector.matchLabels ?? {}).sort()).toEqual(['horizon', 'quantile', 'queue']);
      }
    });
  }
});
