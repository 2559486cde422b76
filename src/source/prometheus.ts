import { readFile, stat } from 'node:fs/promises';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { rootCertificates } from 'node:tls';
import { PrometheusDriver, type QueryResult } from 'prometheus-query';
import {
  ForesightError,
  inputKey,
  toRegularSeries,
  type InputRef,
  type PerformanceMetric,
  type QueueMetric,
  type Resource,
  type Sample,
  type SystemMetric,
} from '../core/index.js';
import type {
  HistoryReading,
  HistoryReadings,
  LatestReadings,
  MetricSource,
  Reading,
  SourceProblem,
  TimeRange,
} from './metric-source.js';
import { compileTemplate, type CompiledTemplate } from './promql.js';

/**
 * How Foresight authenticates to Prometheus (or Thanos, Mimir, Cortex). Secrets read from files
 * are read again for every query, so that a rotated token or password is picked up without a
 * restart (as a projected service-account token is rotated by the kubelet).
 */
export type PrometheusAuth =
  | { readonly type: 'none' }
  /** `Authorization: Bearer <token>`. */
  | { readonly type: 'bearer'; readonly token: string }
  /** `Authorization: Bearer <contents of tokenFile, trimmed>`. */
  | { readonly type: 'bearerFile'; readonly tokenFile: string }
  /** HTTP basic authentication; exactly one of `password` and `passwordFile` must be set. */
  | { readonly type: 'basic'; readonly username: string; readonly password?: string; readonly passwordFile?: string };

/** The PromQL templates, one per input; an empty string turns that input off. */
export interface PrometheusQueries {
  /**
   * Queue templates. One containing `{{queue}}` runs once per queue. One without it runs once per
   * read, and its series are assigned to queues by the `queueLabel` label (one query for 1,000 queues).
   */
  readonly queue: Readonly<Record<QueueMetric, string>>;
  /** Node-level templates (they must not use `{{queue}}`). */
  readonly system: Readonly<Record<SystemMetric, string>>;
  /** Service-level templates (they must not use `{{queue}}`). */
  readonly performance: Readonly<Record<PerformanceMetric, string>>;
  /** Current replicas (or pool size) per resource (they must not use `{{queue}}`). */
  readonly replicas: Readonly<Record<Resource, string>>;
}

/** One HTTP request to Prometheus, for timing it without the source depending on prom-client. */
export interface QueryEvent {
  /** `instant` for `/api/v1/query`, `range` for one chunk of `/api/v1/query_range`. */
  readonly kind: 'instant' | 'range';
  /** From sending the request to its answer or failure (monotonic time). */
  readonly durationSeconds: number;
  /** `error` for any failure: an HTTP error, a network error or a timeout. */
  readonly outcome: 'success' | 'error';
}

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
  /** PEM file of the CAs that sign an https:// Prometheus' certificate, trusted besides the system CAs; re-read on every read. */
  readonly caFile?: string;
  /** Timeout of one HTTP request; also sent to Prometheus as the evaluation timeout. Default 10. */
  readonly timeoutSeconds?: number;
  /** Range queries are split so that no series returns more points than this. 1 to 11,000; default 10,000. */
  readonly maxPointsPerQuery?: number;
  /** The label naming the queue in results of queue templates without `{{queue}}`. Default `queue`. */
  readonly queueLabel?: string;
  /** At most this many requests are in flight at once. Default 8. */
  readonly concurrency?: number;
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
// Enough of an unexpected response body to recognise it (an HTML error page, a login form).
const bodySnippetLength = 200;

/** How one input is taken from the result of a query. */
interface Target {
  readonly input: InputRef;
  /** For grouped queue templates: the `queueLabel` value that selects this input's series. */
  readonly queue?: string;
}

/** One distinct PromQL query of a read and the inputs it serves. */
interface PlannedQuery {
  readonly query: string;
  readonly targets: Target[];
}

/** One series of a result, as plain data. */
interface ResultSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: readonly Sample[];
}

type ResultKind = 'matrix' | 'vector' | 'scalar';

