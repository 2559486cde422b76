import { stableHash32 } from '../core/index.js';
import type { EachOriginForecasts } from '../forecast/index.js';
import type {
  HostForecastRequest,
  HostLearnedPoint,
  HostLearnedPointsRequest,
  HostLearnedRequest,
  HostOptimizeReply,
  HostOptimizeRequest,
  HostSeriesReply,
  HostValidateRequest,
  ModelHostPort,
} from './model-host.js';

/**
 * Several model processes behind one {@link ModelHostPort} (`forecast.modelProcesses`): each series
 * belongs to one process, chosen by a stable hash of its key, so its fit and its restored learned
 * model stay in that process from cycle to cycle, and a cycle's fits run on as many cores as there
 * are processes. The resource optimizer and whole-series learned comparisons (no key) run in the
 * first process. Answers come back in the order of the request, exactly as from one process.
 */
export class ModelProcessPool implements ModelHostPort {
  readonly #hosts: readonly ModelHostPort[];

  constructor(hosts: readonly ModelHostPort[]) {
    if (hosts.length === 0) throw new Error('a model process pool needs at least one process');
    this.#hosts = hosts;
  }

  /** The process a series belongs to. */
  #indexOf(key: string): number {
    return stableHash32(key) % this.#hosts.length;
  }

  /** Sends each process its share of `items` (none when it has none) and puts the answers back in request order. */
  async #spread<I extends { readonly key: string }, R>(items: readonly I[], call: (host: ModelHostPort, share: I[]) => Promise<readonly R[]>): Promise<R[]> {
    const shares = this.#hosts.map((): { items: I[]; positions: number[] } => ({ items: [], positions: [] }));
    items.forEach((item, position) => {
      const share = shares[this.#indexOf(item.key)]!;
      share.items.push(item);
      share.positions.push(position);
    });
    const answers = await Promise.all(shares.map((share, index) => (share.items.length === 0 ? Promise.resolve([]) : call(this.#hosts[index]!, share.items))));
    const out = new Array<R>(items.length);
    shares.forEach((share, index) => {
      share.positions.forEach((position, i) => {
        out[position] = answers[index]![i]!;
      });
    });
    return out;
  }

  forecast(request: HostForecastRequest): Promise<HostSeriesReply[]> {
    return this.#spread(request.series, (host, series) => host.forecast({ ...request, series }));
  }

  validate(request: HostValidateRequest): Promise<number[]> {
    return this.#spread(request.items, (host, items) => host.validate({ ...request, items }));
  }

  learnedForecasts(request: HostLearnedRequest): Promise<EachOriginForecasts> {
    return this.#hosts[0]!.learnedForecasts(request);
  }

  learnedPoints(request: HostLearnedPointsRequest): Promise<HostLearnedPoint[]> {
    return this.#spread(request.items, (host, items) => host.learnedPoints({ ...request, items }));
  }

  tensorCount(): number | undefined {
    const counts = this.#hosts.map((h) => h.tensorCount()).filter((c): c is number => c !== undefined);
    return counts.length === 0 ? undefined : counts.reduce((a, b) => a + b, 0);
  }

  queuedRefits(): number | undefined {
    const counts = this.#hosts.map((h) => h.queuedRefits()).filter((c): c is number => c !== undefined);
    return counts.length === 0 ? undefined : counts.reduce((a, b) => a + b, 0);
  }

  cpuSeconds(): { readonly callsSeconds: number; readonly refitsSeconds: number } {
    const all = this.#hosts.map((h) => h.cpuSeconds());
    return { callsSeconds: all.reduce((sum, c) => sum + c.callsSeconds, 0), refitsSeconds: all.reduce((sum, c) => sum + c.refitsSeconds, 0) };
  }

  async refitsDone(): Promise<void> {
    await Promise.all(this.#hosts.map((h) => h.refitsDone()));
  }

  optimize(request: HostOptimizeRequest): Promise<HostOptimizeReply[]> {
    return this.#hosts[0]!.optimize(request);
  }

  async close(): Promise<void> {
    await Promise.all(this.#hosts.map((h) => h.close()));
  }
}
