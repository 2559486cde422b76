import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../../config/index.js';
import { type Clock, type Result, singleFlight } from '../../core/index.js';
import type { Snapshot, SnapshotStore } from '../../engine/index.js';
import { failureMessage } from '../auth/index.js';
import { noTlsMetrics, type TlsCertificatesInUse, type TlsMetrics } from '../tls-metrics.js';
import { buildMetricSpec, buildMetricValue, evaluateActivity } from './external-scaler.js';
import type { Freshness, KedaProblem, SelectionDefaults } from './forecast-selection.js';
import { certificateWarnings, loadTlsMaterial, type TlsFiles, TlsFilesError, type TlsMaterial } from '../pki/index.js';
import { createReloadableCredentials, type ReloadableServerCredentials } from './grpc-tls.js';
import { type KedaMethod, type KedaMetrics, noKedaMetrics } from './keda-metrics.js';
import { createQueueExposure, type KedaDenial } from './namespace-access.js';
import { parseScalerMetadata, type ScalerRequest } from './scaler-metadata.js';

/**
 * Where the .proto lives. It is resolved from the package root, which is three levels up from both
 * src/publish/keda/ (tsx, tests) and dist/publish/keda/ (the build), so the build needs no copy step;
 * a container image must ship src/publish/keda/externalscaler.proto beside dist/.
 */
export const externalScalerProtoPath = fileURLToPath(new URL('../../../src/publish/keda/externalscaler.proto', import.meta.url));

/** How long stop() waits for calls in flight before it closes the connections. */
const shutdownGraceMs = 5000;

/** The fully qualified service name KEDA calls. */
export const externalScalerServiceName = 'externalscaler.ExternalScaler';

/** Timers, injected so that tests drive the push checks by hand (structurally the engine's Timers). */
export interface KedaTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

// Node's timers, unref'd so that a pending check never keeps a stopping process alive.
const defaultTimers: KedaTimers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What the gRPC external scaler serves from. */
export interface KedaGrpcServerDeps {
  readonly store: SnapshotStore;
  readonly clock: Clock;
  /**
   * The current configuration. Host, port and the `keda.grpc.tls` file names are read at start;
   * the push check and reload intervals and `externalMetrics.exposure` whenever they are used.
   */
  readonly config: () => Config;
  readonly logger: Logger;
  readonly metrics?: KedaMetrics;
  /** Certificate expiry and reload outcomes of the TLS port (createTlsMetrics on the service registry); none by default. */
  readonly tlsMetrics?: TlsMetrics;
  readonly timers?: KedaTimers;
}

/** A started-on-demand gRPC server (a Runnable: the factory starts nothing). */
export interface KedaGrpcServer {
  /**
   * Loads the `keda.grpc.tls` files when set (rejecting with a {@link TlsFilesError} that names the
   * bad file), binds `keda.grpc.host:keda.grpc.port`, and starts the push checks and the file
   * reloads; resolves with the bound port.
   */
  start(): Promise<number>;
  /** Ends every open stream, stops the checks and shuts the server down. */
  stop(): Promise<void>;
  /**
   * Re-reads the TLS files now (the timer does it every `keda.grpc.tls.reloadInterval`). Resolves
   * true when new material is being served; false when nothing changed, TLS is off, or the new
   * files are unusable (logged, and the previous certificate keeps serving).
   */
  reload(): Promise<boolean>;
}

/** The service definition, loaded once from the .proto. */
export function loadExternalScalerService(protoPath: string = externalScalerProtoPath): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(protoPath, { keepCase: true, longs: Number, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition);
  const namespace = pkg['externalscaler'];
  const ctor = namespace !== undefined && 'ExternalScaler' in namespace ? (namespace as grpc.GrpcObject)['ExternalScaler'] : undefined;
  if (typeof ctor !== 'function' || !('service' in ctor)) throw new Error(`${protoPath} does not define the service ${externalScalerServiceName}`);
  return ctor.service;
}

// The request messages as proto-loader decodes them (defaults on, so absent fields are "" or {}).
const scaledObjectRefSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  scalerMetadata: z.record(z.string(), z.string()),
});
const getMetricsRequestSchema = z.object({ scaledObjectRef: scaledObjectRefSchema.nullable(), metricName: z.string() });

