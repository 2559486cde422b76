import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/app/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { buildService, configFromYaml } from '../support/service.js';
import { matrix, rangeGrid, type FakePrometheus, type RecordedRequest, startFakePrometheus, vector } from '../unit/source/fake-prometheus.js';

/**
 * Issue 10 item 2: a Prometheus answering −1e15 for a while, then 9.5e12, left forecasts at 0 or
 * at 6.9e11 long after it recovered, and the surfaces disagreed. The real service (its Prometheus
 * source through HTTP, its reconciler, its /metrics) reads a fake Prometheus over HTTP that
 * answers every query with an ordinary 24–67 queue, except in the broken spells.
 */
const startMs = Date.UTC(2026, 2, 2, 12, 0, 0);
const brokenNegative = { fromMs: startMs + 60_000, toMs: startMs + 90_000 };
const brokenHuge = { fromMs: startMs + 120_000, toMs: startMs + 190_000 };

function valueAt(ms: number): number {
  if (ms >= brokenNegative.fromMs && ms <= brokenNegative.toMs) return -1e15;
  if (ms >= brokenHuge.fromMs && ms <= brokenHuge.toMs) return 9.5e12;
  // An ordinary queue: 24–67 jobs on a 20-minute cycle.
  return 45 + 21 * Math.sin((2 * Math.PI * ms) / 1_200_000) + ((ms / 60_000) % 3);
}

function answer(req: RecordedRequest) {
  if (req.path.endsWith('/query_range')) return matrix([{ values: rangeGrid(req).map((t) => [t, String(valueAt(t * 1000))] as const) }]);
  const at = Number(req.params.get('time'));
  return vector(at, [{ value: String(valueAt(at * 1000)) }]);
}

let prometheus: FakePrometheus | undefined;
let service: Service | undefined;
afterEach(async () => {
  await service?.stop();
  await prometheus?.close();
  service = undefined;
  prometheus = undefined;
});

describe('garbage from Prometheus (fake Prometheus over HTTP; no real one can be made to answer −1e15)', () => {
  it('refuses the broken samples, counts them, and serves sane forecasts during and after the spells', { timeout: 240_000 }, async () => {
    prometheus = await startFakePrometheus(answer);
    const clock = new ManualClock(startMs);
    const config = configFromYaml(`
source: { type: prometheus, prometheus: { url: "${prometheus.url}" } }
queues: [{ name: orders, threshold: 150 }]
# Refit every cycle, so a model fitted on the broken samples would show at once.
forecast: { model: holt_winters, step: 30s, season: 20m, history: 1h, horizons: [5m], refitInterval: 30s }
`);
    service = buildService(config, { clock });
    const servedDepths: number[] = [];
    const metricsText: string[] = [];
    for (let cycle = 0; cycle < 16; cycle++) {
      const snapshot = await service.reconciler.runCycle();
      for (const f of snapshot.forecasts.filter((x) => x.seriesKey === 'queue/orders/depth')) servedDepths.push(f.value, f.p10, f.p90);
      metricsText.push(await service.metrics.exposition.text());
      clock.advance(30);
    }
    // Every forecast, in and after the spells: inside what an ordinary 24–67 queue makes plausible.
    expect(servedDepths.length).toBe(48);
    for (const v of servedDepths) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(200);
    }
    // Counted by input and reason: the negative spell is outside the domain, so is the huge one (above 9e12).
    const last = metricsText.at(-1)!;
    const rejected = (reason: string) => Number(new RegExp(`foresight_source_rejected_samples_total\\{input="queue/orders/depth",reason="${reason}"\\} (\\S+)`).exec(last)?.[1] ?? 0);
    expect(rejected('out_of_domain')).toBeGreaterThan(0);
    // No surface serves the garbage: /metrics never shows an observed or predicted depth beyond the ordinary range.
    for (const text of metricsText) {
      for (const line of text.split('\n').filter((l) => /^(queue_depth|predicted_queue_depth)\{[^}]*queue="orders"/.test(l))) {
        expect(Number(line.split(' ').at(-1))).toBeLessThan(200);
      }
    }
    // And the HTTP status agrees.
    const status = await request(service.api).get('/scaling/status').expect(200);
    expect(JSON.stringify(status.body)).not.toMatch(/e\+1[2-5]|-1e\+15/);
  });
});
