import type { ChildProcess } from 'node:child_process';
import { forkEntry } from '../core/index.js';
import type { EachOriginForecasts } from '../forecast/index.js';
import { SeriesSender, type TransferredSeries } from './series-transfer.js';
import type {
  HostForecastRequest,
  HostOptimizeReply,
  HostOptimizeRequest,
  HostSeriesReply,
  HostLearnedPoint,
  HostLearnedPointsRequest,
  HostLearnedRequest,
  HostValidateRequest,
  ModelHostPort,
} from './model-host.js';

/** A forecast request as it travels: each series whole or as what changed since the last call (series-transfer.ts). */
export type HostForecastTransfer = Omit<HostForecastRequest, 'series'> & { readonly series: readonly TransferredSeries[] };

/** Each method of the host protocol: its request and its answer. */
interface HostMethods {
  forecast: [HostForecastTransfer, HostSeriesReply[]];
  validate: [HostValidateRequest, number[]];
  learnedForecasts: [HostLearnedRequest, EachOriginForecasts];
  learnedPoints: [HostLearnedPointsRequest, HostLearnedPoint[]];
  optimize: [HostOptimizeRequest, HostOptimizeReply[]];
  refitsDone: [null, null];
}
type HostMethod = keyof HostMethods;

/** A message from the service to the model process. */
export type HostCall = { [M in HostMethod]: { readonly id: number; readonly method: M; readonly request: HostMethods[M][0] } }[HostMethod];

/** How the model process's call with the same id ended. */
export type HostOutcome = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly message: string };

/** The model process's answer: the outcome, with its TensorFlow.js tensor count and refit queue after the call. */
export type HostAnswer = HostOutcome & { readonly tensors: number; readonly queuedRefits: number; readonly cpu: ModelProcessCpu };

/** CPU seconds a model process spent since it started: answering calls, and refitting in the background. */
export interface ModelProcessCpu {
  readonly callsSeconds: number;
  readonly refitsSeconds: number;
}

/**
 * The model process's OS priority: below the service, so that a refit never delays an HTTP answer,
 * and above LSTM training (19), so that a cycle's forecasts are not held up by a training epoch.
 */
const modelProcessNiceness = 10;

/** Options of {@link ProcessModelHost}. */
export interface ProcessModelHostOptions {
  /** Called when the process ends unexpectedly (it is started again by the next call). */
  readonly onExit?: (reason: string) => void;
  /**
   * Longest a call may take (`forecast.modelProcessTimeout`); a process that has not answered by
   * then is killed, so that a stuck one cannot hold every later cycle. Default 30 minutes.
   */
  readonly callTimeoutSeconds?: () => number;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Runs the cycle's model work (fits, forecasts, backtests, the resource optimizer) in a child
 * process, so that a refit of `auto` (seconds per series) or of the optimizer's forest never holds
 * the event loop that answers /metrics, the external-metrics API and KEDA. The child keeps the fits
 * between cycles and refits in the background between calls (model-process-entry.ts). If it dies,
 * the calls in flight fail (that cycle fails, the previous snapshot keeps serving), and the next
 * call starts a fresh process, which refits everything.
 */
export class ProcessModelHost implements ModelHostPort {
  readonly #options: ProcessModelHostOptions;
  #child: ChildProcess | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  /** Why the running process was killed by a timeout, reported when it exits. */
  #stuck: string | undefined;
  #tensors: number | undefined;
  #queuedRefits: number | undefined;
  /** What the running process holds of each series' buffer, so that a cycle sends only what changed. */
  readonly #sender = new SeriesSender();
  /** CPU of the processes this host ran before the current one, and of the current one as of its last answer. */
  #cpuBefore: ModelProcessCpu = { callsSeconds: 0, refitsSeconds: 0 };
  #cpuNow: ModelProcessCpu = { callsSeconds: 0, refitsSeconds: 0 };

  constructor(options: ProcessModelHostOptions = {}) {
    this.#options = options;
  }

