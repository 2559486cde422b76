/**
 * Issue 10 item 4, against the real service (HTTP server listening on 127.0.0.1, real Prometheus
 * client, a fake Prometheus over HTTP that can hold its answers): concurrent POST /scaling/evaluate
 * join the one waiting cycle, cycles started by evaluate are rate limited, and the HTTP port can be
 * guarded by a bearer token. Clock and timers are manual; waits are on events, never on time.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Service } from '../../src/app/index.js';
import type { Config } from '../../src/config/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
import { buildService, configFromYaml } from '../support/service.js';
import { healthy, twoInputConfigYaml } from '../support/two-input-prometheus.js';
import { type FakePrometheus, startFakePrometheus } from '../unit/source/fake-prometheus.js';

// Queries are held while 500 requests arrive, which takes seconds on a busy machine: no query may time out meanwhile.
const yaml = (prometheusUrl: string, server: string) => twoInputConfigYaml({ prometheusUrl, server, timeout: '10m' });

let prometheus: FakePrometheus;
beforeAll(async () => {
  prometheus = await startFakePrometheus(healthy);
});
afterAll(async () => {
  await prometheus?.close();
});

describe('POST /scaling/evaluate under a flood', () => {
  let service: Service;
  let clock: ManualClock;
  afterEach(async () => {
    await service?.stop();
  });

  const evaluate = (headers: Record<string, string> = {}) => fetch(`${service.url}/scaling/evaluate`, { method: 'POST', headers });

  test('500 concurrent requests cost two cycles (the running one and the one they join), then the rate limit answers 429', async () => {
    clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
    service = buildService(configFromYaml(yaml(prometheus.url, '{ host: 127.0.0.1, port: 0, evaluatePerMinute: 6 }')), { clock, timers: new ManualTimers(clock) });
    await service.start();
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await service.reconciler.runCycle(); // after the scheduler's first cycle
    const sentBefore = prometheus.requests.length;
    const base = (await service.reconciler.runCycle()).cycle;
    const perCycle = prometheus.requests.length - sentBefore;
    expect(perCycle).toBeGreaterThan(0);

    // Hold Prometheus' answers, so that the first request's cycle is still running when the rest arrive.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstQuery!: () => void;
    const queried = new Promise<void>((resolve) => (firstQuery = resolve));
    prometheus.handler = async (request) => {
      firstQuery();
      await held;
      return healthy(request);
    };
    const flood = 500;
    let asked = 0;
    let allAsked!: () => void;
    const everyoneAsked = new Promise<void>((resolve) => (allAsked = resolve));
    const runCycle = service.reconciler.runCycle.bind(service.reconciler);
    vi.spyOn(service.reconciler, 'runCycle').mockImplementation(() => {
      if (++asked === flood) allAsked();
      return runCycle();
    });
    const before = prometheus.requests.length;
    const first = evaluate();
    await queried;
    const rest = Array.from({ length: flood - 1 }, () => evaluate());
    await everyoneAsked;
    expect(service.reconciler.cycleWaiting).toBe(true);
    prometheus.handler = healthy;
    release();
    const answers = await Promise.all([first, ...rest]);
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    const cycles = new Set(await Promise.all(answers.map(async (a) => ((await a.json()) as { snapshot: { cycle: number } }).snapshot.cycle)));
    expect([...cycles].sort()).toEqual([base + 1, base + 2]);
    expect(prometheus.requests.length - before).toBe(2 * perCycle);
    vi.restoreAllMocks();

    // Two of six tokens went to the flood; four more cycles may start this minute, then 429.
    for (let i = 0; i < 4; i++) expect((await evaluate()).status).toBe(200);
    const sent = prometheus.requests.length;
    const refused = await evaluate();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(await refused.json()).toMatchObject({
      kind: 'Status',
      code: 429,
      reason: 'TooManyRequests',
      message: expect.stringMatching(/at most 6 cycles per minute \(server\.evaluatePerMinute\); retry in 10 s/),
    });
    expect(prometheus.requests.length).toBe(sent); // a refused request sends no query
    clock.advance(10);
    expect((await evaluate()).status).toBe(200);
    expect((await evaluate()).status).toBe(429);
  });

  describe('a bearer token (server.auth.bearerTokenFile)', () => {
    let dir: string;
    let tokenFile: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'foresight-http-token-'));
      tokenFile = join(dir, 'token');
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test('guards POST /scaling/evaluate (scope evaluate), every route but the probes (scope all), and follows rotation', async () => {
      await writeFile(tokenFile, 's3cret-one\n');
      clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
      let config: Config = configFromYaml(yaml(prometheus.url, `{ host: 127.0.0.1, port: 0, evaluatePerMinute: 600, auth: { bearerTokenFile: ${tokenFile} } }`));
      service = buildService(config, { clock, timers: new ManualTimers(clock), config: () => config });
      await service.start();
      await service.reconciler.runCycle();

      const before = prometheus.requests.length;
      const anonymous = await evaluate();
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="foresight"');
      expect(await anonymous.json()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized', message: expect.stringContaining('Authorization: Bearer') });
      const wrong = await evaluate({ authorization: 'Bearer s3cret-two' });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toMatchObject({ message: expect.stringContaining('not the one configured') });
      expect(prometheus.requests.length).toBe(before);
      expect((await evaluate({ authorization: 'Bearer s3cret-one' })).status).toBe(200);
      expect((await fetch(`${service.url}/scaling/status`)).status).toBe(200);
      expect((await fetch(`${service.url}/metrics`)).status).toBe(200);

      // Rotation: the file is replaced, the old token stops working at once.
      await writeFile(tokenFile, 's3cret-two-longer\n');
      expect((await evaluate({ authorization: 'Bearer s3cret-one' })).status).toBe(401);
      expect((await evaluate({ authorization: 'Bearer s3cret-two-longer' })).status).toBe(200);

      config = configFromYaml(yaml(prometheus.url, `{ host: 127.0.0.1, port: 0, evaluatePerMinute: 600, auth: { bearerTokenFile: ${tokenFile}, scope: all } }`));
      for (const path of ['/scaling/status', '/metrics', '/', '/keda/metrics?queue=orders']) expect((await fetch(`${service.url}${path}`)).status, path).toBe(401);
      for (const path of ['/healthz', '/livez', '/readyz']) expect((await fetch(`${service.url}${path}`)).status, path).toBe(200);
      expect((await fetch(`${service.url}/metrics`, { headers: { authorization: 'Bearer s3cret-two-longer' } })).status).toBe(200);

      // A token file that cannot be read refuses every guarded request (503), never lets it through.
      await rm(tokenFile);
      const unreadable = await fetch(`${service.url}/metrics`, { headers: { authorization: 'Bearer s3cret-two-longer' } });
      expect(unreadable.status).toBe(503);
      expect(await unreadable.json()).toMatchObject({ kind: 'Status', code: 503, message: expect.stringContaining('cannot check bearer tokens') });
    });
  });
});
