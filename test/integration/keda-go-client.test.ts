/**
 * The KEDA external scaler against a Go client built the way KEDA's own is (tools/keda-client:
 * grpc-go with KEDA's TLS configuration, dial options and calls), over plaintext, TLS and mutual
 * TLS. The grpc-js tests in keda-grpc.test.ts cannot catch what only Go's crypto/tls and grpc-go
 * do: ALPN "h2" negotiation, hostname checks against the SANs only (never the Common Name), the
 * TLS 1.2 floor, and how a client certificate is offered.
 *
 * The client is built once per source change from Debian's Go packages (tools/keda-client/build.sh)
 * into .cache/, and runs as a child process; it must be spawned asynchronously, because the server
 * it calls runs in this very process.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { SnapshotStore } from '../../src/engine/index.js';
import { type CertificateAndKey, createCertificate, createKedaGrpcServer, externalScalerProtoPath, type KedaGrpcServer } from '../../src/publish/index.js';
import { isCi, requireBinaries } from '../support/binaries.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
import { configFromYaml } from '../support/service.js';
import { fixtureSnapshot } from '../unit/publish/keda/snapshot-fixture.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const toolDir = join(repoRoot, 'tools', 'keda-client');

/**
 * Builds keda-client unless a binary of the same sources exists, and returns its path. The binary
 * is keyed by a hash of everything that goes into it, so a stale one is never used; the Go build
 * cache is the one helm-lite uses.
 */
function buildKedaClient(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [join(toolDir, 'main.go'), join(toolDir, 'build.sh'), externalScalerProtoPath]) hash.update(readFileSync(file));
  const cacheDir = join(repoRoot, '.cache', 'keda-client');
  const key = hash.digest('hex').slice(0, 16);
  const binary = join(cacheDir, key, 'keda-client');
  if (existsSync(binary)) return Promise.resolve(binary);
  // Binaries of older sources are never used again.
  if (existsSync(cacheDir)) for (const old of readdirSync(cacheDir)) rmSync(join(cacheDir, old), { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    execFile(
      // Through bash, so a checkout that lost the executable bit still builds.
      'bash',
      [join(toolDir, 'build.sh'), binary],
      { cwd: repoRoot, env: { ...process.env, GOCACHE: join(repoRoot, '.cache', 'go-build') }, encoding: 'utf8', timeout: 170_000 },
      (error, _stdout, stderr) => {
        if (error === null) resolve(binary);
        else reject(new Error(`building tools/keda-client failed (${error.message}):\n${stderr}`));
      },
    );
  });
}

/** A call's failure as keda-client prints it: the gRPC code name and message. */
interface CallError {
  readonly error: { readonly code: string; readonly message: string };
}

/** keda-client's JSON output. */
interface ClientOutput {
  readonly connection: { readonly security: string; readonly version?: string; readonly alpn?: string };
  readonly getMetricSpec: { readonly metricSpecs: readonly { metricName: string; targetSize: number; targetSizeFloat: number }[] } | CallError;
  readonly getMetrics: { readonly metricValues: readonly { metricName: string; metricValue: number; metricValueFloat: number }[] } | CallError;
  readonly isActive: { readonly result: boolean } | CallError;
  readonly streamIsActive?: { readonly result: boolean } | CallError;
}

/** One run of the client: its exit status and parsed output. */
interface ClientRun {
  readonly status: number;
  readonly output: ClientOutput;
  readonly stderr: string;
}

/** A CA with a serving certificate and a client certificate it signed. */
interface TestPki {
  readonly ca: CertificateAndKey;
  readonly serving: CertificateAndKey;
  readonly client: CertificateAndKey;
}

function issuePki(name: string, servingName: { readonly commonName: string; readonly hosts: readonly string[] }): TestPki {
  // Go checks validity against the wall clock.
  const notBeforeMs = Date.now() - 3_600_000;
  const ca = createCertificate({ subject: { commonName: `${name}-ca` }, usage: 'ca', notBeforeMs, validForSeconds: 86_400 });
  const serving = createCertificate({ subject: { commonName: servingName.commonName }, usage: 'server', hosts: servingName.hosts, notBeforeMs, validForSeconds: 86_400 }, ca);
  const client = createCertificate({ subject: { commonName: 'keda-operator' }, usage: 'client', notBeforeMs, validForSeconds: 86_400 }, ca);
  return { ca, serving, client };
}