type ScaledObjectRef = z.infer<typeof scaledObjectRefSchema>;

/** Why a call is refused: a problem with the request or the forecast, or the exposure rules. */
/** Refused because `keda.grpc.maxPushStreams` streams are open already. */
interface StreamLimit {
  readonly kind: 'resource_exhausted';
  readonly message: string;
}

type GrpcProblem = KedaProblem | KedaDenial | StreamLimit;

const grpcCodes: Readonly<Record<GrpcProblem['kind'], grpc.status>> = {
  invalid_argument: grpc.status.INVALID_ARGUMENT,
  not_found: grpc.status.NOT_FOUND,
  unavailable: grpc.status.UNAVAILABLE,
  permission_denied: grpc.status.PERMISSION_DENIED,
  resource_exhausted: grpc.status.RESOURCE_EXHAUSTED,
};

/** A problem as a gRPC status; the message names the ScaledObject so KEDA's log says which trigger is wrong. */
function toStatus(problem: GrpcProblem, ref: ScaledObjectRef | undefined): Partial<grpc.StatusObject> {
  const who = ref === undefined || ref.name === '' ? '' : ` (ScaledObject ${ref.namespace}/${ref.name})`;
  return { code: grpcCodes[problem.kind], details: `${problem.message}${who}` };
}

/** One open StreamIsActive call and the last verdict sent on it. */
interface PushStream {
  readonly call: grpc.ServerWritableStream<unknown, unknown>;
  readonly request: ScalerRequest;
  readonly ref: ScaledObjectRef;
  lastSent: boolean | undefined;
}

/** The TLS state of a started server. */
interface TlsState {
  readonly files: TlsFiles;
  readonly credentials: ReloadableServerCredentials;
  material: TlsMaterial;
}

/** The certificates of loaded material, as the TLS metrics see them. */
function inUse(material: TlsMaterial): TlsCertificatesInUse {
  return { serving: material.serving, clientCAs: material.clientCAs };
}

/** The `keda.grpc.tls` files, or undefined when the port is plaintext. */
function tlsFilesOf(section: Config['keda']['grpc']['tls']): TlsFiles | undefined {
  if (section.certFile === undefined || section.keyFile === undefined) return undefined;
  return { certFile: section.certFile, keyFile: section.keyFile, ...(section.clientCAFile === undefined ? {} : { clientCAFile: section.clientCAFile }) };
}

/**
 * Builds KEDA's external scaler as a gRPC server (`externalscaler.ExternalScaler`): IsActive,
 * StreamIsActive, GetMetricSpec and GetMetrics, answered from the latest snapshot. Nothing is
 * computed on the request path. StreamIsActive (the `external-push` trigger) sends the current
 * verdict when it opens, then a message whenever a new snapshot changes it, which is how a rise
 * predicted by the forecast wakes a workload from zero before the queue fills. The store has no
 * events, so open streams look at `store.latest()` every `keda.grpc.pushCheckInterval` (a
 * reference comparison; nothing is evaluated unless a new snapshot has arrived).
 *
 * Every call is checked against `externalMetrics.exposure` with the ScaledObject's namespace
 * (PERMISSION_DENIED when it may not read the queue). With `keda.grpc.tls` the port serves TLS, or
 * mutual TLS with a client CA, and the files are re-read every `keda.grpc.tls.reloadInterval`.
 */
