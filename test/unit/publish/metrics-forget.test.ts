/**
 * Per-series label sets follow the set of series read: when the engine forgets a series (a
 * discovered queue that expired), its foresight_source_rejected_samples_total series go too, so
 * /metrics does not grow with every queue that ever came and went.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { configFromYaml } from '../../support/service.js';
import { ManualClock } from '../../support/manual-clock.js';
import { SnapshotStore } from '../../../src/engine/index.js';
import { createMetrics } from '../../../src/publish/index.js';

describe('createMetrics: forgotten series', () => {
  it('drops the rejected-sample series of forgotten inputs and keeps the others', async () => {
    const registry = new Registry();
    const config = configFromYaml('queues:\n  - { name: orders, threshold: 100 }\n');
    const metrics = createMetrics({ registry, store: new SnapshotStore({ historyRetentionSeconds: 3600 }), clock: new ManualClock(), config: () => config, build: { version: 't', revision: 't' } });
    const gone = 'queue/shop/worker/gamma/depth';
    const kept = 'queue/shop/worker/alpha/depth';
    metrics.recorder.sourceRejected?.(gone, 'out_of_domain', 2);
    metrics.recorder.sourceRejected?.(gone, 'implausible_jump', 1);
    metrics.recorder.sourceRejected?.(kept, 'not_finite', 3);
    const before = await registry.metrics();
    expect(before).toContain(`foresight_source_rejected_samples_total{input="${gone}",reason="out_of_domain"} 2`);
    metrics.recorder.seriesForgotten?.([gone]);
    const after = await registry.metrics();
    expect(after).not.toContain(`input="${gone}"`);
    expect(after).toContain(`foresight_source_rejected_samples_total{input="${kept}",reason="not_finite"} 3`);
  });
});
