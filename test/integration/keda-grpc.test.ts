/**
 * The KEDA external scaler over real gRPC: a @grpc/grpc-js client built from our .proto (loaded
 * independently of the server, with int64 decoded as strings to see the wire values) calls every
 * method on a server bound to 127.0.0.1. Time and the push checks run on a manual clock, so no
 * test waits for a timer. TLS and mutual TLS run with certificates from the project's own PKI code
 * (src/publish/pki), and the exposure rules with the namespaces a ScaledObjectRef carries.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type Logger, pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { SnapshotStore } from '../../src/engine/index.js';
import { type CertificateAndKey, createCertificate, createKedaGrpcServer, createKedaMetrics, externalScalerProtoPath, type KedaGrpcServer, TlsFilesError } from '../../src/publish/index.js';
import express from 'express';
import request from 'supertest';
import { buildKedaRouter } from '../../src/api/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
import { getFreePort } from '../support/ports.js';
import { buildService, configFromYaml } from '../support/service.js';
import { fixtureSnapshot } from '../unit/publish/keda/snapshot-fixture.js';

// The client's own view of the protocol: plain objects, int64 as decimal strings.
const clientDefinition = protoLoader.loadSync(externalScalerProtoPath, { keepCase: true, longs: String, defaults: true });
const service = clientDefinition['externalscaler.ExternalScaler'] as protoLoader.ServiceDefinition;
const ClientCtor = grpc.makeGenericClientConstructor(service as grpc.ServiceDefinition, 'ExternalScaler');

interface ScaledObjectRef {
  readonly name: string;
  readonly namespace: string;
  readonly scalerMetadata: Record<string, string>;
}

function method(name: string): protoLoader.MethodDefinition<object, object> {
  const m = service[name];
  if (m === undefined) throw new Error(`the proto has no method ${name}`);
  return m;
}

/** Calls a unary method; rejects with the grpc ServiceError. A deadline bounds calls that may never connect. */
function call<T>(client: grpc.Client, name: string, message: object): Promise<T> {
  const m = method(name);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, message, { deadline: Date.now() + 120_000 } /* only a bound on a hang */, (error, value) => {
      if (error !== null) reject(error);
      else resolve(value as T);
    });
  });
}

/** The status code a call ends with (OK when it succeeds). */
function codeOf(promise: Promise<unknown>): Promise<grpc.status> {
  return promise.then(
    () => grpc.status.OK,
    (e: unknown) => (e as grpc.ServiceError).code,
  );
}

/** The error a call ends with; fails the test when the call succeeds. */
async function failureOf(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as grpc.ServiceError,
  );
  if (error === undefined) throw new Error('the call succeeded, expected it to fail');
  return error;
}

/** An open StreamIsActive call with its messages queued, so a test can await them one by one. */
class ActivityStream {
  readonly #received: boolean[] = [];
  readonly #waiters: ((value: boolean) => void)[] = [];
  readonly ended: Promise<grpc.StatusObject>;
  readonly call: grpc.ClientReadableStream<{ result: boolean }>;

  constructor(client: grpc.Client, ref: ScaledObjectRef) {
    const m = method('StreamIsActive');
    this.call = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, ref) as grpc.ClientReadableStream<{ result: boolean }>;
    this.call.on('data', (message: { result: boolean }) => {
      const waiter = this.#waiters.shift();
      if (waiter === undefined) this.#received.push(message.result);
      else waiter(message.result);
    });
    this.ended = new Promise((resolve) => this.call.on('status', resolve));
    // Errors also arrive as a status; without a listener the 'error' event would throw.
    this.call.on('error', () => {});
  }

  next(): Promise<boolean> {
    const ready = this.#received.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Messages that arrived and were not taken yet. */
  get pending(): readonly boolean[] {
    return this.#received;
  }
}

const yaml = `
queues:
  - { name: orders, threshold: 100 }
  - { name: ml_inference, threshold: 50 }
forecast: { horizons: [15m, 1h] }
snapshot: { maxAge: 2m }
keda: { grpc: { host: 127.0.0.1, port: 0, pushCheckInterval: 1s } }
`;

const ref = (scalerMetadata: Record<string, string>): ScaledObjectRef => ({ name: 'worker', namespace: 'shop', scalerMetadata });