  async forecast(request: HostForecastRequest): Promise<HostSeriesReply[]> {
    try {
      return await this.#call('forecast', { ...request, series: this.#sender.encode(request.series) });
    } catch (error) {
      // The process may not have taken what this call sent: the next one sends every series whole.
      this.#sender.clear();
      throw error;
    }
  }

  validate(request: HostValidateRequest): Promise<number[]> {
    return this.#call('validate', request);
  }

  learnedForecasts(request: HostLearnedRequest): Promise<EachOriginForecasts> {
    return this.#call('learnedForecasts', request);
  }

  learnedPoints(request: HostLearnedPointsRequest): Promise<HostLearnedPoint[]> {
    return this.#call('learnedPoints', request);
  }

  optimize(request: HostOptimizeRequest): Promise<HostOptimizeReply[]> {
    return this.#call('optimize', request);
  }

  tensorCount(): number | undefined {
    return this.#tensors;
  }

  queuedRefits(): number | undefined {
    return this.#queuedRefits;
  }

  cpuSeconds(): ModelProcessCpu {
    return { callsSeconds: this.#cpuBefore.callsSeconds + this.#cpuNow.callsSeconds, refitsSeconds: this.#cpuBefore.refitsSeconds + this.#cpuNow.refitsSeconds };
  }

  async refitsDone(): Promise<void> {
    await this.#call('refitsDone', null);
  }

  /** Ends the process; calls still in flight reject. */
  async close(): Promise<void> {
    this.#closed = true;
    const child = this.#child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }

  #call<M extends HostMethod>(method: M, request: HostMethods[M][0]): Promise<HostMethods[M][1]> {
    if (this.#closed) return Promise.reject(new Error('the model process is closed'));
    const child = this.#child ?? this.#start();
    const id = this.#nextId++;
    const timeoutSeconds = this.#options.callTimeoutSeconds?.() ?? 1800;
    return new Promise<HostMethods[M][1]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#stuck = `did not answer a ${method} call within ${timeoutSeconds} s and was killed (forecast.modelProcessTimeout)`;
        child.kill('SIGKILL');
      }, timeoutSeconds * 1000);
      // The answer comes from our own child, which ran the same method: its shape is the method's reply.
      this.#pending.set(id, { resolve: (value) => resolve(value as HostMethods[M][1]), reject, timer });
      child.send({ id, method, request } as HostCall, (error) => {
        if (error === null) return;
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new Error(`could not send the ${method} call to the model process: ${error.message}`));
      });
    });
  }

  #start(): ChildProcess {
    const child = forkEntry(import.meta.url, 'model-process-entry', modelProcessNiceness);
    child.on('message', (answer: HostAnswer) => {
      this.#tensors = answer.tensors;
      this.#queuedRefits = answer.queuedRefits;
      this.#cpuNow = answer.cpu;
      const pending = this.#pending.get(answer.id);
      if (pending === undefined) return;
      clearTimeout(pending.timer);
      this.#pending.delete(answer.id);
      if (answer.ok) pending.resolve(answer.value);
      else pending.reject(new Error(`model process: ${answer.message}`));
    });
    const ended = (exit: string) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      const reason = this.#stuck ?? exit;
      this.#stuck = undefined;
      // A new process starts with none; the count comes back with its first answer.
      this.#tensors = undefined;
      this.#queuedRefits = undefined;
      this.#sender.clear();
      // A new process counts from zero: keep what the dead one had reported, so the totals only grow.
      this.#cpuBefore = this.cpuSeconds();
      this.#cpuNow = { callsSeconds: 0, refitsSeconds: 0 };
      for (const pending of this.#pending.values()) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`the model process ${reason}; its fits are lost and are redone next cycle`));
      }
      this.#pending.clear();
      if (!this.#closed) this.#options.onExit?.(reason);
    };
    child.on('error', (error) => ended(`failed: ${error.message}`));
    child.on('exit', (code, signal) => ended(`exited with ${signal ?? `code ${code}`}`));
    this.#child = child;
    return child;
  }
}
