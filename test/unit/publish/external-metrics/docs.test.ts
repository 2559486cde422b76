/**
 * docs/external-metrics.md stays true: its configuration examples load, its manifests validate
 * against the Kubernetes schemas (kubernetes-models), and the HPA example's selector is answered
 * with exactly one value.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { createSnapshotProvider, formatQuantity, parseLabelSelector, providerSettingsFromConfig } from '../../../../src/publish/external-metrics/index.js';
import { ManualClock } from '../../../support/manual-clock.js';
import { configFromYaml } from '../../../support/service.js';
import { makeSnapshot } from './snapshot-fixture.js';

const doc = readFileSync(fileURLToPath(new URL('../../../../docs/external-metrics.md', import.meta.url)), 'utf8');
const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

describe('docs/external-metrics.md', () => {
  test('has the configuration example and the two manifests', () => {
    expect(yamlBlocks.length).toBe(3);
  });

  test('the exposure example is a valid configuration', () => {
    const config = configFromYaml(yamlBlocks.find((b) => b.startsWith('externalMetrics:'))!);
    expect(config.externalMetrics.exposure.map((r) => r.namespaces)).toEqual([['shop'], ['claims-*'], ['platform']]);
  });

  test('the HPA and APIService manifests validate, and the HPA selector resolves to one value', async () => {
    const { HorizontalPodAutoscaler } = await import('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler');
    const { APIService } = await import('kubernetes-models/apiregistration.k8s.io/v1/APIService');
    const hpaDoc = parse(yamlBlocks.find((b) => b.includes('kind: HorizontalPodAutoscaler'))!) as {
      spec: { metrics: { external: { metric: { name: string; selector: { matchLabels: Record<string, string> } } } }[] };
    };
    new HorizontalPodAutoscaler(hpaDoc as never).validate();
    const apiServiceDoc = parse(yamlBlocks.find((b) => b.includes('kind: APIService'))!.replace('<base64 PEM of the CA that signed the serving certificate>', 'Y2E=')) as object;
    new APIService(apiServiceDoc as never).validate();

    const metric = hpaDoc.spec.metrics[0]!.external.metric;
    const selector = parseLabelSelector(
      Object.entries(metric.selector.matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    );
    if (!selector.ok) throw new Error(selector.error);
    const nowMs = Date.UTC(2026, 10, 2, 12, 0, 0);
    const snapshot = makeSnapshot({ completedAtMs: nowMs, queues: [{ queue: 'orders', forecasts: { 900: [1, 2, 3], 3600: [4, 5, 6] } }] });
    const provider = createSnapshotProvider({ latest: () => snapshot, clock: new ManualClock(nowMs), settings: () => providerSettingsFromConfig(configFromYaml('forecast: { horizons: [15m, 1h] }')) });
    const answer = provider.getExternalMetric({ namespace: 'shop', metric: metric.name, selector: selector.value });
    expect(answer.ok && answer.value.items.map((i) => i.metricLabels)).toEqual([{ queue: 'orders', horizon: '15m', quantile: '0.5' }]);
  });

  test('the quantity table matches formatQuantity', () => {
    const rows = [...doc.matchAll(/^\| ([\d.]+) \| `([^`]+)`/gm)].map((m) => [Number(m[1]), m[2]] as const);
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const [value, wire] of rows) expect(formatQuantity(value)).toBe(wire);
  });
});