export function createKedaGrpcServer(deps: KedaGrpcServerDeps): KedaGrpcServer {
  const { store, clock, config, logger } = deps;
  const metrics = deps.metrics ?? noKedaMetrics;
  const tlsMetrics = deps.tlsMetrics ?? noTlsMetrics;
  const timers = deps.timers ?? defaultTimers;
  const streams = new Set<PushStream>();
  let server: grpc.Server | undefined;
  let checkHandle: unknown;
  let lastChecked: Snapshot | undefined;
  let running = false;
  let tls: TlsState | undefined;
  let reloadHandle: unknown;
  // Each start() begins one reload chain; a chain from before a stop() must not go on after a new start().
  let generation = 0;
  const exposure = createQueueExposure(() => config().externalMetrics.exposure);

  const defaults = (): SelectionDefaults => ({ horizonSeconds: config().forecast.horizons[0] ?? 900, quantile: '0.5' });
  const freshness = (): Freshness => ({ nowMs: clock.nowMs(), maxAgeSeconds: config().snapshot.maxAge });

  /**
   * Parses the ref and its metadata and applies the exposure rules; on failure answers the call's
   * problem. Exposure is checked before anything looks at the queue, so a refused namespace gets
   * the same answer for a queue that exists and one that does not.
   */
  const parseRef = (raw: unknown): Result<{ ref: ScaledObjectRef; request: ScalerRequest }, { problem: GrpcProblem; ref?: ScaledObjectRef }> => {
    const ref = scaledObjectRefSchema.safeParse(raw);
    if (!ref.success) return { ok: false, error: { problem: { kind: 'invalid_argument', message: 'the ScaledObjectRef is malformed' } } };
    const request = parseScalerMetadata(ref.data.scalerMetadata, defaults());
    if (!request.ok) return { ok: false, error: { problem: request.error, ref: ref.data } };
    const denial = exposure(ref.data.namespace, request.value.selection.queue);
    if (denial !== undefined) return { ok: false, error: { problem: denial, ref: ref.data } };
    return { ok: true, value: { ref: ref.data, request: request.value } };
  };

  const unary =
    <T>(method: KedaMethod, answer: (raw: unknown) => Result<T, { problem: GrpcProblem; ref?: ScaledObjectRef | undefined }>) =>
    (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void => {
      let result: Result<T, { problem: GrpcProblem; ref?: ScaledObjectRef | undefined }>;
      try {
        result = answer(call.request);
      } catch (error) {
        // A bug of ours must not kill the server or leave KEDA waiting: answer INTERNAL and log it.
        logger.error({ err: error, method }, 'unexpected error in the KEDA external scaler');
        callback({ code: grpc.status.INTERNAL, details: 'internal error' }, null);
        return;
      }
      metrics.request('grpc', method, result.ok ? 'ok' : result.error.problem.kind);
      if (result.ok) callback(null, result.value);
      else callback(toStatus(result.error.problem, result.error.ref), null);
    };

  const closeStream = (stream: PushStream): void => {
    if (streams.delete(stream)) metrics.pushStreams(streams.size);
  };

  const send = (stream: PushStream, active: boolean): void => {
    stream.lastSent = active;
    stream.call.write({ result: active });
    metrics.pushed(active);
    logger.debug({ scaledObject: `${stream.ref.namespace}/${stream.ref.name}`, active }, 'pushed an activity change to KEDA');
  };

  /**
   * Re-evaluates one stream; sends only when the verdict changed. Problems (stale, no forecast yet)
   * send nothing. A stream whose namespace the exposure rules no longer allow (a configuration
   * reload) is ended with PERMISSION_DENIED.
   */
  const evaluate = (stream: PushStream): void => {
    if (stream.call.cancelled) {
      closeStream(stream);
      return;
    }
    const denial = exposure(stream.ref.namespace, stream.request.selection.queue);
    if (denial !== undefined) {
      closeStream(stream);
      stream.call.emit('error', toStatus(denial, stream.ref));
      return;
    }
    const activity = evaluateActivity(stream.request, store.latest(), freshness());
    if (activity.ok && activity.value.active !== stream.lastSent) send(stream, activity.value.active);
  };

  const scheduleCheck = (): void => {
    if (!running) return;
    checkHandle = timers.setTimeout(() => {
      try {
        const latest = store.latest();
        if (latest !== lastChecked) {
          lastChecked = latest;
          for (const stream of [...streams]) evaluate(stream);
        }
      } catch (error) {
        // A bug of ours must not stop the checks for every other stream.
        logger.error({ err: error }, 'unexpected error while checking KEDA push streams');
      } finally {
        scheduleCheck();
      }
    }, config().keda.grpc.pushCheckInterval * 1000);
  };

  const implementation: grpc.UntypedServiceImplementation = {
    IsActive: unary('IsActive', (raw) => {
      const parsed = parseRef(raw);
      if (!parsed.ok) return parsed;
      const activity = evaluateActivity(parsed.value.request, store.latest(), freshness());
      return activity.ok ? { ok: true, value: { result: activity.value.active } } : { ok: false, error: { problem: activity.error, ref: parsed.value.ref } };
    }),
    GetMetricSpec: unary('GetMetricSpec', (raw) => {
      const parsed = parseRef(raw);
      if (!parsed.ok) return parsed;
      const c = config();
      const spec = buildMetricSpec(parsed.value.request, { queues: c.queues.map((q) => q.name), horizonsSeconds: c.forecast.horizons });
      return spec.ok ? { ok: true, value: { metricSpecs: [spec.value] } } : { ok: false, error: { problem: spec.error, ref: parsed.value.ref } };
    }),
    GetMetrics: unary('GetMetrics', (raw) => {
      const message = getMetricsRequestSchema.safeParse(raw);
      if (!message.success || message.data.scaledObjectRef === null) {
        return { ok: false, error: { problem: { kind: 'invalid_argument', message: 'GetMetricsRequest needs a scaledObjectRef' } } };
      }
      const parsed = parseRef(message.data.scaledObjectRef);
      if (!parsed.ok) return parsed;
      const value = buildMetricValue(parsed.value.request, message.data.metricName, store.latest(), freshness());
      return value.ok ? { ok: true, value: { metricValues: [value.value] } } : { ok: false, error: { problem: value.error, ref: parsed.value.ref } };
    }),
    StreamIsActive: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      const parsed = parseRef(call.request);
      if (!parsed.ok) {
        metrics.request('grpc', 'StreamIsActive', parsed.error.problem.kind);
        call.emit('error', toStatus(parsed.error.problem, parsed.error.ref));
        return;
      }
      // An unknown queue will not appear by waiting: refuse the stream (KEDA logs it and retries
      // with back-off). A missing or stale snapshot may recover: keep the stream open.
      const c = config();
      if (!c.queues.some((q) => q.name === parsed.value.request.selection.queue)) {
        const problem: KedaProblem = { kind: 'not_found', message: `metadata.queue "${parsed.value.request.selection.queue}" is not a configured queue` };
        metrics.request('grpc', 'StreamIsActive', problem.kind);
        call.emit('error', toStatus(problem, parsed.value.ref));
        return;
      }
      // Every open stream costs a check per pushCheckInterval: bound them, as every endpoint that
      // triggers work is bounded. KEDA retries a refused stream with back-off.
      if (streams.size >= c.keda.grpc.maxPushStreams) {
        const problem: StreamLimit = { kind: 'resource_exhausted', message: `${streams.size} external-push streams are open, the most keda.grpc.maxPushStreams allows` };
        metrics.request('grpc', 'StreamIsActive', problem.kind);
        call.emit('error', toStatus(problem, parsed.value.ref));
        return;
      }
      metrics.request('grpc', 'StreamIsActive', 'ok');
      const stream: PushStream = { call, request: parsed.value.request, ref: parsed.value.ref, lastSent: undefined };
      streams.add(stream);
      metrics.pushStreams(streams.size);
      call.on('cancelled', () => closeStream(stream));
      call.on('close', () => closeStream(stream));
      call.on('error', () => closeStream(stream));
      evaluate(stream);
    },
  };

  const warnAbout = (material: TlsMaterial): void => {
    for (const warning of certificateWarnings(material, clock.nowMs())) logger.warn({ problem: warning }, 'KEDA gRPC certificate problem: clients that verify it will refuse the connection');
  };

  // A timer's reload and one asked for by hand share one read of the files.
  const reload = singleFlight(async (): Promise<boolean> => {
    const state = tls;
    if (state === undefined) return false;
    let next: TlsMaterial;
    try {
      next = await loadTlsMaterial(state.files, 'keda.grpc.tls');
    } catch (error) {
      if (tls === state) tlsMetrics.reloaded('keda_grpc', 'failed');
      logger.error({ err: error instanceof TlsFilesError ? error.message : failureMessage(error) }, 'KEDA gRPC certificate change refused; the previous certificate keeps serving');
      return false;
    }
    // stop() may have run while the files were read: then nothing is served, and nothing counted.
    if (tls !== state) return false;
    if (next.digest === state.material.digest) {
      tlsMetrics.reloaded('keda_grpc', 'unchanged');
      return false;
    }
    state.credentials.update(next);
    state.material = next;
    tlsMetrics.reloaded('keda_grpc', 'changed', inUse(next));
    logger.info({ servingCertificateExpires: next.serving.validTo, clientCAs: next.clientCAs.length }, 'KEDA gRPC certificates reloaded; new connections use them');
    warnAbout(next);
    return true;
  });

  const scheduleReload = (chain: number): void => {
    if (!running || tls === undefined || chain !== generation) return;
    reloadHandle = timers.setTimeout(() => {
      reload()
        // reload() reports bad files itself; anything else is a bug of ours, and must not stop the reloads.
        .catch((error: unknown) => logger.error({ err: error }, 'unexpected error while reloading the KEDA gRPC certificates'))
        .finally(() => scheduleReload(chain));
    }, config().keda.grpc.tls.reloadInterval * 1000);
  };

  return {
    reload,
    async start() {
      if (server !== undefined) throw new Error('the KEDA gRPC server is already started');
      const { host, port, tls: tlsSection } = config().keda.grpc;
      const files = tlsFilesOf(tlsSection);
      let credentials = grpc.ServerCredentials.createInsecure();
      let state: TlsState | undefined;
      if (files !== undefined) {
        // A TlsFilesError names the key and the file; the caller refuses to start with it.
        const material = await loadTlsMaterial(files, 'keda.grpc.tls');
        const reloadable = createReloadableCredentials(material);
        credentials = reloadable.credentials;
        state = { files, credentials: reloadable, material };
        warnAbout(material);
      }
      // HTTP/2 streams per connection are bounded too, so one client cannot hold more calls open than the push limit.
      const created = new grpc.Server({ 'grpc.max_receive_message_length': 1024 * 1024, 'grpc.max_concurrent_streams': config().keda.grpc.maxPushStreams + 100 });
      created.addService(loadExternalScalerService(), implementation);
      const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      const bound = await new Promise<number>((resolve, reject) => {
        created.bindAsync(address, credentials, (error, boundPort) => {
          if (error === null) resolve(boundPort);
          else reject(new Error(`cannot listen for KEDA gRPC on ${address} (keda.grpc.host, keda.grpc.port): ${error.message}`, { cause: error }));
        });
      });
      server = created;
      tls = state;
      running = true;
      if (state !== undefined) tlsMetrics.started('keda_grpc', inUse(state.material));
      lastChecked = store.latest();
      scheduleCheck();
      generation += 1;
      scheduleReload(generation);
      logger.info(
        {
          address: `${host}:${bound}`,
          transport: state === undefined ? 'plaintext' : state.credentials.mutual ? 'mutual TLS' : 'TLS',
          ...(state === undefined ? {} : { servingCertificateExpires: state.material.serving.validTo, clientCAs: state.material.clientCAs.length }),
        },
        'KEDA external scaler listening',
      );
      return bound;
    },
    async stop() {
      running = false;
      if (checkHandle !== undefined) timers.clearTimeout(checkHandle);
      checkHandle = undefined;
      if (reloadHandle !== undefined) timers.clearTimeout(reloadHandle);
      reloadHandle = undefined;
      generation += 1;
      if (tls !== undefined) tlsMetrics.stopped('keda_grpc');
      tls = undefined;
      const current = server;
      server = undefined;
      if (current === undefined) return;
      // Ending the streams first lets tryShutdown finish: KEDA reconnects to another replica.
      for (const stream of [...streams]) {
        stream.call.end();
        closeStream(stream);
      }
      await new Promise<void>((resolve) => {
        // A client that never finishes a call must not hold the process: force after a grace period.
        const force = timers.setTimeout(() => {
          current.forceShutdown();
          resolve();
        }, shutdownGraceMs);
        current.tryShutdown(() => {
          timers.clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
