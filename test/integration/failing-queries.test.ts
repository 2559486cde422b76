/**
 * Issue 10 item 3, against the real service: the HTTP server listening on a port, the real
 * PrometheusSource (its HTTP client) against a fake Prometheus over HTTP. A cycle in which every
 * query answers HTTP 500, malformed JSON or NaN fails: the snapshot goes stale, foresight_source_up
 * is 0, and forecasts do not roll forward. A cycle in which some queries fail is partial: it
 * publishes, and each failing input is reported.
 *
 * The fake stands in for Prometheus because a real one cannot be made to answer garbage on demand.
 * Cycles are driven by hand (manual clock and timers), so nothing here depends on wall time.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Service } from '../../src/app/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
import { buildService, configFromYaml } from '../support/service.js';
import { healthy, twoInputConfigYaml } from '../support/two-input-prometheus.js';
import { apiError, type FakePrometheus, matrix, rangeGrid, type Reply, type RecordedRequest, startFakePrometheus, vector } from '../unit/source/fake-prometheus.js';

const startMs = Date.UTC(2026, 10, 2, 12, 0, 20);

const failures: readonly (readonly [string, (request: RecordedRequest) => Reply])[] = [
  ['HTTP 500', () => apiError(500, 'internal', 'storage is on fire')],
  ['malformed JSON', () => ({ body: '{"status":"success","data":{"resultType":"vec', contentType: 'application/json' })],
  [
    'NaN',
    (request) => (request.path === '/api/v1/query_range' ? matrix([{ values: rangeGrid(request).map((t) => [t, 'NaN'] as const) }]) : vector(Number(request.params.get('time')), [{ value: 'NaN' }])),
  ],
];

describe('a Prometheus whose every answer is garbage fails the cycle', () => {
  let prometheus: FakePrometheus;
  let service: Service;
  let clock: ManualClock;
  let url: string;

  const metric = async (name: string): Promise<string[]> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return text.split('\n').filter((line) => line.startsWith(name));
  };
  const status = async () =>
    (await (await fetch(`${url}/scaling/status`)).json()) as {
      snapshot: { cycle: number; stale: boolean; lastError: string | null; consecutiveFailures: number };
      problems: { inputKey: string; reason: string }[];
      queues: { forecasts: { origin: string }[] }[];
    };

  beforeAll(async () => {
    prometheus = await startFakePrometheus(healthy);
    clock = new ManualClock(startMs);
    const config = configFromYaml(
      twoInputConfigYaml({ prometheusUrl: prometheus.url, server: '{ host: 127.0.0.1, port: 0 }', prometheusExtra: ', maxResponseBytes: 1048576', extra: 'snapshot: { maxAge: 30s }' }),
    );
    service = buildService(config, { clock, timers: new ManualTimers(clock) });
    await service.start(); // runs the first cycle at once; later ones only when the test asks
    url = service.url;
  });
  afterAll(async () => {
    await service?.stop();
    await prometheus?.close();
  });

  test.each(failures)('every query answering %s for 45 s (max age 30 s): stale, foresight_source_up 0, no forecast rolled forward', async (_name, reply) => {
    prometheus.handler = healthy;
    clock.advance(15);
    const fresh = await service.reconciler.runCycle();
    expect(await metric('foresight_source_up ')).toEqual(['foresight_source_up 1']);
    expect((await status()).snapshot).toMatchObject({ cycle: fresh.cycle, stale: false, lastError: null });
    const publishedOrigin = (await status()).queues[0]!.forecasts[0]!.origin;

    prometheus.handler = reply;
    for (let elapsed = 15; elapsed <= 45; elapsed += 15) {
      clock.advance(15);
      await expect(service.reconciler.runCycle()).rejects.toThrow(/^every read of this cycle failed \(\d+ (query_failed|not_finite)[^)]*\); first: /);
    }
    const after = await status();
    expect(after.snapshot).toMatchObject({ cycle: fresh.cycle, stale: true, consecutiveFailures: 3, lastError: expect.stringMatching(/every read of this cycle failed/) });
    expect(after.queues[0]!.forecasts[0]!.origin).toBe(publishedOrigin);
    expect(await metric('foresight_source_up ')).toEqual(['foresight_source_up 0']);
    expect(await metric('foresight_snapshot_stale ')).toEqual(['foresight_snapshot_stale 1']);

    // Recovery: the first good answer makes the snapshot fresh again.
    prometheus.handler = healthy;
    clock.advance(15);
    const recovered = await service.reconciler.runCycle();
    expect(recovered.cycle).toBe(fresh.cycle + 1);
    expect((await status()).snapshot).toMatchObject({ stale: false, lastError: null, consecutiveFailures: 0 });
  });

  test('some queries failing is a partial failure: the cycle publishes, and the failing input is reported', async () => {
    prometheus.handler = (request) => (request.params.get('query')?.includes('depth') === true ? apiError(500, 'internal', 'shard down') : healthy(request));
    clock.advance(15);
    const snapshot = await service.reconciler.runCycle();
    expect(snapshot.inputs.map((v) => v.key)).toEqual(['system/cpu_percent']);
    const view = await status();
    expect(view.snapshot).toMatchObject({ cycle: snapshot.cycle, stale: false, lastError: null });
    expect(view.problems.map((p) => `${p.inputKey}:${p.reason}`).sort()).toEqual(['queue/orders/depth:query_failed', 'queue/orders/depth:query_failed']);
    expect(await metric('foresight_source_up ')).toEqual(['foresight_source_up 1']);
    expect((await metric('foresight_source_input_up{')).sort()).toEqual(['foresight_source_input_up{input="queue/orders/depth"} 0', 'foresight_source_input_up{input="system/cpu_percent"} 1']);
  });

  test('an answer larger than source.prometheus.maxResponseBytes (1 MiB here) is refused as query_failed, not buffered', async () => {
    // 50 MB of well-formed JSON, serialised once and cheaply: blocking this process (client and fake
    // share it) for seconds would let the fake's idle keep-alive sockets expire under the client.
    const huge: Reply = { body: JSON.stringify(vector(startMs / 1000, [{ labels: { pod: 'x'.repeat(50_000_000) }, value: '1' }]).body) };
    expect((huge.body as string).length).toBeGreaterThan(50_000_000);
    prometheus.handler = (request) => (request.params.get('query')?.includes('depth') === true ? huge : healthy(request));
    clock.advance(15);
    const snapshot = await service.reconciler.runCycle();
    expect(snapshot.inputs.map((v) => v.key)).toEqual(['system/cpu_percent']);
    const problems = snapshot.problems.filter((p) => p.inputKey === 'queue/orders/depth');
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) {
      expect(problem).toMatchObject({
        reason: 'query_failed',
        message: expect.stringMatching(/^the answer is larger than source\.prometheus\.maxResponseBytes and was refused \(maxContentLength size of 1048576 exceeded\)/),
      });
    }
  });
});
