import { performance } from 'node:perf_hooks';
import type { PrometheusDriver } from 'prometheus-query';
import { ForesightError } from '../core/index.js';
import { createDriver, type DriverOptions, normaliseFailure, type QueryFailure, requestPreparer } from './prometheus-http.js';
import type { PlannedQuery } from './prometheus-query-plan.js';
import { createRangeClient, type RangeQuery } from './prometheus-range.js';
import type { ParsedResult, QueryOutcome } from './prometheus-response.js';

/** One HTTP request to Prometheus, for timing it without the source depending on prom-client. */
export interface QueryEvent {
  /** `instant` for `/api/v1/query`, `range` for one chunk of `/api/v1/query_range`. */
  readonly kind: 'instant' | 'range';
  /** From sending the request to its answer or failure (monotonic time). */
  readonly durationSeconds: number;
  /** `error` for any failure: an HTTP error, a network error or a timeout. */
  readonly outcome: 'success' | 'error';
}

/** The clients of one read: prometheus-query for instant queries, the column decoder for range queries (prometheus-range.ts). */
export interface ReadClients {
  readonly driver: PrometheusDriver;
  readonly queryRange: RangeQuery;
}

/** One HTTP request of a read (an instant query, or one time chunk of a range query), decoded as its answer arrives. */
export interface Request {
  readonly query: number;
  readonly kind: 'instant' | 'range';
  readonly send: (clients: ReadClients) => Promise<ParsedResult>;
}

/** How a read's requests are sent. */
export interface DispatchOptions extends DriverOptions {
  /** At most this many requests are in flight at once. */
  readonly concurrency: number;
  /** Called after every HTTP request. It must not throw; whatever it throws is ignored. */
  readonly onQuery: ((event: QueryEvent) => void) | undefined;
}

/**
 * Sends the requests of a read, at most `concurrency` at a time, and gathers one outcome per
 * planned query (the first failure of any of its chunks, or all its results). Rejects when every
 * query failed to reach Prometheus (`FORESIGHT_ERR_SOURCE_TIMEOUT` when they all timed out,
 * `FORESIGHT_ERR_SOURCE_QUERY` otherwise), or with the signal's reason when it is aborted.
 */
export async function dispatch(plan: readonly PlannedQuery[], requests: readonly (readonly Request[])[], options: DispatchOptions, signal: AbortSignal | undefined): Promise<QueryOutcome[]> {
  if (plan.length === 0) return [];
  const prepare = requestPreparer(options, signal);
  const clients: ReadClients = { driver: createDriver(options, prepare), queryRange: createRangeClient(options, prepare) };
  const results: ParsedResult[][] = plan.map(() => []);
  const failures: (QueryFailure | undefined)[] = plan.map(() => undefined);
  const queue = requests.flatMap((chunks) => chunks.map((request, chunk) => ({ request, chunk })));
  let next = 0;
  // Until some answer has come back, requests beyond the first wave wait for that wave: if every
  // request of it failed to reach Prometheus, it is down and the rest is not sent, so an outage
  // costs one timeout per read instead of one per `concurrency` queries.
  const firstWave = Math.min(options.concurrency, queue.length);
  let firstWaveLeft = firstWave;
  let settleFirstWave = (): void => undefined;
  const firstWaveSettled = new Promise<void>((resolve) => {
    settleFirstWave = resolve;
  });
  let reached = false;
  let firstUnreachable: QueryFailure | undefined;

  /** Sends request number `index`, or records why it is not sent; false when the read is aborted. */
  const send = async (index: number): Promise<boolean> => {
    const { request, chunk } = queue[index]!;
    if (index >= firstWave && !reached) await firstWaveSettled;
    if (isAborted(signal)) return false;
    if (failures[request.query] !== undefined) return true;
    if (index >= firstWave && !reached && firstUnreachable !== undefined) {
      failures[request.query] = {
        ...firstUnreachable,
        message: `not sent, Prometheus looks unreachable (${firstUnreachable.message}): ${plan[request.query]!.query}`,
        // Without the first query: that may be a batch of many.
        detail: `not sent, Prometheus looks unreachable (${firstUnreachable.detail})`,
      };
      return true;
    }
    const startedAt = performance.now();
    try {
      // Decoded as it arrives: an answer's bytes (or the driver's objects) are garbage before the
      // next arrives, instead of every answer living until the whole read ends.
      results[request.query]![chunk] = await request.send(clients);
      reached = true;
      emit(options.onQuery, request.kind, startedAt, 'success');
    } catch (error) {
      if (isAborted(signal)) return false;
      const failure = normaliseFailure(error, plan[request.query]!.query);
      if (failure.unreachable) firstUnreachable ??= failure;
      else reached = true;
      failures[request.query] ??= failure;
      emit(options.onQuery, request.kind, startedAt, 'error');
    }
    return true;
  };
  const worker = async (): Promise<void> => {
    while (next < queue.length) {
      const index = next++;
      let carryOn: boolean;
      try {
        carryOn = await send(index);
      } finally {
        if (index < firstWave && --firstWaveLeft === 0) settleFirstWave();
      }
      if (!carryOn) return;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, queue.length) }, worker));
  signal?.throwIfAborted();

  const outcomes = plan.map((_, query): QueryOutcome => {
    const failure = failures[query];
    return failure === undefined ? { ok: true, results: results[query]! } : { ok: false, failure };
  });
  const failed = outcomes.flatMap((o) => (o.ok ? [] : [o.failure]));
  if (failed.length === outcomes.length && failed.every((f) => f.unreachable)) {
    const first = failed[0]!;
    const code = failed.every((f) => f.timeout) ? 'FORESIGHT_ERR_SOURCE_TIMEOUT' : 'FORESIGHT_ERR_SOURCE_QUERY';
    throw new ForesightError(code, `Prometheus at ${options.url} is unreachable: all ${failed.length} queries failed; the first: ${first.message}`, {
      cause: first.raw,
    });
  }
  return outcomes;
}

function emit(onQuery: ((event: QueryEvent) => void) | undefined, kind: 'instant' | 'range', startedAt: number, outcome: 'success' | 'error'): void {
  if (onQuery === undefined) return;
  try {
    // performance.now() is monotonic: a duration, not a point in time, so it is not the Clock's business.
    onQuery({ kind, outcome, durationSeconds: (performance.now() - startedAt) / 1000 });
  } catch {
    // A broken metrics hook must not turn a good query into a failed one.
  }
}

// A function, not an inline test: TypeScript would keep `aborted` narrowed across an await.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