const metadata = ['-metadata', 'queue=orders', '-metadata', 'quantile=0.9', '-metadata', 'targetValue=100', '-metadata', 'activationThreshold=20'];
/** What every successful run answers for the snapshot the tests publish (orders: 15m p90 of 300.4). */
const served = {
  getMetricSpec: { metricSpecs: [{ metricName: 'foresight-orders-15m-p90', targetSize: 100, targetSizeFloat: 100 }] },
  getMetrics: { metricValues: [{ metricName: 'foresight-orders-15m-p90', metricValue: 300, metricValueFloat: 300.4 }] },
  isActive: { result: true },
  streamIsActive: { result: true },
};

describe.skipIf(!requireBinaries('go', 'protoc', 'protoc-gen-go', 'protoc-gen-go-grpc'))('KEDA external scaler called by a Go client built like KEDA (tools/keda-client)', () => {
  let binary: string;
  let dir: string;
  let server: KedaGrpcServer | undefined;
  // Serving certificate for "localhost" only (no IP SAN), with another name as Common Name.
  let pki: TestPki;
  // An unrelated CA, with its own client certificate.
  let foreign: TestPki;

  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  /** Runs keda-client against the port with the given options (the trigger metadata is always the same). */
  const run = (address: string, ...options: string[]): Promise<ClientRun> =>
    new Promise((resolve, reject) => {
      execFile(
        binary,
        ['-address', address, '-name', 'worker', '-namespace', 'shop', ...metadata, '-stream', '-timeout', '10s', ...options],
        { encoding: 'utf8', timeout: 120_000 },
        (error, stdout, stderr) => {
          const status = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          if (status !== 0 && status !== 1) {
            reject(new Error(`keda-client exited with ${String(error?.code ?? error?.signal)}: ${stderr}`));
            return;
          }
          resolve({ status, output: JSON.parse(stdout) as ClientOutput, stderr });
        },
      );
    });

  /** Starts a server (TLS when `tls` is given) with a snapshot in which orders' 15m p90 is 300.4. */
  const start = async (tls?: { readonly serving: CertificateAndKey; readonly clientCA?: CertificateAndKey }): Promise<number> => {
    const tlsYaml =
      tls === undefined
        ? ''
        : `, tls: { certFile: "${file('tls.crt', tls.serving.certPem)}", keyFile: "${file('tls.key', tls.serving.keyPem)}"${tls.clientCA === undefined ? '' : `, clientCAFile: "${file('client-ca.crt', tls.clientCA.certPem)}"`} }`;
    const config = configFromYaml(`queues: [{ name: orders, threshold: 100 }]\nkeda: { grpc: { host: 127.0.0.1, port: 0, pushCheckInterval: 1s${tlsYaml} } }`);
    const clock = new ManualClock(Date.now());
    const store = new SnapshotStore({ historyRetentionSeconds: 3600 });
    store.publish(fixtureSnapshot(1, clock.nowMs(), [{ queue: 'orders', depth: 5, forecasts: [{ horizonSeconds: 900, p10: 40, value: 150, p90: 300.4 }] }]));
    server = createKedaGrpcServer({ store, clock, config: () => config, logger: pino({ level: 'silent' }), timers: new ManualTimers(clock) });
    return server.start();
  };

  /**
   * How grpc-go words "the server hung up": which one depends on whether the close arrives while it
   * reads ("connection closed", "EOF") or writes ("use of closed network connection", "broken
   * pipe", "reset"): all of them seen on this machine for the same refusal.
   */
  const serverHungUp = /connection closed|use of closed network connection|broken pipe|connection reset by peer|EOF/;

  /** Expects every call of a run to have failed with UNAVAILABLE (a refused connection or handshake). */
  const expectRefused = (run: ClientRun, message: RegExp): void => {
    expect(run.status).toBe(1);
    for (const call of [run.output.getMetricSpec, run.output.getMetrics, run.output.isActive, run.output.streamIsActive]) {
      expect(call).toMatchObject({ error: { code: 'Unavailable' } });
    }
    expect((run.output.getMetricSpec as CallError).error.message).toMatch(message);
  };

  beforeAll(
    async () => {
      // A cold Go build takes 20-30 s on two shared cores; later runs reuse .cache/.
      binary = await buildKedaClient();
      dir = mkdtempSync(join(tmpdir(), 'foresight-keda-go-client-'));
      pki = issuePki('a', { commonName: 'foresight.monitoring.svc', hosts: ['localhost'] });
      foreign = issuePki('b', { commonName: 'foresight', hosts: ['localhost'] });
    },
    isCi() ? 180_000 : 120_000,
  );

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('plaintext: every call answers, GetMetrics with the published forecast', async () => {
    const port = await start();
    const result = await run(`127.0.0.1:${port}`);
    expect(result.output).toEqual({ ...served, connection: { security: 'plaintext' } });
    expect(result.status).toBe(0);
  });

  test('plaintext: a server problem arrives as its gRPC code and message', async () => {
    const port = await start();
    const result = await run(`127.0.0.1:${port}`, '-metadata', 'queue=nope');
    expect(result.status).toBe(1);
    expect(result.output.getMetricSpec).toMatchObject({ error: { code: 'NotFound', message: expect.stringContaining('"nope"') as unknown } });
    expect(result.output.streamIsActive).toMatchObject({ error: { code: 'NotFound' } });
  });

  test('TLS: trusting the CA (caCert) and dialling a name in the SANs works over TLS 1.3 with ALPN h2', async () => {
    const port = await start({ serving: pki.serving });
    const result = await run(`localhost:${port}`, '-ca-cert', file('ca.crt', pki.ca.certPem));
    expect(result.output).toEqual({ ...served, connection: { security: 'tls', version: 'TLS 1.3', alpn: 'h2' } });
    expect(result.status).toBe(0);
  });

  test('TLS: the name dialled must be in the SANs; the Common Name does not count', async () => {
    const port = await start({ serving: pki.serving });
    const ca = file('ca.crt', pki.ca.certPem);
    // 127.0.0.1 is not among the certificate's SANs (only "localhost" is).
    expectRefused(await run(`127.0.0.1:${port}`, '-ca-cert', ca), /doesn't contain any IP SANs/);
    await server?.stop();
    // A certificate whose Common Name is "localhost" but whose SANs name another host.
    const cnOnly = createCertificate(
      { subject: { commonName: 'localhost' }, usage: 'server', hosts: ['foresight.monitoring.svc'], notBeforeMs: Date.now() - 3_600_000, validForSeconds: 86_400 },
      pki.ca,
    );
    const cnPort = await start({ serving: cnOnly });
    expectRefused(await run(`localhost:${cnPort}`, '-ca-cert', ca), /valid for foresight\.monitoring\.svc, not localhost/);
  });

  test('TLS: a server certificate from a CA the client does not trust is refused', async () => {
    const port = await start({ serving: pki.serving });
    expectRefused(await run(`localhost:${port}`, '-ca-cert', file('other-ca.crt', foreign.ca.certPem)), /certificate signed by unknown authority/);
    // enableTLS alone trusts only the system roots.
    expectRefused(await run(`localhost:${port}`, '-enable-tls'), /certificate signed by unknown authority/);
  });

  test('TLS: a plaintext client is refused by the TLS server', async () => {
    const port = await start({ serving: pki.serving });
    // The server reads the HTTP/2 preface as a broken ClientHello and hangs up.
    expectRefused(await run(`localhost:${port}`), serverHungUp);
    // unsafeSsl alone does not switch TLS on (as in KEDA): still plaintext, still refused.
    expectRefused(await run(`localhost:${port}`, '-unsafe-ssl'), serverHungUp);
  });

  test('TLS: unsafeSsl with enableTLS accepts a certificate from an unknown CA and a name not in the SANs', async () => {
    const port = await start({ serving: pki.serving });
    const tls = { security: 'tls', version: 'TLS 1.3', alpn: 'h2' };
    expect((await run(`localhost:${port}`, '-enable-tls', '-unsafe-ssl')).output).toEqual({ ...served, connection: tls });
    expect((await run(`127.0.0.1:${port}`, '-unsafe-ssl', '-ca-cert', file('other-ca.crt', foreign.ca.certPem))).output).toEqual({ ...served, connection: tls });
  });

  test('mutual TLS: refused without a client certificate and with one from another CA, served with the right one', async () => {
    const port = await start({ serving: pki.serving, clientCA: pki.ca });
    const ca = ['-ca-cert', file('ca.crt', pki.ca.certPem)];
    const right = await run(`localhost:${port}`, ...ca, '-tls-client-cert', file('client.crt', pki.client.certPem), '-tls-client-key', file('client.key', pki.client.keyPem));
    expect(right.output).toEqual({ ...served, connection: { security: 'tls', version: 'TLS 1.3', alpn: 'h2' } });
    expect(right.status).toBe(0);
    // In TLS 1.3 the client finishes its side of the handshake before the server checks the client
    // certificate, so grpc-go sees the server close the connection rather than a handshake error.
    expectRefused(await run(`localhost:${port}`, ...ca), serverHungUp);
    expectRefused(
      await run(`localhost:${port}`, ...ca, '-tls-client-cert', file('foreign-client.crt', foreign.client.certPem), '-tls-client-key', file('foreign-client.key', foreign.client.keyPem)),
      serverHungUp,
    );
  });
});
