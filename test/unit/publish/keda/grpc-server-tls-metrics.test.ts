/**
 * The KEDA gRPC server reports its certificates: the expiry gauges follow what the port serves at
 * start and after each reload, a refused reload is counted and leaves the previous expiry (still
 * served), and a plaintext port exports nothing. The server binds 127.0.0.1; reloads are called
 * directly (the reload timer runs on manual timers and never fires).
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SnapshotStore } from '../../../../src/engine/index.js';
import { createKedaGrpcServer, createTlsMetrics, type KedaGrpcServer } from '../../../../src/publish/index.js';
import { ManualClock } from '../../../support/manual-clock.js';
import { ManualTimers } from '../../../support/manual-timers.js';
import { configFromYaml } from '../../../support/service.js';
import { expiries, reloadCounts, type Timed, timedIssuer } from '../tls-samples.js';

const hour = 3600;

/** Unix seconds of notAfter of the certificate the port presents to a new connection. */
function servedExpirySeconds(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
      const validTo = socket.getPeerCertificate().valid_to;
      socket.destroy();
      resolve(Date.parse(validTo) / 1000);
    });
    socket.once('error', reject);
  });
}

/** Replaces a file whole, by rename, as the kubelet updates a Secret volume. */
function writeAtomically(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

describe('KEDA gRPC server: TLS certificate metrics', () => {
  const issue = timedIssuer();
  const ca = issue.ca('keda-test-ca', 12 * hour);
  const olderCa = issue.ca('keda-test-ca-old', 5 * hour);
  let dir: string;
  let registry: Registry;
  let server: KedaGrpcServer | undefined;
  const file = (name: string) => join(dir, name);

  const start = async (tls: string): Promise<number> => {
    const clock = new ManualClock(Date.now());
    const config = configFromYaml(`queues: [{ name: orders, threshold: 100 }]\nkeda: { grpc: { host: 127.0.0.1, port: 0, tls: ${tls} } }`);
    server = createKedaGrpcServer({
      store: new SnapshotStore({ historyRetentionSeconds: 60 }),
      clock,
      config: () => config,
      logger: pino({ level: 'silent' }),
      tlsMetrics: createTlsMetrics(registry),
      timers: new ManualTimers(clock),
    });
    return server.start();
  };
  const writePair = (serving: Timed) => {
    writeAtomically(file('tls.key'), serving.keyPem);
    writeAtomically(file('tls.crt'), serving.certPem + ca.certPem);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'foresight-keda-tls-metrics-'));
    registry = new Registry();
    server = undefined;
  });
  afterEach(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a plaintext port exports no certificate and no reload series', async () => {
    await start('{}');
    expect(await server!.reload()).toBe(false);
    expect(await expiries(registry)).toEqual({});
    expect(await reloadCounts(registry)).toEqual({});
  });

  test('mutual TLS: the served leaf (not the CA of its chain) and the earliest client CA are exported at start', async () => {
    const serving = issue.serving(ca, 2 * hour);
    writePair(serving);
    writeAtomically(file('client-ca.crt'), ca.certPem + olderCa.certPem);
    const port = await start(`{ certFile: "${file('tls.crt')}", keyFile: "${file('tls.key')}", clientCAFile: "${file('client-ca.crt')}" }`);
    expect(await expiries(registry)).toEqual({ 'keda_grpc/client_ca': olderCa.expiresAtSeconds, 'keda_grpc/serving': serving.expiresAtSeconds });
    expect(await servedExpirySeconds(port)).toBe(serving.expiresAtSeconds);
    expect(await reloadCounts(registry)).toEqual({ 'keda_grpc/changed': 0, 'keda_grpc/failed': 0, 'keda_grpc/unchanged': 0 });
  });

  test('the gauge follows a renewed certificate; a refused reload is counted and keeps the expiry still served', async () => {
    const first = issue.serving(ca, 2 * hour);
    const renewed = issue.serving(ca, 3 * hour);
    writePair(first);
    const port = await start(`{ certFile: "${file('tls.crt')}", keyFile: "${file('tls.key')}", reloadInterval: 1h }`);
    expect(await expiries(registry)).toEqual({ 'keda_grpc/serving': first.expiresAtSeconds });

    expect(await server!.reload()).toBe(false);
    writePair(renewed);
    expect(await server!.reload()).toBe(true);
    expect(await expiries(registry)).toEqual({ 'keda_grpc/serving': renewed.expiresAtSeconds });
    expect(await servedExpirySeconds(port)).toBe(renewed.expiresAtSeconds);

    // Half a rotation: a new certificate with the old key is refused; the renewed one keeps serving.
    writeAtomically(file('tls.crt'), issue.serving(ca, 4 * hour).certPem);
    expect(await server!.reload()).toBe(false);
    expect(await expiries(registry)).toEqual({ 'keda_grpc/serving': renewed.expiresAtSeconds });
    expect(await servedExpirySeconds(port)).toBe(renewed.expiresAtSeconds);
    expect(await reloadCounts(registry)).toEqual({ 'keda_grpc/changed': 1, 'keda_grpc/failed': 1, 'keda_grpc/unchanged': 1 });

    await server!.stop();
    server = undefined;
    expect(await expiries(registry)).toEqual({});
  });
});