/** Why a query produced nothing, and whether it says anything about Prometheus as a whole. */
interface QueryFailure {
  readonly message: string;
  /** Prometheus could not be reached (network, TLS, gateway 502/503/504, unreadable credentials). */
  readonly unreachable: boolean;
  /** The request timed out. */
  readonly timeout: boolean;
  /** What the driver rejected with, for `cause`. */
  readonly raw: unknown;
}

type QueryOutcome =
  | { readonly ok: true; readonly results: readonly QueryResult[] }
  | { readonly ok: false; readonly failure: QueryFailure };

/** One HTTP request of a read (an instant query, or one time chunk of a range query). */
interface Request {
  readonly query: number;
  readonly kind: 'instant' | 'range';
  readonly send: (driver: PrometheusDriver) => Promise<QueryResult>;
}

/** Raised while preparing a request when a credentials file cannot be read. */
class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/**
 * The {@link MetricSource} that queries a Prometheus-compatible HTTP API through `prometheus-query`.
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
export class PrometheusSource implements MetricSource {
  readonly #url: string;
  readonly #auth: PrometheusAuth;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #caFile: string | undefined;
  readonly #timeoutSeconds: number;
  readonly #maxPoints: number;
  readonly #queueLabel: string;
  readonly #concurrency: number;
  readonly #templates: ReadonlyMap<string, CompiledTemplate>;
  readonly #onQuery: ((event: QueryEvent) => void) | undefined;

  constructor(options: PrometheusSourceOptions) {
    this.#url = checkUrl(options.url);
    this.#auth = checkAuth(options.auth ?? { type: 'none' });
    this.#headers = { ...options.headers };
    this.#caFile = options.caFile;
    this.#timeoutSeconds = checkNumber('timeoutSeconds', options.timeoutSeconds ?? defaultTimeoutSeconds, 0, Infinity, false);
    this.#maxPoints = checkNumber('maxPointsPerQuery', options.maxPointsPerQuery ?? defaultMaxPoints, 1, prometheusMaxPoints, true);
    this.#concurrency = checkNumber('concurrency', options.concurrency ?? defaultConcurrency, 1, Infinity, true);
    this.#queueLabel = options.queueLabel ?? 'queue';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(this.#queueLabel)) {
      throw configError(`queueLabel ${JSON.stringify(this.#queueLabel)} is not a Prometheus label name`);
    }
    this.#templates = compileTemplates(options.queries);
    this.#onQuery = options.onQuery;
  }

  /** Runs one instant query per distinct query at `atMs`. */
  async readLatest(inputs: readonly InputRef[], atMs: number, signal?: AbortSignal): Promise<LatestReadings> {
    signal?.throwIfAborted();
    const plan = this.#plan(inputs);
    const evaluationTimeout = this.#evaluationTimeout();
    const requests = plan.map((_, query): Request[] => [
      {
        query,
        kind: 'instant',
        send: (driver) => driver.instantQuery(plan[query]!.query, new Date(atMs), evaluationTimeout),
      },
    ]);
    const outcomes = await this.#execute(plan, requests, signal);

    const readings: Reading[] = [];
    const problems: SourceProblem[] = [];
    plan.forEach(({ query, targets }, index) => {
      const pick = this.#picker(seriesOf(outcomes[index]!, query, 'instant'), query);
      for (const target of targets) {
        const picked = pick(target);
        if ('problem' in picked) {
          problems.push(picked.problem);
          continue;
        }
        // An instant query reports every sample at the evaluation time, whatever its scrape time.
        const value = picked.series.samples[0]?.value ?? Number.NaN;
        if (Number.isFinite(value)) readings.push({ input: target.input, timestampMs: atMs, value });
        else problems.push({ input: target.input, reason: 'not_finite', message: `value is ${String(value)}: ${query}` });
      }
    });
    return { readings, problems };
  }

  /** Runs one range query per distinct query, split into chunks of at most `maxPointsPerQuery` points. */
  async readHistory(inputs: readonly InputRef[], range: TimeRange, signal?: AbortSignal): Promise<HistoryReadings> {
    signal?.throwIfAborted();
    checkRange(range);
    const plan = this.#plan(inputs);
    const evaluationTimeout = this.#evaluationTimeout();
    const chunks = chunkRange(range, this.#maxPoints);
    const requests = plan.map((planned, query): Request[] =>
      chunks.map((chunk) => ({
        query,
        kind: 'range',
        send: (driver) => driver.rangeQuery(planned.query, new Date(chunk.startMs), new Date(chunk.endMs), range.stepSeconds, evaluationTimeout),
      })),
    );
    const outcomes = await this.#execute(plan, requests, signal);

    const history: HistoryReading[] = [];
    const problems: SourceProblem[] = [];
    plan.forEach(({ query, targets }, index) => {
      const pick = this.#picker(seriesOf(outcomes[index]!, query, 'range'), query);
      for (const target of targets) {
        const picked = pick(target);
        if ('problem' in picked) {
          problems.push(picked.problem);
          continue;
        }
        const grid = toRegularSeries(snapToGrid(picked.series.samples, range), range.stepSeconds, range.startMs, range.endMs);
        if (grid.values.some(Number.isFinite)) history.push({ input: target.input, series: grid });
        else problems.push({ input: target.input, reason: 'not_finite', message: `no finite value in the range: ${query}` });
      }
    });
    return { history, problems };
  }

  /** Groups the inputs by the query that serves them; inputs whose template is empty are left out. */
  #plan(inputs: readonly InputRef[]): PlannedQuery[] {
    const byQuery = new Map<string, PlannedQuery>();
    const seen = new Set<string>();
    for (const input of inputs) {
      const template = this.#templates.get(templateKey(input));
      const key = inputKey(input);
      if (template === undefined || seen.has(key)) continue;
      seen.add(key);
      let query: string;
      let target: Target;
      if (input.kind === 'queue' && !template.usesQueue) {
        query = template.template;
        target = { input, queue: input.queue };
      } else {
        query = input.kind === 'queue' ? template.render({ queue: input.queue }) : template.render({});
        target = { input };
      }
      const planned = byQuery.get(query);
      if (planned === undefined) byQuery.set(query, { query, targets: [target] });
      else planned.targets.push(target);
    }
    return [...byQuery.values()];
  }

  /**
   * Returns a function that chooses the one series of `result` belonging to a target, or says why
   * there is none. Series are indexed by queue once per result, so that a grouped template serving
   * 1,000 queues costs one pass over its series, not one per queue.
   */
  #picker(
    result: { readonly series: readonly ResultSeries[] } | { readonly failure: string },
    query: string,
  ): (target: Target) => { readonly series: ResultSeries } | { readonly problem: SourceProblem } {
    if ('failure' in result) return ({ input }) => ({ problem: { input, reason: 'query_failed', message: result.failure } });
    const label = this.#queueLabel;
    let byQueue: Map<string, ResultSeries[]> | undefined;
    return ({ input, queue }) => {
      if (queue === undefined) return pickOne(input, result.series, '', query);
      byQueue ??= indexByLabel(result.series, label);
      return pickOne(input, byQueue.get(queue) ?? [], ` with ${label}=${JSON.stringify(queue)}`, query);
    };
  }

  #evaluationTimeout(): string {
    // Prometheus durations take integers only ("2.5s" is invalid), so send milliseconds.
    return `${Math.max(1, Math.round(this.#timeoutSeconds * 1000))}ms`;
  }

  /**
   * Sends the requests of a read, at most `concurrency` at a time, and gathers one outcome per
   * planned query (the first failure of any of its chunks, or all its results).
   */
  async #execute(plan: readonly PlannedQuery[], requests: readonly (readonly Request[])[], signal: AbortSignal | undefined): Promise<QueryOutcome[]> {
    if (plan.length === 0) return [];
    const driver = this.#driver(signal);
    const results: QueryResult[][] = plan.map(() => []);
    const failures: (QueryFailure | undefined)[] = plan.map(() => undefined);
    const queue = requests.flatMap((chunks) => chunks.map((request, chunk) => ({ request, chunk })));
    let next = 0;
    // Until some answer has come back, requests beyond the first wave wait for that wave: if every
    // request of it failed to reach Prometheus, it is down and the rest is not sent, so an outage
    // costs one timeout per read instead of one per `concurrency` queries.
    const firstWave = Math.min(this.#concurrency, queue.length);
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
        };
        return true;
      }
      const startedAt = performance.now();
      try {
        results[request.query]![chunk] = await request.send(driver);
        reached = true;
        this.#emit(request.kind, startedAt, 'success');
      } catch (error) {
        if (isAborted(signal)) return false;
        const failure = normaliseFailure(error, plan[request.query]!.query);
        if (failure.unreachable) firstUnreachable ??= failure;
        else reached = true;
        failures[request.query] ??= failure;
        this.#emit(request.kind, startedAt, 'error');
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
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, queue.length) }, worker));
    signal?.throwIfAborted();

    const outcomes = plan.map((_, query): QueryOutcome => {
      const failure = failures[query];
      return failure === undefined ? { ok: true, results: results[query]! } : { ok: false, failure };
    });
    const failed = outcomes.flatMap((o) => (o.ok ? [] : [o.failure]));
    if (failed.length === outcomes.length && failed.every((f) => f.unreachable)) {
      const first = failed[0]!;
      const code = failed.every((f) => f.timeout) ? 'FORESIGHT_ERR_SOURCE_TIMEOUT' : 'FORESIGHT_ERR_SOURCE_QUERY';
      throw new ForesightError(code, `Prometheus at ${this.#url} is unreachable: all ${failed.length} queries failed; the first: ${first.message}`, {
        cause: first.raw,
      });
    }
    return outcomes;
  }

  #emit(kind: 'instant' | 'range', startedAt: number, outcome: 'success' | 'error'): void {
    if (this.#onQuery === undefined) return;
    try {
      // performance.now() is monotonic: a duration, not a point in time, so it is not the Clock's business.
      this.#onQuery({ kind, outcome, durationSeconds: (performance.now() - startedAt) / 1000 });
    } catch {
      // A broken metrics hook must not turn a good query into a failed one.
    }
  }

  /**
   * A driver for one read. It is cheap (an axios instance), and building one per read lets the
   * read's AbortSignal and freshly read credentials go into every request without shared state.
   */
  #driver(signal: AbortSignal | undefined): PrometheusDriver {
    // One agent per read: a renewed CA file is used from the next read on.
    const agent = this.#caFile === undefined ? undefined : caAgent(this.#caFile);
    return new PrometheusDriver({
      endpoint: this.#url,
      baseURL: '/api/v1/',
      headers: { ...this.#headers },
      timeout: this.#timeoutSeconds * 1000,
      requestInterceptor: {
        onFulfilled: async (config) => {
          if (signal !== undefined) config.signal = signal;
          if (agent !== undefined) config.httpsAgent = await agent;
          const authorization = await authorizationHeader(this.#auth);
          if (authorization !== undefined) config.headers.set('Authorization', authorization);
          return config;
        },
      },
      responseInterceptor: {
        onFulfilled: (response) => response,
        onRejected: (error: unknown) => {
          labelNonPrometheusError(error);
          return Promise.reject(error);
        },
      },
    });
  }
}

