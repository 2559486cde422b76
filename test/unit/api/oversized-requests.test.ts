/**
 * What docs/external-metrics.md and docs/http-api.md promise for requests Node's HTTP parser
 * refuses before any handler runs, against the real servers: a URL that makes the request line and
 * headers exceed 16 KiB (Node's maxHeaderSize) gets 431 with a Kubernetes `Status` body, on the
 * external-metrics HTTPS port and on the HTTP port; a long selector under that limit still reaches
 * the route and gets its 400; a malformed request line gets 400 with a `Status` body.
 */
import { connect as connectTcp } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHttpListener, type ExternalMetricsServer, type HttpListener } from '../../../src/api/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { makeSnapshot, storeOf } from '../publish/external-metrics/snapshot-fixture.js';
import { call, configFromYaml, filesModeYaml, makeTestPki, startServer, type TestPki } from './external-metrics-harness.js';

const metricPath = '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth';

/** The parts of a Status body the doc promises. */
function statusOf(body: string): unknown {
  const parsed = JSON.parse(body) as { kind: string; code: number; reason: string; message: string };
  return { kind: parsed.kind, code: parsed.code, reason: parsed.reason, message: parsed.message };
}

describe('the external-metrics HTTPS port', () => {
  let pki: TestPki;
  let server: ExternalMetricsServer;
  beforeAll(async () => {
    pki = await makeTestPki();
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 10));
    const store = storeOf(makeSnapshot({ completedAtMs: Date.UTC(2026, 10, 2, 12, 0, 0), queues: [{ queue: 'orders', depth: 10, forecasts: { 900: [1, 2, 3] } }] }));
    server = await startServer({ config: configFromYaml(filesModeYaml(pki)), store, clock });
  });
  afterAll(async () => {
    await server?.stop();
    await pki?.dispose();
  });
  const get = (path: string) => call(server.url, path, { ca: pki.servingCA.certPem, cert: pki.alice });

  test('a URL over 16 KiB gets 431 RequestHeaderFieldsTooLarge with a Status body', async () => {
    const answer = await get(`${metricPath}?labelSelector=queue%3D${'a'.repeat(17 * 1024)}`);
    expect(answer.status).toBe(431);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(statusOf(answer.body)).toEqual({
      kind: 'Status',
      code: 431,
      reason: 'RequestHeaderFieldsTooLarge',
      message: 'the request line and headers are larger than 16384 bytes (a long URL counts: it is part of the request line)',
    });
  });

  test('a selector over 8 KiB in a URL under 16 KiB reaches the route: 400 BadRequest', async () => {
    const answer = await get(`${metricPath}?labelSelector=queue%3D${'a'.repeat(9 * 1024)}`);
    expect(answer.status).toBe(400);
    expect(statusOf(answer.body)).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest', message: expect.stringMatching(/label selector is \d+ characters long/) });
  });
});

describe('the HTTP port', () => {
  let listener: HttpListener;
  beforeAll(async () => {
    const config = configFromYaml('server: { host: 127.0.0.1, port: 0 }');
    listener = createHttpListener({
      app: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      },
      config: () => config,
      logger: pino({ level: 'silent' }),
    });
    await listener.start();
  });
  afterAll(async () => {
    await listener?.stop();
  });

  test('a URL over 16 KiB gets 431 with a Status body', async () => {
    const answer = await fetch(`${listener.url}/scaling/history?hours=${'1'.repeat(17 * 1024)}`);
    expect(answer.status).toBe(431);
    expect(statusOf(await answer.text())).toMatchObject({ kind: 'Status', code: 431, reason: 'RequestHeaderFieldsTooLarge' });
  });

  test('a malformed request line gets 400 with a Status body, and the connection is closed', async () => {
    const { port } = new URL(listener.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connectTcp(Number(port), '127.0.0.1', () => socket.write('GET /scaling/status HTTP/1.1 extra\r\nHost: x\r\n\r\n'));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(statusOf(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest', message: expect.stringMatching(/^malformed HTTP request \(HPE_/) });
  });
});
