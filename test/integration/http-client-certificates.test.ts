/**
 * Issue 10 item 4, the client-certificate option, against the real service: the HTTP port serves
 * TLS (server.tls) and asks for a client certificate that verifies by signature against
 * server.tls.clientCAFile alone, the external-metrics API's verifier. The certificates are made at
 * test time: the chains by openssl (test/support/trust-pki.ts: the issue's forged chain, look-alike
 * CAs), the serving certificate by node:crypto. Prometheus is a fake over HTTP; clock and timers
 * are manual, and every wait is on an answer, never on time.
 *
 * The HTTP port's client CA here is the front-proxy CA of trust-pki (standing for the CA that signs
 * Prometheus' scrape certificate), so the genuine certificate is `genuineProxy` (CN
 * front-proxy-client) and the certificates of trust-pki's client CA are "another CA".
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Service } from '../../src/app/index.js';
import type { Config } from '../../src/config/index.js';
import { requireBinaries } from '../support/binaries.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
import { buildService, configFromYaml } from '../support/service.js';
import { makeTrustPki, type TrustPki } from '../support/trust-pki.js';
import { healthy, twoInputConfigYaml } from '../support/two-input-prometheus.js';
import { type Answer, call, makeTestPki, type TestPki } from '../unit/api/external-metrics-harness.js';
import { type FakePrometheus, startFakePrometheus } from '../unit/source/fake-prometheus.js';

const haveOpenssl = requireBinaries('openssl');

let prometheus: FakePrometheus;
let serving: TestPki;
let trust: TrustPki;
let dir: string;
let clientCAFile: string;
let tokenFile: string;
beforeAll(async () => {
  prometheus = await startFakePrometheus(healthy);
  serving = await makeTestPki();
  dir = await mkdtemp(join(tmpdir(), 'foresight-http-tls-'));
  clientCAFile = join(dir, 'client-ca.crt');
  tokenFile = join(dir, 'token');
  await writeFile(tokenFile, 's3cret\n');
  if (haveOpenssl) trust = makeTrustPki();
});
afterAll(async () => {
  await prometheus?.close();
  await serving?.dispose();
  trust?.dispose();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The `server` section: HTTPS on 127.0.0.1 with the test serving certificate, plus `extra` keys of server.tls. */
function serverYaml(tls: string, more = ''): string {
  return `{ host: 127.0.0.1, port: 0, evaluatePerMinute: 600, tls: { certFile: ${serving.serving.certFile}, keyFile: ${serving.serving.keyFile}${tls} }${more} }`;
}