/** KEDA's policy for one input: exactly one candidate series, or the problem of none or of several. */
function pickOne(
  input: InputRef,
  candidates: readonly ResultSeries[],
  where: string,
  query: string,
): { readonly series: ResultSeries } | { readonly problem: SourceProblem } {
  if (candidates.length === 0) return { problem: { input, reason: 'empty', message: `no series${where}: ${query}` } };
  if (candidates.length > 1) {
    const shown = candidates.slice(0, 3).map((s) => formatLabels(s.labels)).join(', ');
    const more = candidates.length > 3 ? ', …' : '';
    return {
      problem: {
        input,
        reason: 'multiple_series',
        message: `${candidates.length} series${where} where one was expected (${shown}${more}); aggregate them in the query: ${query}`,
      },
    };
  }
  return { series: candidates[0]! };
}

function indexByLabel(series: readonly ResultSeries[], label: string): Map<string, ResultSeries[]> {
  const index = new Map<string, ResultSeries[]>();
  for (const s of series) {
    const value = s.labels[label];
    if (value === undefined) continue;
    const list = index.get(value);
    if (list === undefined) index.set(value, [s]);
    else list.push(s);
  }
  return index;
}

/** The key of the template that serves an input, as in the configuration: "queue/depth", "system/load1". */
function templateKey(input: InputRef): string {
  switch (input.kind) {
    case 'queue':
      return `queue/${input.metric}`;
    case 'system':
    case 'performance':
      return `${input.kind}/${input.metric}`;
    case 'replicas':
      return `replicas/${input.resource}`;
  }
}