describe('KEDA external scaler (gRPC)', () => {
  let clock: ManualClock;
  let timers: ManualTimers;
  let store: SnapshotStore;
  let config: Config;
  let registry: Registry;
  let server: KedaGrpcServer;
  let client: grpc.Client;
  let port: number;
  let cycle = 0;

  /** Publishes a snapshot completed now, in which orders has this observed depth and 15m p90 forecast. */
  const publish = (depth: number, p90: number) => {
    cycle += 1;
    store.publish(
      fixtureSnapshot(cycle, clock.nowMs(), [
        {
          queue: 'orders',
          depth,
          forecasts: [
            { horizonSeconds: 900, p10: p90 / 4, value: p90 / 2, p90 },
            { horizonSeconds: 3600, p10: 0, value: 7.25, p90: 9 },
          ],
        },
        { queue: 'ml_inference', depth: 0, forecasts: [{ horizonSeconds: 900, p10: 0, value: 0, p90: 0 }] },
      ]),
    );
  };

  beforeEach(async () => {
    clock = new ManualClock();
    timers = new ManualTimers(clock);
    store = new SnapshotStore({ historyRetentionSeconds: 3600 });
    config = configFromYaml(yaml);
    registry = new Registry();
    cycle = 0;
    server = createKedaGrpcServer({ store, clock, config: () => config, logger: pino({ level: 'silent' }), metrics: createKedaMetrics(registry), timers });
    port = await server.start();
    client = new ClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await server.stop();
  });

  test('GetMetricSpec gives the metric name and the target in both fields', async () => {
    const response = await call(client, 'GetMetricSpec', ref({ queue: 'orders', horizon: '1h', quantile: '0.9', targetValue: '250.5' }));
    expect(response).toEqual({ metricSpecs: [{ metricName: 'foresight-orders-1h-p90', targetSize: '251', targetSizeFloat: 250.5 }] });
  });

  test('GetMetricSpec answers before the first cycle: the spec depends only on the trigger and the configuration', async () => {
    expect(store.latest()).toBeUndefined();
    const response = await call(client, 'GetMetricSpec', ref({ queue: 'orders', targetValue: '10', metricName: 'orders-backlog' }));
    expect(response).toEqual({ metricSpecs: [{ metricName: 'orders-backlog', targetSize: '10', targetSizeFloat: 10 }] });
  });

  test('GetMetrics gives the forecast at the trigger quantile and echoes the requested name', async () => {
    publish(40, 300.4);
    const p90 = await call(client, 'GetMetrics', { scaledObjectRef: ref({ queue: 'orders', quantile: '0.9' }), metricName: 'foresight-orders-15m-p90' });
    expect(p90).toEqual({ metricValues: [{ metricName: 'foresight-orders-15m-p90', metricValue: '300', metricValueFloat: 300.4 }] });
    const hour = await call(client, 'GetMetrics', { scaledObjectRef: ref({ queue: 'orders', horizon: '1h' }), metricName: 'whatever' });
    expect(hour).toEqual({ metricValues: [{ metricName: 'whatever', metricValue: '7', metricValueFloat: 7.25 }] });
  });

  test('IsActive follows the p90 forecast and the current depth against the activation threshold', async () => {
    const trigger = ref({ queue: 'orders', activationThreshold: '20' });
    publish(0, 10);
    expect(await call(client, 'IsActive', trigger)).toEqual({ result: false });
    publish(0, 25);
    expect(await call(client, 'IsActive', trigger)).toEqual({ result: true });
    publish(21, 0);
    expect(await call(client, 'IsActive', trigger)).toEqual({ result: true });
  });

  const failures: readonly { name: string; method: string; message: () => object; code: grpc.status; details: RegExp }[] = [
    {
      name: 'a misspelt metadata key',
      method: 'IsActive',
      message: () => ref({ queue: 'orders', quantil: '0.9' }),
      code: grpc.status.INVALID_ARGUMENT,
      details: /unknown trigger metadata key "quantil".*\(ScaledObject shop\/worker\)$/,
    },
    { name: 'a missing target', method: 'GetMetricSpec', message: () => ref({ queue: 'orders' }), code: grpc.status.INVALID_ARGUMENT, details: /metadata.targetValue is required/ },
    { name: 'an unknown queue', method: 'GetMetricSpec', message: () => ref({ queue: 'payments', targetValue: '1' }), code: grpc.status.NOT_FOUND, details: /"payments" is not a configured queue/ },
    {
      name: 'an unknown queue',
      method: 'GetMetrics',
      message: () => ({ scaledObjectRef: ref({ queue: 'payments' }), metricName: 'm' }),
      code: grpc.status.NOT_FOUND,
      details: /"payments" is not a configured queue/,
    },
    { name: 'a request without a ScaledObjectRef', method: 'GetMetrics', message: () => ({ metricName: 'm' }), code: grpc.status.INVALID_ARGUMENT, details: /needs a scaledObjectRef/ },
  ];
  for (const tc of failures) {
    test(`${tc.method} refuses ${tc.name} with ${grpc.status[tc.code]}`, async () => {
      publish(0, 0);
      const error = await call(client, tc.method, tc.message()).then(
        () => undefined,
        (e: unknown) => e as grpc.ServiceError,
      );
      expect(error?.code).toBe(tc.code);
      expect(error?.details).toMatch(tc.details);
    });
  }

  test('every data call is UNAVAILABLE before the first cycle and once the snapshot is older than snapshot.maxAge', async () => {
    const trigger = ref({ queue: 'orders' });
    expect(await codeOf(call(client, 'IsActive', trigger))).toBe(grpc.status.UNAVAILABLE);
    publish(0, 50);
    clock.advance(120);
    expect(await codeOf(call(client, 'GetMetrics', { scaledObjectRef: trigger, metricName: '' }))).toBe(grpc.status.OK);
    clock.advance(1);
    expect(await codeOf(call(client, 'GetMetrics', { scaledObjectRef: trigger, metricName: '' }))).toBe(grpc.status.UNAVAILABLE);
    expect(await codeOf(call(client, 'IsActive', trigger))).toBe(grpc.status.UNAVAILABLE);
  });

  test('StreamIsActive (external-push) sends the current verdict, then a message on every change', async () => {
    publish(0, 5);
    const stream = new ActivityStream(client, ref({ queue: 'orders', activationThreshold: '30' }));
    expect(await stream.next()).toBe(false);

    // The forecast rises above the threshold while the queue is still empty: the workload is woken.
    publish(0, 80);
    timers.advance(1);
    expect(await stream.next()).toBe(true);

    // A new snapshot with the same verdict sends nothing; the next message is the next change.
    publish(3, 95);
    timers.advance(1);
    publish(0, 2);
    timers.advance(1);
    expect(await stream.next()).toBe(false);
    expect(stream.pending).toEqual([]);

    const text = await registry.metrics();
    expect(text).toMatch(/^foresight_keda_push_streams 1$/m);
    expect(text).toMatch(/^foresight_keda_push_messages_total\{active="true"\} 1$/m);
    expect(text).toMatch(/^foresight_keda_push_messages_total\{active="false"\} 2$/m);
    stream.call.cancel();
  });

  test('StreamIsActive waits for the first snapshot instead of failing', async () => {
    const stream = new ActivityStream(client, ref({ queue: 'orders' }));
    timers.advance(1);
    publish(0, 1);
    timers.advance(1);
    expect(await stream.next()).toBe(true);
    stream.call.cancel();
  });

  test('StreamIsActive refuses an unknown queue and bad metadata at once, so KEDA logs it', async () => {
    publish(0, 0);
    const unknown = new ActivityStream(client, ref({ queue: 'payments' }));
    expect(await unknown.ended).toMatchObject({ code: grpc.status.NOT_FOUND, details: expect.stringContaining('"payments"') });
    const bad = new ActivityStream(client, ref({ queue: 'orders', activationThreshold: 'high' }));
    expect(await bad.ended).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('metadata.activationThreshold must be a number') });
  });

  test('StreamIsActive refuses streams beyond keda.grpc.maxPushStreams with RESOURCE_EXHAUSTED, and accepts again once one closes', async () => {
    config = configFromYaml(yaml.replace('pushCheckInterval: 1s', 'pushCheckInterval: 1s, maxPushStreams: 2'));
    publish(0, 0);
    const first = new ActivityStream(client, ref({ queue: 'orders' }));
    const second = new ActivityStream(client, ref({ queue: 'ml_inference' }));
    expect(await first.next()).toBe(false);
    expect(await second.next()).toBe(false);
    const third = new ActivityStream(client, ref({ queue: 'orders' }));
    expect(await third.ended).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringContaining('keda.grpc.maxPushStreams') });
    expect(await registry.metrics()).toMatch(/^foresight_keda_requests_total\{surface="grpc",method="StreamIsActive",outcome="resource_exhausted"\} 1$/m);
    expect(await registry.metrics()).toMatch(/^foresight_keda_push_streams 2$/m);

    first.call.cancel();
    await first.ended;
    // The server sees the cancellation asynchronously: the stream count is the event to wait for.
    while (!/^foresight_keda_push_streams 1$/m.test(await registry.metrics())) await new Promise((resolve) => setImmediate(resolve));
    const fourth = new ActivityStream(client, ref({ queue: 'orders' }));
    expect(await fourth.next()).toBe(false);
    second.call.cancel();
    fourth.call.cancel();
  });

  test('stop() ends open streams cleanly (KEDA reconnects to another replica) and frees the port', async () => {
    publish(0, 0);
    const stream = new ActivityStream(client, ref({ queue: 'orders' }));
    expect(await stream.next()).toBe(false);
    await server.stop();
    expect((await stream.ended).code).toBe(grpc.status.OK);
    expect(timers.size).toBe(0);
    expect(await registry.metrics()).toMatch(/^foresight_keda_push_streams 0$/m);
    const probe = createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  test('counts gRPC requests by method and outcome', async () => {
    publish(0, 0);
    await call(client, 'IsActive', ref({ queue: 'orders' }));
    await call(client, 'GetMetricSpec', ref({ queue: 'orders' })).catch(() => undefined);
    const text = await registry.metrics();
    expect(text).toMatch(/^foresight_keda_requests_total\{surface="grpc",method="IsActive",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^foresight_keda_requests_total\{surface="grpc",method="GetMetricSpec",outcome="invalid_argument"\} 1$/m);
    expect(text).toMatch(/^foresight_keda_requests_total\{surface="grpc",method="GetMetrics",outcome="ok"\} 0$/m);
  });
});

describe('KEDA external scaler start-up', () => {
  test('names the configuration keys when the port is taken', async () => {
    const config = configFromYaml('keda: { grpc: { host: 127.0.0.1, port: 0 } }');
    const deps = { store: new SnapshotStore({ historyRetentionSeconds: 60 }), clock: new ManualClock(), logger: pino({ level: 'silent' }) };
    const first = createKedaGrpcServer({ ...deps, config: () => config });
    const port = await first.start();
    const taken = configFromYaml(`keda: { grpc: { host: 127.0.0.1, port: ${port} } }`);
    const second = createKedaGrpcServer({ ...deps, config: () => taken });
    await expect(second.start()).rejects.toThrow(`cannot listen for KEDA gRPC on 127.0.0.1:${port} (keda.grpc.host, keda.grpc.port)`);
    await first.stop();
    await second.stop();
  });
});

describe('the three KEDA surfaces over a snapshot made by the engine (bundled replay workload)', () => {
  test('the Prometheus series, the metrics-api JSON and gRPC GetMetrics give the same forecast', async () => {
    const config = configFromYaml('server: { port: 0 }\nkeda: { grpc: { host: 127.0.0.1, port: 0 } }');
    const clock = new ManualClock();
    const service = buildService(config, { clock });
    const snapshot = await service.reconciler.runCycle();
    const grpcServer = createKedaGrpcServer({ store: service.store, clock, config: () => config, logger: pino({ level: 'silent' }) });
    const port = await grpcServer.start();
    const client = new ClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const keda = express().use(buildKedaRouter({ store: service.store, clock, config: () => config }));
    try {
      const exposition = (await request(service.api).get('/metrics').expect(200)).text;
      expect(snapshot.queues.length).toBe(5);
      for (const { queue } of snapshot.queues) {
        const line = new RegExp(`^predicted_queue_depth\\{queue="${queue}",horizon="15m",quantile="0\\.9"\\} (\\S+)$`, 'm').exec(exposition);
        const published = Math.max(0, Number(line?.[1]));
        expect(Number.isFinite(published)).toBe(true);
        const json = await request(keda).get(`/keda/metrics?queue=${queue}&horizon=15m&quantile=0.9`).expect(200);
        expect(json.body.value).toBe(published);
        const metrics = await call<{ metricValues: { metricValueFloat: number }[] }>(client, 'GetMetrics', {
          scaledObjectRef: ref({ queue, horizon: '15m', quantile: '0.9' }),
          metricName: '',
        });
        expect(metrics.metricValues[0]?.metricValueFloat ?? 0).toBe(published);
      }
    } finally {
      client.close();
      await grpcServer.stop();
    }
  });
});

/** A CA with a serving certificate for localhost and a client certificate (what KEDA would hold). */
interface TestPki {
  readonly ca: CertificateAndKey;
  readonly serving: CertificateAndKey;
  readonly client: CertificateAndKey;
}

function issuePki(name: string): TestPki {
  // The TLS handshake checks validity against the wall clock, not the test's manual clock.
  const notBeforeMs = Date.now() - 3_600_000;
  const ca = createCertificate({ subject: { commonName: `${name}-ca` }, usage: 'ca', notBeforeMs, validForSeconds: 86_400 });
  const serving = createCertificate({ subject: { commonName: 'foresight' }, usage: 'server', hosts: ['localhost', '127.0.0.1'], notBeforeMs, validForSeconds: 86_400 }, ca);
  const client = createCertificate({ subject: { commonName: 'keda-operator' }, usage: 'client', notBeforeMs, validForSeconds: 86_400 }, ca);
  return { ca, serving, client };
}

/** Writes a file the way the kubelet updates a Secret volume: whole, by rename. */
function writeAtomically(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

// Every client gets its own connection (grpc-js otherwise shares one between equal clients), and
// names the server "localhost" as its certificate does (an IP as TLS server name is deprecated).
const clientOptions = { 'grpc.use_local_subchannel_pool': 1, 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };

/** A client that trusts `trust` (as KEDA's caCert) and presents `identity` (tlsClientCert/tlsClientKey). */
function tlsClient(port: number, trust: CertificateAndKey, identity?: CertificateAndKey): grpc.Client {
  const credentials =
    identity === undefined
      ? grpc.credentials.createSsl(Buffer.from(trust.certPem))
      : grpc.credentials.createSsl(Buffer.from(trust.certPem), Buffer.from(identity.keyPem), Buffer.from(identity.certPem));
  return new ClientCtor(`127.0.0.1:${port}`, credentials, clientOptions);
}

/** The fingerprint of the certificate the port presents to a new connection. */
function servedCertificate(port: number, identity?: CertificateAndKey): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, servername: 'localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false, ...(identity === undefined ? {} : { cert: identity.certPem, key: identity.keyPem }) },
      () => {
        const fingerprint = socket.getPeerCertificate().fingerprint256;
        socket.destroy();
        resolve(fingerprint);
      },
    );
    socket.once('error', reject);
  });
}

