import { type CompiledTemplate, ForesightError, type InputRef, type WorkloadRef } from '../core/index.js';
import type { HistoryReading, HistoryReadings, LatestReadings, MetricSource, QueueDiscovery, Reading, SourceProblem, TimeRange } from './metric-source.js';
import { type BatchBounds, dispatchBatched } from './prometheus-batch.js';
import { dispatch, type DispatchOptions, type QueryEvent, type ReadClients, type Request } from './prometheus-dispatch.js';
import type { PrometheusAuth } from './prometheus-http.js';
import { chunkRange, compileTemplates, configError, discoveryKey, type PlannedQuery, planQueries, type PrometheusQueries } from './prometheus-query-plan.js';
import { instantValue, onGrid, parseResult, picker, seriesOf } from './prometheus-response.js';
import { type PublishedRead, type PublishedSeriesReader, readPublished } from './published-series.js';

/** How to reach Prometheus and what to ask it. */
export interface PrometheusSourceOptions {
  /**
   * Base URL of the Prometheus HTTP API, without `/api/v1`: `http://prometheus:9090`, or with the
   * path prefix of a Prometheus-compatible service such as `http://mimir:8080/prometheus`.
   */
  readonly url: string;
  /** Default `{ type: 'none' }`. */
  readonly auth?: PrometheusAuth;
  /** Extra request headers, e.g. `X-Scope-OrgID` for a Mimir, Cortex or Thanos tenant. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Ask for gzip-compressed answers: about 5× fewer bytes, for more CPU on both ends (bench:source-reads).
   * Default false (`Accept-Encoding: identity`).
   */
  readonly gzip?: boolean;
  /** PEM file of the CAs that sign an https:// Prometheus' certificate, trusted besides the system CAs; re-read on every read. */
  readonly caFile?: string;
  /** Timeout of one HTTP request; also sent to Prometheus as the evaluation timeout. Default 10. */
  readonly timeoutSeconds?: number;
  /** Range queries are split so that no series returns more points than this. 1 to 11,000; default 10,000. */
  readonly maxPointsPerQuery?: number;
  /** The label naming the queue in results of queue templates without `{{queue}}`. Default `queue`. */
  readonly queueLabel?: string;
  /** Answers larger than this many bytes are refused (`query_failed`). Default 16 MiB. */
  readonly maxResponseBytes?: number;
  /** At most this many requests are in flight at once. Default 8. */
  readonly concurrency?: number;
  /**
   * At most this many distinct queries are sent in one request (prometheus-batch.ts), for instant
   * reads and short range reads; 1 sends each alone. Default 100.
   */
  readonly batchMaxQueries?: number;
  /** The PromQL template of every input (`queries.*` in the configuration). */
  readonly queries: PrometheusQueries;
  /** Called after every HTTP request. It must not throw; whatever it throws is ignored. */
  readonly onQuery?: (event: QueryEvent) => void;
}

// Prometheus refuses a range query whose series would have more than 11,000 points
// ("exceeded maximum resolution of 11,000 points per timeseries").
const prometheusMaxPoints = 11_000;
const defaultMaxPoints = 10_000;
const defaultTimeoutSeconds = 10;
const defaultConcurrency = 8;
const defaultBatchMaxQueries = 100;
/** Prometheus reads a form body of up to 10 MB; front ends (a proxy, Mimir's query-frontend) may cap it lower. */
const batchMaxQueryLength = 256 * 1024;
/**
 * Range reads of at most this many points per series are batched: the recent past a cycle reads
 * (a few points a series). Longer reads (a window's first or older slices) go alone, each bounded
 * by maxPointsPerQuery and maxResponseBytes; batched, one answer could hold the points of many.
 */
const batchMaxRangePoints = 60;
/** A range query of 10,000 points is about 300 KB per series: 16 MiB holds about 50 series per query. */
const defaultMaxResponseBytes = 16 * 1024 * 1024;

/**
 * The {@link MetricSource} that queries a Prometheus-compatible HTTP API: instant queries through
 * `prometheus-query`, range queries through the same axios with their answers decoded straight into
 * columns (prometheus-range.ts).
 *
 * Results follow KEDA's Prometheus scaler policy: an empty result is the problem `empty`; more
 * than one series where one input expects one is `multiple_series` (never a guess); a NaN or ±Inf
 * latest value is `not_finite`; a query Prometheus rejects, or one that cannot be sent, is
 * `query_failed`, with Prometheus' error text and the query in the message. A read rejects only
 * when every one of its queries failed to reach Prometheus (a `ForesightError` with code
 * `FORESIGHT_ERR_SOURCE_TIMEOUT` when they all timed out, `FORESIGHT_ERR_SOURCE_QUERY` otherwise),
 * or with the signal's reason when it is aborted.
 *
 * Templates are compiled in the constructor, which throws `FORESIGHT_ERR_CONFIG_INVALID` for a bad
 * template or option, so that a bad configuration fails at startup or reload rather than per query.
 */