function compileTemplates(queries: PrometheusQueries): Map<string, CompiledTemplate> {
  const templates = new Map<string, CompiledTemplate>();
  const groups = [
    ['queue', queries.queue],
    ['system', queries.system],
    ['performance', queries.performance],
    ['replicas', queries.replicas],
  ] as const;
  for (const [group, byName] of groups) {
    for (const [name, template] of Object.entries<string>(byName)) {
      // An empty template turns the input off: it is absent from every answer.
      if (template.trim() === '') continue;
      let compiled: CompiledTemplate;
      try {
        compiled = compileTemplate(template);
      } catch (error) {
        throw configError(`queries.${group}.${name}: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      if (group !== 'queue' && compiled.usesQueue) {
        throw configError(`queries.${group}.${name}: only queue templates may use {{queue}}`);
      }
      templates.set(`${group}/${name}`, compiled);
    }
  }
  return templates;
}

function configError(message: string, cause?: unknown): ForesightError {
  return new ForesightError('FORESIGHT_ERR_CONFIG_INVALID', `Prometheus source: ${message}`, cause === undefined ? undefined : { cause });
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
    throw new ForesightError(
      'FORESIGHT_ERR_INPUT_INVALID',
      `invalid time range: startMs ${range.startMs}, endMs ${range.endMs}, stepSeconds ${range.stepSeconds}`,
    );
  }
}

/** The value of the Authorization header, with secrets from files read now (so rotation works). */
async function authorizationHeader(auth: PrometheusAuth): Promise<string | undefined> {
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'bearer':
      return `Bearer ${auth.token}`;
    case 'bearerFile':
      return `Bearer ${await readSecret(auth.tokenFile, 'bearer token file')}`;
    case 'basic': {
      const password = auth.passwordFile === undefined ? (auth.password ?? '') : await readSecret(auth.passwordFile, 'password file');
      return `Basic ${Buffer.from(`${auth.username}:${password}`, 'utf8').toString('base64')}`;
    }
  }
}

async function readSecret(path: string, what: string): Promise<string> {
  try {
    // Secrets mounted from Kubernetes often end with a newline that is not part of the secret.
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    throw new CredentialsError(`cannot read the ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * Gives a non-Prometheus HTTP error (an HTML page from a gateway or proxy) a Prometheus-shaped
 * body, so that the driver reports it as an `http_error` with its status instead of dropping the
 * status as an "unexpected client error".
 */
function labelNonPrometheusError(error: unknown): void {
  if (!isRecord(error)) return;
  const response = error['response'];
  if (!isRecord(response)) return;
  const data = response['data'];
  if (isRecord(data) && data['status'] !== undefined && data['status'] !== null) return;
  const status = typeof response['status'] === 'number' ? response['status'] : 0;
  const statusText = typeof response['statusText'] === 'string' ? response['statusText'] : '';
  const body = typeof data === 'string' ? data : data === undefined ? '' : JSON.stringify(data);
  response['data'] = {
    status: 'error',
    errorType: 'http',
    error: `HTTP ${status} ${statusText}`.trim() + (body.trim() === '' ? '' : `: ${snippet(body)}`),
  };
}

/**
 * Turns whatever the driver rejected with into a {@link QueryFailure}. prometheus-query rejects
 * with plain objects (`{status:'error', errorType, error, httpStatus?, code?}`), not Errors.
 */
function normaliseFailure(raw: unknown, query: string): QueryFailure {
  const failure = (text: string, unreachable: boolean, timeout: boolean): QueryFailure => ({
    message: `${text}: ${query}`,
    unreachable,
    timeout,
    raw,
  });
  if (isRecord(raw) && raw['status'] === 'error') {
    const errorType = String(raw['errorType']);
    const text = typeof raw['error'] === 'string' ? raw['error'] : 'unknown error';
    const code = typeof raw['code'] === 'string' ? raw['code'] : undefined;
    const original = raw['original'];
    if (original instanceof CredentialsError) return failure(original.message, true, false);
    // The driver's own catch wraps the errors it threw a moment earlier (a "client_error" for a body
    // that is not Prometheus JSON) into a "network_error"; the real one is kept in `original`.
    if (isRecord(original) && original['status'] === 'error') return normaliseFailure(original, query);
    switch (errorType) {
      case 'http_error': {
        const httpStatus = typeof raw['httpStatus'] === 'number' ? raw['httpStatus'] : 0;
        const prometheus = raw['prometheus'];
        const promType = isRecord(prometheus) && typeof prometheus['errorType'] === 'string' ? prometheus['errorType'] : undefined;
        const kind = promType === undefined || promType === 'http' ? '' : ` (${promType})`;
        // A gateway in front of Prometheus (or Prometheus starting up) answers 502/503/504.
        const unreachable = httpStatus === 502 || httpStatus === 503 || httpStatus === 504;
        const timeout = httpStatus === 504 || promType === 'timeout';
        return failure(`Prometheus answered HTTP ${httpStatus}${kind}: ${text}`, unreachable, timeout);
      }
      case 'timeout_error':
        return failure(`request timed out (${text})`, true, true);
      case 'network_error':
      case 'ssl_error':
        return failure(`cannot reach Prometheus (${code === undefined ? text : `${code}: ${text}`})`, true, code === 'ETIMEDOUT');
      case 'client_error':
        return failure(`the answer is not Prometheus API JSON (${snippet(bodyText(raw['data']))})`, false, false);
      default:
        return failure(`${errorType}: ${text}`, false, false);
    }
  }
  // QueryResult.fromJSON throws a plain Error for a result type it does not know.
  return failure(`bad answer from Prometheus: ${raw instanceof Error ? raw.message : String(raw)}`, false, false);
}

/** The series of a query's outcome, or the text of its failure. */
function seriesOf(
  outcome: QueryOutcome,
  query: string,
  read: 'instant' | 'range',
): { readonly series: readonly ResultSeries[] } | { readonly failure: string } {
  if (!outcome.ok) return { failure: outcome.failure.message };
  // Chunks of one range query are merged by label set; chunks never overlap, so nothing is doubled.
  const merged = new Map<string, { labels: Readonly<Record<string, string>>; samples: Sample[] }>();
  for (const result of outcome.results) {
    const parsed = parseResult(result);
    if ('error' in parsed) return { failure: `${parsed.error}: ${query}` };
    if (read === 'instant' && parsed.kind === 'matrix') {
      return { failure: `the result is a range vector; an instant query needs an instant vector or a scalar: ${query}` };
    }
    for (const series of parsed.series) {
      const key = formatLabels(series.labels);
      const known = merged.get(key);
      if (known === undefined) merged.set(key, { labels: series.labels, samples: [...series.samples] });
      else known.samples.push(...series.samples);
    }
  }
  return { series: [...merged.values()] };
}

/** Reads the driver's result objects (typed `any[]` by the library) into plain series. */
function parseResult(result: QueryResult): { readonly kind: ResultKind; readonly series: ResultSeries[] } | { readonly error: string } {
  const kind: unknown = result.resultType;
  const items: readonly unknown[] = Array.isArray(result.result) ? result.result : [];
  switch (kind) {
    case 'matrix':
      return { kind, series: items.map((item) => ({ labels: labelsOf(item), samples: samplesOf(isRecord(item) ? item['values'] : undefined) })) };
    case 'vector':
      return { kind, series: items.map((item) => ({ labels: labelsOf(item), samples: samplesOf([isRecord(item) ? item['value'] : undefined]) })) };
    case 'scalar': {
      // The driver passes a scalar through raw: [unixSeconds, "value"].
      const [time, value] = items;
      if (typeof time !== 'number' || typeof value !== 'string') return { error: 'malformed scalar result' };
      return { kind, series: [{ labels: {}, samples: [{ timestampMs: Math.round(time * 1000), value: parseSampleValue(value) }] }] };
    }
    default:
      return { error: `unsupported result type ${JSON.stringify(kind)}` };
  }
}

function labelsOf(item: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  const metric = isRecord(item) ? item['metric'] : undefined;
  if (!isRecord(metric)) return labels;
  if (typeof metric['name'] === 'string' && metric['name'] !== '') labels['__name__'] = metric['name'];
  const rest = metric['labels'];
  if (isRecord(rest)) for (const [name, value] of Object.entries(rest)) if (typeof value === 'string') labels[name] = value;
  return labels;
}

function samplesOf(values: unknown): Sample[] {
  if (!Array.isArray(values)) return [];
  const samples: Sample[] = [];
  for (const value of values as readonly unknown[]) {
    if (!isRecord(value)) continue;
    const time = value['time'];
    const number = value['value'];
    if (time instanceof Date && typeof number === 'number') samples.push({ timestampMs: time.getTime(), value: number });
  }
  return samples;
}

/** Prometheus writes special values as "NaN", "+Inf" and "-Inf", which parseFloat does not read. */
function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number.parseFloat(text);
}

/**
 * Moves range-query samples back onto the requested grid. Prometheus evaluates exactly at the grid
 * points, but their times travel as float seconds, so a point can come back a millisecond early
 * and would otherwise land in the previous grid cell.
 */
function snapToGrid(samples: readonly Sample[], range: TimeRange): Sample[] {
  const stepMs = range.stepSeconds * 1000;
  return samples.map((s) => ({ timestampMs: range.startMs + Math.round((s.timestampMs - range.startMs) / stepMs) * stepMs, value: s.value }));
}

/** Splits a range into consecutive, non-overlapping chunks of at most `maxPoints` grid points. */
export function chunkRange(range: TimeRange, maxPoints: number): TimeRange[] {
  const stepMs = range.stepSeconds * 1000;
  const points = Math.floor((range.endMs - range.startMs) / stepMs) + 1;
  const chunks: TimeRange[] = [];
  for (let first = 0; first < points; first += maxPoints) {
    const last = Math.min(first + maxPoints, points) - 1;
    chunks.push({ startMs: range.startMs + first * stepMs, endMs: range.startMs + last * stepMs, stepSeconds: range.stepSeconds });
  }
  return chunks;
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const { __name__: name, ...rest } = labels;
  const pairs = Object.keys(rest)
    .sort()
    .map((key) => `${key}=${JSON.stringify(rest[key])}`);
  return `${name ?? ''}{${pairs.join(', ')}}`;
}

function bodyText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data === undefined) return 'empty body';
  return JSON.stringify(data) ?? String(data);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > bodySnippetLength ? `${flat.slice(0, bodySnippetLength)}…` : flat;
}

// A function, not an inline test: TypeScript would keep `aborted` narrowed across an await.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A CA file is a few certificates; anything larger is not one. */
const maxCaFileBytes = 1 << 20;

/** An HTTPS agent trusting the system CAs and the CAs of `caFile` (a regular file, at most 1 MiB, holding PEM certificates). */
async function caAgent(caFile: string): Promise<HttpsAgent> {
  const info = await stat(caFile).catch((error: unknown) => {
    throw new Error(`source.prometheus.tls.caFile ${caFile}: cannot read: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (!info.isFile() || info.size > maxCaFileBytes) throw new Error(`source.prometheus.tls.caFile ${caFile}: not a regular file of at most ${maxCaFileBytes} bytes`);
  const pem = await readFile(caFile, 'utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`source.prometheus.tls.caFile ${caFile}: holds no PEM certificate`);
  return new HttpsAgent({ ca: [...rootCertificates, pem] });
}
