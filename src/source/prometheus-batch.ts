import { randomBytes } from 'node:crypto';
import { dispatch, type DispatchOptions, type ReadClients, type Request } from './prometheus-dispatch.js';
import type { QueryFailure } from './prometheus-http.js';
import type { PlannedQuery } from './prometheus-query-plan.js';
import type { ParsedResult, QueryOutcome, ResultSeries } from './prometheus-response.js';

// Several distinct queries in one request, the general PromQL way:
//   label_replace(<q0>, "foresight_batch", "<token>0", "foresight_batch", "") or label_replace(<q1>, …) or …
// and the answer's series split back by that label (dropped before anyone sees the series). Every
// HTTP request costs the service CPU (axios, node's http client, decompression, parsing), and a
// cycle at 1,000 queues sent about 1,100 of them (docs/workloads.md "Scale").
//
// The label is set only where a series lacks it (source label = the label itself, regex ""), so a
// result that already carries it keeps its own value, which is not ours: the batch is then not
// trusted and its queries are sent one by one. So is a batch Prometheus rejects (a syntax error,
// a sub-query that is a scalar, a string or a range vector, duplicate label sets), or whose answer
// is too large: each query then gets exactly the answer, or the problem, it would get alone.

/** The label that tells the queries of a batch apart. */
export const batchLabel = 'foresight_batch';

/** How large a batch may be. */
export interface BatchBounds {
  /** At most this many queries in one request; 1 turns batching off. */
  readonly maxQueries: number;
  /** A batched query longer than this (characters) is not formed: Prometheus-compatible front ends cap request bodies. */
  readonly maxQueryLength: number;
}

/** The queries of one request: `members` index the read's plan; `query` is what is sent. */
export interface Batch {
  readonly query: string;
  readonly members: readonly number[];
}

/**
 * This process' mark in the label's values: a query of ours can never return it by chance, so a
 * series carrying the label with another value is recognised as the query's own.
 */
const token = `${randomBytes(6).toString('hex')}-`;

/** The index label value of member `index` of a batch. */
export const batchLabelValue = (index: number): string => `${token}${index}`;

/** `query` with the label of member `index` set on every series that lacks it. */
function wrap(query: string, index: number): string {
  return `label_replace(${query}, "${batchLabel}", "${batchLabelValue(index)}", "${batchLabel}", "")`;
}

/**
 * Groups queries into batches within `bounds`, as evenly as `spreadOver` requests allow: a read's
 * batches then keep every connection of the concurrency busy, instead of one large batch running
 * alone while the others idle. A query too long to share a request is sent alone, unwrapped.
 */
export function planBatches(queries: readonly string[], bounds: BatchBounds, spreadOver: number): Batch[] {
  const perBatch = Math.max(1, Math.min(bounds.maxQueries, Math.ceil(queries.length / Math.max(1, spreadOver))));
  const batches: Batch[] = [];
  let members: number[] = [];
  let length = 0;
  const close = (): void => {
    if (members.length === 1) batches.push({ query: queries[members[0]!]!, members });
    else if (members.length > 1) batches.push({ query: members.map((m, i) => wrap(queries[m]!, i)).join(' or '), members });
    members = [];
    length = 0;
  };
  // What a query adds to the batch as its member `at` (its wrapping names its index).
  const cost = (query: string, at: number): number => (at === 0 ? 0 : ' or '.length) + wrap(query, at).length;
  queries.forEach((query, index) => {
    if (members.length > 0 && (members.length >= perBatch || length + cost(query, members.length) > bounds.maxQueryLength)) close();
    length += cost(query, members.length);
    members.push(index);
  });
  close();
  return batches;
}

/**
 * The answer of a batch of `size` queries split into one answer per query, with the index label
 * dropped; undefined when the answer cannot be trusted to be what each query would answer alone
 * (an error, a result type other than `kind`, a series without our label value, duplicate label sets).
 */
export function splitBatch(answer: ParsedResult, size: number, kind: 'vector' | 'matrix'): ParsedResult[] | undefined {
  if ('error' in answer || answer.kind !== kind) return undefined;
  const parts: ResultSeries[][] = Array.from({ length: size }, () => []);
  const seen: Set<string>[] = Array.from({ length: size }, () => new Set());
  for (const series of answer.series) {
    const value = series.labels[batchLabel];
    if (value === undefined || !value.startsWith(token)) return undefined;
    const index = Number(value.slice(token.length));
    const part = Number.isInteger(index) && index >= 0 ? parts[index] : undefined;
    if (part === undefined || batchLabelValue(index) !== value) return undefined;
    const { [batchLabel]: _dropped, ...labels } = series.labels;
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (seen[index]!.has(key)) return undefined;
    seen[index]!.add(key);
    part.push({ labels, samples: series.samples });
  }
  return parts.map((series) => ({ kind, series }));
}

/**
 * Sends a read's queries in batches (one request each, see {@link planBatches}) and gives every
 * planned query its own outcome, as if it had been sent alone: a batch whose answer is not
 * trusted, or that Prometheus refused, is sent again one query per request. When Prometheus could
 * not be reached for a batch, each of its queries fails with that reason and is not sent again.
 * Rejects as {@link dispatch} does.
 */
export async function dispatchBatched(
  plan: readonly PlannedQuery[],
  kind: 'instant' | 'range',
  send: (query: string) => (clients: ReadClients) => Promise<ParsedResult>,
  bounds: BatchBounds,
  options: DispatchOptions,
  signal: AbortSignal | undefined,
): Promise<QueryOutcome[]> {
  const requestsOf = (queries: readonly string[]): Request[][] => queries.map((query, index) => [{ query: index, kind, send: send(query) }]);
  const batches = planBatches(
    plan.map((p) => p.query),
    bounds,
    options.concurrency,
  );
  // What a batch's failure messages name: the batch can be 256 KiB of PromQL.
  const named = (b: Batch): string => (b.members.length === 1 ? b.query : `a batch of ${b.members.length} queries, the first: ${plan[b.members[0]!]!.query}`);
  const sent = await dispatch(
    batches.map((b) => ({ query: named(b), targets: [] })),
    requestsOf(batches.map((b) => b.query)),
    options,
    signal,
  );
  const outcomes: (QueryOutcome | undefined)[] = plan.map(() => undefined);
  const again: number[] = [];
  batches.forEach(({ members }, b) => {
    const outcome = sent[b]!;
    if (members.length === 1) {
      outcomes[members[0]!] = outcome;
      return;
    }
    if (!outcome.ok) {
      if (outcome.failure.unreachable) for (const m of members) outcomes[m] = { ok: false, failure: forQuery(outcome.failure, plan[m]!.query) };
      else again.push(...members);
      return;
    }
    const parts = outcome.results.length === 1 ? splitBatch(outcome.results[0]!, members.length, kind === 'instant' ? 'vector' : 'matrix') : undefined;
    if (parts === undefined) again.push(...members);
    else
      members.forEach((m, i) => {
        outcomes[m] = { ok: true, results: [parts[i]!] };
      });
  });
  if (again.length > 0) {
    const alone = await dispatch(
      again.map((m) => plan[m]!),
      requestsOf(again.map((m) => plan[m]!.query)),
      options,
      signal,
    );
    again.forEach((m, i) => {
      outcomes[m] = alone[i]!;
    });
  }
  return outcomes.map((o) => o!);
}

/** A batch's failure as the failure of one of its queries (the message names that query, not the batch). */
function forQuery(failure: QueryFailure, query: string): QueryFailure {
  return { ...failure, message: `${failure.detail}: ${query}` };
}