export class PrometheusSource implements MetricSource, PublishedSeriesReader {
  readonly #dispatchOptions: DispatchOptions;
  readonly #batchBounds: BatchBounds;
  readonly #timeoutSeconds: number;
  readonly #maxPoints: number;
  readonly #queueLabel: string;
  readonly #templates: ReadonlyMap<string, CompiledTemplate>;
  /** The queue label of each workload's discovery query, by {@link discoveryKey}. */
  readonly #discoveryLabels = new Map<string, string>();

  constructor(options: PrometheusSourceOptions) {
    const url = checkUrl(options.url);
    const auth = checkAuth(options.auth ?? { type: 'none' });
    this.#timeoutSeconds = checkNumber('timeoutSeconds', options.timeoutSeconds ?? defaultTimeoutSeconds, 0, Infinity, false);
    this.#maxPoints = checkNumber('maxPointsPerQuery', options.maxPointsPerQuery ?? defaultMaxPoints, 1, prometheusMaxPoints, true);
    const concurrency = checkNumber('concurrency', options.concurrency ?? defaultConcurrency, 1, Infinity, true);
    this.#queueLabel = options.queueLabel ?? 'queue';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(this.#queueLabel)) {
      throw configError(`queueLabel ${JSON.stringify(this.#queueLabel)} is not a Prometheus label name`);
    }
    this.#templates = compileTemplates(options.queries);
    for (const w of options.queries.workloads ?? []) {
      if (w.discovery === undefined) continue;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(w.discovery.label)) throw configError(`${w.where}: discovery label ${JSON.stringify(w.discovery.label)} is not a Prometheus label name`);
      this.#discoveryLabels.set(discoveryKey(w), w.discovery.label);
    }
    this.#batchBounds = { maxQueries: checkNumber('batchMaxQueries', options.batchMaxQueries ?? defaultBatchMaxQueries, 1, Infinity, true), maxQueryLength: batchMaxQueryLength };
    const maxResponseBytes = checkNumber('maxResponseBytes', options.maxResponseBytes ?? defaultMaxResponseBytes, 1, Number.MAX_SAFE_INTEGER, true);
    // Uncompressed unless asked: measured, gzip cost this process 40–70% more CPU for the history
    // reads and Prometheus the compression, for bytes that usually cross a cluster network (docs/sources.md).
    const headers = options.gzip === true ? { ...options.headers } : { 'Accept-Encoding': 'identity', ...options.headers };
    this.#dispatchOptions = { url, auth, headers, caFile: options.caFile, timeoutSeconds: this.#timeoutSeconds, maxResponseBytes, concurrency, onQuery: options.onQuery };
  }

  /** Runs an instant query per distinct query at `atMs`, several in one request (prometheus-batch.ts). */
  async readLatest(inputs: readonly InputRef[], atMs: number, signal?: AbortSignal): Promise<LatestReadings> {
    signal?.throwIfAborted();
    const plan = planQueries(inputs, this.#templates);
    const evaluationTimeout = this.#evaluationTimeout();
    const send =
      (query: string) =>
      async ({ driver }: ReadClients) =>
        parseResult(await driver.instantQuery(query, new Date(atMs), evaluationTimeout));
    const outcomes = await dispatchBatched(plan, 'instant', send, this.#batchBounds, this.#dispatchOptions, signal);

    const readings: Reading[] = [];
    const problems: SourceProblem[] = [];
    plan.forEach(({ query, targets }, index) => {
      const pick = picker(seriesOf(outcomes[index]!, query, 'instant'), query, this.#queueLabel);
      for (const target of targets) {
        const picked = pick(target);
        if ('problem' in picked) {
          problems.push(picked.problem);
          continue;
        }
        // An instant query reports every sample at the evaluation time, whatever its scrape time.
        const value = instantValue(picked.series);
        if (Number.isFinite(value)) readings.push({ input: target.input, timestampMs: atMs, value });
        else problems.push({ input: target.input, reason: 'not_finite', message: `value is ${String(value)}: ${query}` });
      }
    });
    return { readings, problems };
  }

  /**
   * Runs one range query per distinct query, split into chunks of at most `maxPointsPerQuery`
   * points; a short range (the recent past of a cycle) sends several queries in one request.
   */
  async readHistory(inputs: readonly InputRef[], range: TimeRange, signal?: AbortSignal): Promise<HistoryReadings> {
    signal?.throwIfAborted();
    checkRange(range);
    const plan = planQueries(inputs, this.#templates);
    const evaluationTimeout = this.#evaluationTimeout();
    const chunks = chunkRange(range, Math.min(this.#maxPoints, batchMaxRangePoints));
    const outcomes =
      chunks.length === 1
        ? await dispatchBatched(
            plan,
            'range',
            (query) =>
              ({ queryRange }) =>
                queryRange(query, chunks[0]!, evaluationTimeout),
            this.#batchBounds,
            this.#dispatchOptions,
            signal,
          )
        : await dispatch(plan, this.#rangeRequests(plan, range, evaluationTimeout), this.#dispatchOptions, signal);

    const history: HistoryReading[] = [];
    const problems: SourceProblem[] = [];
    plan.forEach(({ query, targets }, index) => {
      const pick = picker(seriesOf(outcomes[index]!, query, 'range'), query, this.#queueLabel);
      for (const target of targets) {
        const picked = pick(target);
        if ('problem' in picked) {
          problems.push(picked.problem);
          continue;
        }
        const grid = onGrid(picked.series.samples, range);
        if (grid.values.some(Number.isFinite)) history.push({ input: target.input, series: grid });
        else problems.push({ input: target.input, reason: 'not_finite', message: `no finite value in the range: ${query}` });
      }
    });
    return { history, problems };
  }

  /** One request per chunk of at most `maxPointsPerQuery` points of each query. */
  #rangeRequests(plan: readonly PlannedQuery[], range: TimeRange, evaluationTimeout: string): Request[][] {
    const chunks = chunkRange(range, this.#maxPoints);
    return plan.map((planned, query): Request[] =>
      chunks.map((chunk) => ({
        query,
        kind: 'range',
        send: ({ queryRange }) => queryRange(planned.query, chunk, evaluationTimeout),
      })),
    );
  }

  /** Runs a workload's discovery query: the distinct values of its label among the result's series. */
  async discoverQueues(workload: WorkloadRef, atMs: number, signal?: AbortSignal): Promise<QueueDiscovery | undefined> {
    const key = discoveryKey(workload);
    const template = this.#templates.get(key);
    const label = this.#discoveryLabels.get(key);
    if (template === undefined || label === undefined) return undefined;
    const query = template.render({ namespace: workload.namespace, workload: workload.workload });
    const evaluationTimeout = this.#evaluationTimeout();
    let outcomes: Awaited<ReturnType<typeof dispatch>>;
    try {
      outcomes = await dispatch(
        [{ query, targets: [] }],
        [[{ query: 0, kind: 'instant', send: async ({ driver }) => parseResult(await driver.instantQuery(query, new Date(atMs), evaluationTimeout)) }]],
        this.#dispatchOptions,
        signal,
      );
    } catch (error) {
      signal?.throwIfAborted();
      return { ok: false, query, message: error instanceof Error ? error.message : String(error) };
    }
    const result = seriesOf(outcomes[0]!, query, 'instant');
    if ('failure' in result) return { ok: false, query, message: result.failure };
    const names = new Set<string>();
    for (const series of result.series) {
      const name = series.labels[label];
      if (name !== undefined && name !== '') names.add(name);
    }
    return { ok: true, query, queues: [...names].sort() };
  }

  /** Reads Foresight's own published series back (a sharded replica reads the other shards; published-series.ts). */
  readPublished(matchers: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<PublishedRead> {
    return readPublished(this.#dispatchOptions, this.#evaluationTimeout(), matchers, signal);
  }

  #evaluationTimeout(): string {
    // Prometheus durations take integers only ("2.5s" is invalid), so send milliseconds.
    return `${Math.max(1, Math.round(this.#timeoutSeconds * 1000))}ms`;
  }
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw configError(`url ${JSON.stringify(url)} is not a URL`, error);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw configError(`url ${JSON.stringify(url)} must be http:// or https://`);
  return url.replace(/\/+$/, '');
}

function checkAuth(auth: PrometheusAuth): PrometheusAuth {
  if (auth.type !== 'basic') return auth;
  const hasPassword = auth.password !== undefined;
  const hasPasswordFile = auth.passwordFile !== undefined;
  if (hasPassword === hasPasswordFile) {
    throw configError('basic auth needs exactly one of password and passwordFile');
  }
  return auth;
}

function checkNumber(name: string, value: number, min: number, max: number, integer: boolean): number {
  const bad = !Number.isFinite(value) || (integer && !Number.isInteger(value)) || (min === 0 ? value <= 0 : value < min) || value > max;
  if (bad) {
    const expected = `${integer ? 'an integer' : 'a number'} ${min === 0 ? 'greater than 0' : `of at least ${min}`}${max === Infinity ? '' : ` and at most ${max}`}`;
    throw configError(`${name} must be ${expected}, got ${value}`);
  }
  return value;
}

function checkRange(range: TimeRange): void {
  if (!(range.stepSeconds > 0) || !Number.isFinite(range.startMs) || !Number.isFinite(range.endMs) || range.endMs < range.startMs) {
    throw new ForesightError('FORESIGHT_ERR_INPUT_INVALID', `invalid time range: startMs ${range.startMs}, endMs ${range.endMs}, stepSeconds ${range.stepSeconds}`);
  }
}