describe.skipIf(!haveOpenssl)('the HTTP port with client certificates (server.tls.clientCAFile)', () => {
  let service: Service | undefined;
  let config: Config;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  const start = async (yaml: string): Promise<Service> => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
    config = configFromYaml(twoInputConfigYaml({ prometheusUrl: prometheus.url, server: yaml }));
    const started = buildService(config, { clock, timers: new ManualTimers(clock), config: () => config });
    service = started;
    await started.start();
    await started.reconciler.runCycle();
    return started;
  };
  const as = (chain: { certPem: string; keyPem: string } | undefined, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> =>
    call(service!.url, path, { ca: serving.servingCA.certPem, ...(chain === undefined ? {} : { cert: chain }), ...options });
  /** The HTTP status and the Status body's code, reason and message. */
  const outcome = (answer: Answer) => {
    const body = answer.status === 200 ? undefined : answer.json<{ kind: string; code: number; reason: string; message: string }>();
    return body === undefined ? { status: answer.status } : { status: answer.status, kind: body.kind, code: body.code, reason: body.reason, message: body.message };
  };
  const unauthorized = (message: string | RegExp) => ({
    status: 401,
    kind: 'Status',
    code: 401,
    reason: 'Unauthorized',
    message: typeof message === 'string' ? message : expect.stringMatching(message),
  });

  test('verifies the leaf by signature against the client CA alone: no certificate, another CA and forged chains get 401, a CN not allowed 403, the genuine certificate 200; probes need none', async () => {
    await writeFile(clientCAFile, trust.proxyCAs[0]!.certPem);
    await start(serverYaml(`, clientCAFile: ${clientCAFile}, allowedNames: [front-proxy-client]`));
    expect(service!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const genuine = trust.chains.genuineProxy;

    // The genuine certificate reads the status, triggers a cycle, and scrapes /metrics.
    expect((await as(genuine, '/scaling/status')).status).toBe(200);
    const evaluated = await as(genuine, '/scaling/evaluate', { method: 'POST' });
    expect(evaluated.status).toBe(200);
    expect(evaluated.json<{ snapshot: { cycle: number } }>().snapshot.cycle).toBeGreaterThan(1);
    expect((await as(genuine, '/metrics')).body).toMatch(/foresight_tls_certificate_expiry_timestamp_seconds\{server="http",kind="client_ca"\} \d+/);
    // Through an intermediate the client sends along: still a path of signatures to the pool.
    expect((await as(trust.chains.genuineProxyViaIntermediate, '/scaling/status')).status).toBe(200);

    // Probes: the kubelet presents no certificate.
    for (const path of ['/healthz', '/livez', '/readyz']) expect((await as(undefined, path)).status, path).toBe(200);

    const cyclesBefore = prometheus.requests.length;
    expect(outcome(await as(undefined, '/scaling/status'))).toEqual(
      unauthorized('Unauthorized: no client certificate was presented; this port asks for one signed by a CA of server.tls.clientCAFile'),
    );
    expect(outcome(await as(undefined, '/scaling/evaluate', { method: 'POST' }))).toEqual(unauthorized(/^Unauthorized: no client certificate/));
    // Another CA: trust-pki's client CA, and a CA named like the trusted one (node:crypto made).
    expect(outcome(await as(trust.chains.alice, '/scaling/status'))).toEqual(
      unauthorized('Unauthorized: the client certificate "CN=alice, O=team-a" is not signed by a CA of server.tls.clientCAFile'),
    );
    expect(outcome(await as(serving.rogue, '/metrics'))).toEqual(
      unauthorized(/^Unauthorized: the client certificate "O=system:masters, CN=front-proxy-client" is not signed by a CA of server\.tls\.clientCAFile$/),
    );
    // The issue-10 chain: a leaf of another CA, a home-made intermediate carrying the trusted CA's
    // key identifier, and a copy of the trusted CA; named front-proxy-client too. None vouches for itself.
    for (const name of ['forgedIssueChain', 'forgedIssueChainNamedFrontProxyClient', 'crossSignedByLookalikeRoot', 'homemadeIntermediateWithProxySki', 'lookalikeProxyCaAsLeaf'] as const) {
      expect(outcome(await as(trust.chains[name], '/scaling/evaluate', { method: 'POST' })), name).toEqual(unauthorized(/is not signed by a CA of server\.tls\.clientCAFile$/));
    }
    // Signed by the pool, but not a valid client certificate.
    expect(outcome(await as(trust.chains.expiredIntermediate, '/scaling/status'))).toEqual(unauthorized(/^Unauthorized: the client certificate is refused: "CN=expired-intermediate" expired at/));
    expect(outcome(await as(trust.chains.proxyCaAsLeaf, '/scaling/status'))).toEqual(unauthorized(/is a CA certificate/));
    // Refused requests started no cycle.
    expect(prometheus.requests.length).toBe(cyclesBefore);

    // Signed by the pool with a CN not allowed: 403; allowedNames applies at once on reload.
    expect(outcome(await as(trust.chains.proxyWrongName, '/scaling/status'))).toEqual({
      status: 403,
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: 'Forbidden: the client certificate CN "someone-else" is not one of server.tls.allowedNames (front-proxy-client)',
    });
    config = configFromYaml(twoInputConfigYaml({ prometheusUrl: prometheus.url, server: serverYaml(`, clientCAFile: ${clientCAFile}, allowedNames: [front-proxy-client, someone-else]`) }));
    expect((await as(trust.chains.proxyWrongName, '/scaling/status')).status).toBe(200);
  });

  test('with a bearer token too, a request needs both', async () => {
    await writeFile(clientCAFile, trust.proxyCAs[0]!.certPem);
    await start(serverYaml(`, clientCAFile: ${clientCAFile}`, `, auth: { bearerTokenFile: ${tokenFile}, scope: all }`));
    const bearer = { authorization: 'Bearer s3cret' };
    expect(outcome(await as(trust.chains.genuineProxy, '/scaling/status'))).toEqual(unauthorized(/^Unauthorized: this route needs "Authorization: Bearer <token>"/));
    expect(outcome(await as(undefined, '/scaling/status', { headers: bearer }))).toEqual(unauthorized(/^Unauthorized: no client certificate/));
    expect(outcome(await as(trust.chains.forgedIssueChain, '/scaling/status', { headers: bearer }))).toEqual(unauthorized(/is not signed by a CA/));
    expect((await as(trust.chains.genuineProxy, '/scaling/status', { headers: bearer })).status).toBe(200);
    expect((await as(undefined, '/readyz')).status).toBe(200);
  });

  test('a renewed client CA applies to new connections; a broken one is refused and the previous keeps serving', async () => {
    await writeFile(clientCAFile, trust.proxyCAs[0]!.certPem);
    await start(serverYaml(`, clientCAFile: ${clientCAFile}`));
    expect((await as(trust.chains.genuineProxy, '/scaling/status')).status).toBe(200);
    expect(await service!.reloadHttpCertificates()).toBe(false);

    await writeFile(clientCAFile, 'not a certificate\n');
    expect(await service!.reloadHttpCertificates()).toBe(false);
    expect((await as(trust.chains.genuineProxy, '/scaling/status')).status).toBe(200);

    await writeFile(clientCAFile, trust.clientCA.certPem);
    expect(await service!.reloadHttpCertificates()).toBe(true);
    expect((await as(trust.chains.alice, '/scaling/status')).status).toBe(200);
    expect((await as(trust.chains.genuineProxy, '/scaling/status')).status).toBe(401);
    const metrics = (await as(trust.chains.alice, '/metrics')).body;
    expect(metrics).toMatch(/foresight_tls_reloads_total\{server="http",outcome="failed"\} 1/);
    expect(metrics).toMatch(/foresight_tls_reloads_total\{server="http",outcome="changed"\} 1/);
    const caExpiry = Date.parse(new X509Certificate(trust.clientCA.certPem).validTo) / 1000;
    expect(metrics).toContain(`foresight_tls_certificate_expiry_timestamp_seconds{server="http",kind="client_ca"} ${caExpiry}`);
  });

  test('TLS without a client CA serves anyone over HTTPS', async () => {
    await start(serverYaml(''));
    expect((await as(undefined, '/scaling/status')).status).toBe(200);
    expect((await as(trust.chains.alice, '/scaling/status')).status).toBe(200);
  });

  test('an unreadable client CA file stops the start, naming the key and the file', async () => {
    const missing = join(dir, 'missing-ca.crt');
    const failed = await start(serverYaml(`, clientCAFile: ${missing}`)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({ name: 'TlsFilesError', code: 'FORESIGHT_ERR_TLS_FILES', message: expect.stringContaining(`cannot read server.tls.clientCAFile ${missing}: ENOENT`) });
  });
});

describe('server.tls in the configuration', () => {
  test('defaults to plain HTTP', () => {
    expect(configFromYaml('{}').server.tls).toEqual({ allowedNames: [], reloadInterval: 30 });
  });

  test('refuses half a pair, a client CA without TLS and names without a client CA, naming the key', () => {
    expect(() => configFromYaml('server: { tls: { certFile: /a.crt } }')).toThrow(/server\.tls\.keyFile: set both tls\.certFile and tls\.keyFile/);
    expect(() => configFromYaml('server: { tls: { clientCAFile: /ca.crt } }')).toThrow(/server\.tls\.clientCAFile: needs tls\.certFile and tls\.keyFile/);
    expect(() => configFromYaml('server: { tls: { certFile: /a.crt, keyFile: /a.key, allowedNames: [prometheus] } }')).toThrow(/server\.tls\.allowedNames: needs tls\.clientCAFile/);
  });
});