/** A logger whose JSON lines the test can read. */
function capturingLogger(): { readonly logger: Logger; readonly entries: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return { logger, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const specRef = ref({ queue: 'orders', targetValue: '100' });
const specAnswer = { metricSpecs: [{ metricName: 'foresight-orders-15m-p50', targetSize: '100', targetSizeFloat: 100 }] };

describe('KEDA external scaler over TLS and mutual TLS', () => {
  let dir: string;
  let clock: ManualClock;
  let timers: ManualTimers;
  let store: SnapshotStore;
  let server: KedaGrpcServer | undefined;
  let log: ReturnType<typeof capturingLogger>;
  let clients: grpc.Client[];
  const certFile = () => join(dir, 'tls.crt');
  const keyFile = () => join(dir, 'tls.key');
  const caFile = () => join(dir, 'client-ca.crt');

  /** Writes the serving pair (and the client CA) and starts a server on them. */
  const start = async (pki: TestPki, mutual: boolean, port = 0): Promise<number> => {
    writeAtomically(certFile(), pki.serving.certPem);
    writeAtomically(keyFile(), pki.serving.keyPem);
    if (mutual) writeAtomically(caFile(), pki.ca.certPem);
    return startWith(`{ certFile: "${certFile()}", keyFile: "${keyFile()}", ${mutual ? `clientCAFile: "${caFile()}", ` : ''}reloadInterval: 10s }`, port);
  };
  const startWith = async (tls: string, port = 0): Promise<number> => {
    const config = configFromYaml(`queues: [{ name: orders, threshold: 100 }]\nkeda: { grpc: { host: 127.0.0.1, port: ${port}, pushCheckInterval: 1s, tls: ${tls} } }`);
    server = createKedaGrpcServer({ store, clock, config: () => config, logger: log.logger, timers });
    return server.start();
  };
  const client = (c: grpc.Client): grpc.Client => {
    clients.push(c);
    return c;
  };
  const publish = (cycle: number, p90: number) =>
    store.publish(fixtureSnapshot(cycle, clock.nowMs(), [{ queue: 'orders', depth: 0, forecasts: [{ horizonSeconds: 900, p10: 0, value: p90 / 2, p90 }] }]));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'foresight-keda-grpc-tls-'));
    clock = new ManualClock(Date.now());
    timers = new ManualTimers(clock);
    store = new SnapshotStore({ historyRetentionSeconds: 3600 });
    log = capturingLogger();
    clients = [];
    server = undefined;
  });

  afterEach(async () => {
    for (const c of clients) c.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('TLS: a client trusting the CA is served; a plaintext client and one trusting another CA are not', async () => {
    const pki = issuePki('a');
    const port = await start(pki, false);
    expect(await call(client(tlsClient(port, pki.ca)), 'GetMetricSpec', specRef)).toEqual(specAnswer);
    const plaintext = await failureOf(call(client(new ClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), clientOptions)), 'GetMetricSpec', specRef));
    expect(plaintext.code).toBe(grpc.status.UNAVAILABLE);
    const wrongCa = await failureOf(call(client(tlsClient(port, issuePki('b').ca)), 'GetMetricSpec', specRef));
    expect(wrongCa.code).toBe(grpc.status.UNAVAILABLE);
    expect(wrongCa.details).toMatch(/certificate/);
    // Without a client CA no client certificate is asked for; one that is sent anyway changes nothing.
    expect(await call(client(tlsClient(port, pki.ca, issuePki('c').client)), 'GetMetricSpec', specRef)).toEqual(specAnswer);
    expect(log.entries().find((e) => e['msg'] === 'KEDA external scaler listening')).toMatchObject({ transport: 'TLS', clientCAs: 0 });
  });

  test('mutual TLS: refused without a client certificate and with one from another CA, served with the right one', async () => {
    const pki = issuePki('a');
    const port = await start(pki, true);
    expect(await call(client(tlsClient(port, pki.ca, pki.client)), 'GetMetricSpec', specRef)).toEqual(specAnswer);
    const none = await failureOf(call(client(tlsClient(port, pki.ca)), 'GetMetricSpec', specRef));
    expect(none.code).toBe(grpc.status.UNAVAILABLE);
    expect(none.details).toMatch(/certificate required/);
    const foreign = await failureOf(call(client(tlsClient(port, pki.ca, issuePki('b').client)), 'GetMetricSpec', specRef));
    expect(foreign.code).toBe(grpc.status.UNAVAILABLE);
    expect(log.entries().find((e) => e['msg'] === 'KEDA external scaler listening')).toMatchObject({ transport: 'mutual TLS', clientCAs: 1 });
  });

  test('rotation: the reload timer serves new certificate files to new connections; an open push stream goes on', async () => {
    const before = issuePki('before');
    const after = issuePki('after');
    const port = await start(before, false);
    publish(1, 5);
    const stream = new ActivityStream(client(tlsClient(port, before.ca)), ref({ queue: 'orders', activationThreshold: '30' }));
    expect(await stream.next()).toBe(false);
    expect(await servedCertificate(port)).toBe(before.serving.certificate.fingerprint256);

    // cert-manager renews the Secret; the kubelet swaps the files.
    writeAtomically(keyFile(), after.serving.keyPem);
    writeAtomically(certFile(), after.serving.certPem);
    timers.advance(10);
    await vi.waitFor(async () => expect(await servedCertificate(port)).toBe(after.serving.certificate.fingerprint256), { timeout: 120_000, interval: 20 });

    expect(await call(client(tlsClient(port, after.ca)), 'GetMetricSpec', specRef)).toEqual(specAnswer);
    expect((await failureOf(call(client(tlsClient(port, before.ca)), 'GetMetricSpec', specRef))).code).toBe(grpc.status.UNAVAILABLE);
    // The stream opened before the rotation keeps its connection and still wakes the workload.
    publish(2, 80);
    timers.advance(1);
    expect(await stream.next()).toBe(true);
    expect(log.entries().filter((e) => e['msg'] === 'KEDA gRPC certificates reloaded; new connections use them')).toHaveLength(1);
    // Nothing changed since: the next reload serves the same material.
    expect(await server?.reload()).toBe(false);
    stream.call.cancel();
  });

  test('mutual TLS rotation: a new client CA admits its certificates and refuses the old ones on new connections', async () => {
    const current = issuePki('current');
    const next = issuePki('next');
    const port = await start(current, true);
    writeAtomically(caFile(), next.ca.certPem);
    expect((await failureOf(call(client(tlsClient(port, current.ca, next.client)), 'GetMetricSpec', specRef))).code).toBe(grpc.status.UNAVAILABLE);
    expect(await server?.reload()).toBe(true);
    expect(await call(client(tlsClient(port, current.ca, next.client)), 'GetMetricSpec', specRef)).toEqual(specAnswer);
    expect((await failureOf(call(client(tlsClient(port, current.ca, current.client)), 'GetMetricSpec', specRef))).code).toBe(grpc.status.UNAVAILABLE);
  });

  test('a bad file at reload is logged with its name, and the previous certificate keeps serving', async () => {
    const pki = issuePki('a');
    const renewed = issuePki('renewed');
    const port = await start(pki, false);
    const refusals = () => log.entries().filter((e) => e['msg'] === 'KEDA gRPC certificate change refused; the previous certificate keeps serving');

    writeAtomically(certFile(), 'truncated\n');
    expect(await server?.reload()).toBe(false);
    expect(String(refusals()[0]?.['err'])).toBe(`keda.grpc.tls.certFile "${certFile()}" holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")`);
    expect(refusals()[0]?.['level']).toBe(50);
    expect(await servedCertificate(port)).toBe(pki.serving.certificate.fingerprint256);
    expect(await call(client(tlsClient(port, pki.ca)), 'GetMetricSpec', specRef)).toEqual(specAnswer);

    // Half a rotation (new certificate, old key) is refused too, until the key follows.
    writeAtomically(certFile(), renewed.serving.certPem);
    expect(await server?.reload()).toBe(false);
    expect(String(refusals()[1]?.['err'])).toContain(`keda.grpc.tls.keyFile "${keyFile()}" is not the private key of the certificate in keda.grpc.tls.certFile "${certFile()}"`);
    expect(await servedCertificate(port)).toBe(pki.serving.certificate.fingerprint256);
    writeAtomically(keyFile(), renewed.serving.keyPem);
    expect(await server?.reload()).toBe(true);
    expect(await servedCertificate(port)).toBe(renewed.serving.certificate.fingerprint256);
  });

  const badAtStart: readonly { name: string; prepare: (pki: TestPki) => string; message: () => string }[] = [
    {
      name: 'a missing certificate file',
      prepare: () => `{ certFile: "${join(dir, 'missing.crt')}", keyFile: "${keyFile()}" }`,
      message: () => `cannot read keda.grpc.tls.certFile ${join(dir, 'missing.crt')}: ENOENT`,
    },
    {
      name: "a key that is not the certificate's",
      prepare: (pki) => {
        writeAtomically(keyFile(), issuePki('other').serving.keyPem);
        writeAtomically(certFile(), pki.serving.certPem);
        return `{ certFile: "${certFile()}", keyFile: "${keyFile()}" }`;
      },
      message: () => `keda.grpc.tls.keyFile "${keyFile()}" is not the private key of the certificate in keda.grpc.tls.certFile "${certFile()}"`,
    },
    {
      name: 'a client CA file without a certificate',
      prepare: (pki) => {
        writeAtomically(certFile(), pki.serving.certPem);
        writeAtomically(keyFile(), pki.serving.keyPem);
        writeAtomically(caFile(), pki.serving.keyPem);
        return `{ certFile: "${certFile()}", keyFile: "${keyFile()}", clientCAFile: "${caFile()}" }`;
      },
      message: () => `keda.grpc.tls.clientCAFile "${caFile()}" holds no PEM certificate`,
    },
  ];
  for (const tc of badAtStart) {
    test(`start() refuses ${tc.name} with an error naming the file, and nothing listens`, async () => {
      writeAtomically(keyFile(), 'placeholder');
      const tls = tc.prepare(issuePki('a'));
      const port = await getFreePort();
      const error = await startWith(tls, port).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TlsFilesError);
      expect((error as Error).message).toContain(tc.message());
      const probe = createServer();
      await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, '127.0.0.1', resolve));
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      expect(timers.size).toBe(0);
    });
  }
});

