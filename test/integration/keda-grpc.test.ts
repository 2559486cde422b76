/**
 * The KEDA external scaler over real gRPC: a @grpc/grpc-js client built from our .proto (loaded
 * independently of the server, with int64 decoded as strings to see the wire values) calls every
 * method on a server bound to 127.0.0.1. Time and the push checks run on a manual clock, so no
 * test waits for a timer.
 */
import { createServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { SnapshotStore } from '../../src/engine/index.js';
import { createKedaGrpcServer, createKedaMetrics, externalScalerProtoPath, type KedaGrpcServer } from '../../src/publish/index.js';
import express from 'express';
import request from 'supertest';
import { buildKedaRouter } from '../../src/api/index.js';
import { systemClock } from '../../src/core/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
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

/** Calls a unary method; rejects with the grpc ServiceError. */
function call<T>(client: grpc.Client, name: string, message: object): Promise<T> {
  const m = method(name);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, message, (error, value) => {
      if (error !== null) reject(error);
      else resolve(value as T);
    });
  });
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
        { queue: 'orders', depth, forecasts: [{ horizonSeconds: 900, p10: p90 / 4, value: p90 / 2, p90 }, { horizonSeconds: 3600, p10: 0, value: 7.25, p90: 9 }] },
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
    { name: 'an unknown queue', method: 'GetMetrics', message: () => ({ scaledObjectRef: ref({ queue: 'payments' }), metricName: 'm' }), code: grpc.status.NOT_FOUND, details: /"payments" is not a configured queue/ },
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
    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => grpc.status.OK,
        (e: unknown) => (e as grpc.ServiceError).code,
      );
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
    const service = buildService(config);
    const snapshot = await service.reconciler.runCycle();
    const grpcServer = createKedaGrpcServer({ store: service.store, clock: systemClock, config: () => config, logger: pino({ level: 'silent' }) });
    const port = await grpcServer.start();
    const client = new ClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const keda = express().use(buildKedaRouter({ store: service.store, clock: systemClock, config: () => config }));
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
  }, 60_000);
});