describe('externalMetrics.exposure on the KEDA external scaler', () => {
  let clock: ManualClock;
  let timers: ManualTimers;
  let store: SnapshotStore;
  let config: Config;
  let registry: Registry;
  let server: KedaGrpcServer;
  let client: grpc.Client;

  const exposureYaml = (shopQueues: string) => `
queues:
  - { name: orders, threshold: 100 }
  - { name: ml_inference, threshold: 50 }
externalMetrics:
  enabled: false
  exposure:
    - { namespaces: [shop], queues: [${shopQueues}] }
    - { namespaces: ["team-*"], queues: ["ml_*"] }
keda: { grpc: { host: 127.0.0.1, port: 0, pushCheckInterval: 1s } }
`;
  const refIn = (namespace: string, scalerMetadata: Record<string, string>): ScaledObjectRef => ({ name: 'worker', namespace, scalerMetadata });
  const publish = (cycle: number) =>
    store.publish(
      fixtureSnapshot(cycle, clock.nowMs(), [
        { queue: 'orders', depth: 3, forecasts: [{ horizonSeconds: 900, p10: 1, value: 2, p90: 4 }] },
        { queue: 'ml_inference', depth: 0, forecasts: [{ horizonSeconds: 900, p10: 0, value: 0, p90: 0 }] },
      ]),
    );

  beforeEach(async () => {
    clock = new ManualClock();
    timers = new ManualTimers(clock);
    store = new SnapshotStore({ historyRetentionSeconds: 3600 });
    config = configFromYaml(exposureYaml('orders'));
    registry = new Registry();
    server = createKedaGrpcServer({ store, clock, config: () => config, logger: pino({ level: 'silent' }), metrics: createKedaMetrics(registry), timers });
    client = new ClientCtor(`127.0.0.1:${await server.start()}`, grpc.credentials.createInsecure());
    publish(1);
  });

  afterEach(async () => {
    client.close();
    await server.stop();
  });

  const unaryCalls: readonly { method: string; message: (r: ScaledObjectRef) => object }[] = [
    { method: 'IsActive', message: (r) => r },
    { method: 'GetMetricSpec', message: (r) => r },
    { method: 'GetMetrics', message: (r) => ({ scaledObjectRef: r, metricName: 'm' }) },
  ];
  for (const { method: name, message } of unaryCalls) {
    test(`${name}: allowed for a namespace a rule names with the queue, PERMISSION_DENIED otherwise`, async () => {
      const metadata = (queue: string) => ({ queue, targetValue: '10' });
      expect(await codeOf(call(client, name, message(refIn('shop', metadata('orders')))))).toBe(grpc.status.OK);
      expect(await codeOf(call(client, name, message(refIn('team-ml', metadata('ml_inference')))))).toBe(grpc.status.OK);
      const otherQueue = await failureOf(call(client, name, message(refIn('shop', metadata('ml_inference')))));
      expect(otherQueue.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(otherQueue.details).toBe('namespace "shop" may not read queue "ml_inference": no rule of externalMetrics.exposure allows it (ScaledObject shop/worker)');
      const unnamed = await failureOf(call(client, name, message(refIn('billing', metadata('orders')))));
      expect(unnamed.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(unnamed.details).toContain('namespace "billing" may not read queue "orders"');
      // A refused namespace cannot tell configured queues from others.
      expect(await codeOf(call(client, name, message(refIn('billing', metadata('payments')))))).toBe(grpc.status.PERMISSION_DENIED);
      expect(await registry.metrics()).toMatch(new RegExp(`^foresight_keda_requests_total\\{surface="grpc",method="${name}",outcome="permission_denied"\\} 3$`, 'm'));
    });
  }

  test('StreamIsActive: an allowed stream gets its verdict, a refused one ends with PERMISSION_DENIED at once', async () => {
    const allowed = new ActivityStream(client, refIn('shop', { queue: 'orders' }));
    expect(await allowed.next()).toBe(true);
    const refused = new ActivityStream(client, refIn('team-ml', { queue: 'orders' }));
    expect(await refused.ended).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: 'namespace "team-ml" may not read queue "orders": no rule of externalMetrics.exposure allows it (ScaledObject team-ml/worker)',
    });
    expect(await registry.metrics()).toMatch(/^foresight_keda_requests_total\{surface="grpc",method="StreamIsActive",outcome="permission_denied"\} 1$/m);
    allowed.call.cancel();
  });

  test('an open stream whose namespace loses access in a configuration reload ends at the next snapshot', async () => {
    const stream = new ActivityStream(client, refIn('shop', { queue: 'orders' }));
    expect(await stream.next()).toBe(true);
    config = configFromYaml(exposureYaml('"orders-*"'));
    publish(2);
    timers.advance(1);
    expect(await stream.ended).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringContaining('namespace "shop" may not read queue "orders"') });
    expect(await registry.metrics()).toMatch(/^foresight_keda_push_streams 0$/m);
  });
});
