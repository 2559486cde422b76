// The HTTP API of a test Prometheus, as tests use it: instant and range queries, a poll until a
// query holds, the scrape targets, and a config reload.
import type { Sample } from '../../../src/core/index.js';
import { PrometheusError, PrometheusQueryError, PrometheusUnreachableError } from './errors.js';

/** One element of an instant vector (or a scalar, with empty `metric`). */
export interface InstantSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly timestampMs: number;
  readonly value: number;
}

/** One series of a range query result. */
export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly samples: readonly Sample[];
}

/** One active scrape target as Prometheus reports it. */
export interface TargetStatus {
  readonly job: string;
  readonly scrapeUrl: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
  /** Time of the last scrape in ms; `undefined` before the first scrape. */
  readonly lastScrapeMs: number | undefined;
  readonly labels: Readonly<Record<string, string>>;
}

/** Prometheus' hard limit on points per series in one range query. */
export const MAX_POINTS_PER_SERIES = 11_000;

/** Poll period of waitFor: Prometheus' state changes on its own schedule (scrapes, evaluations), so this one wait polls. */
const WAIT_FOR_POLL_MS = 200;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** `[<unix seconds>, "<value>"]` → a Sample. Prometheus spells non-finite values `NaN`, `+Inf`, `-Inf`; Number() reads all three. */
function parsePoint(point: unknown): Sample {
  if (!Array.isArray(point) || point.length !== 2 || typeof point[0] !== 'number' || typeof point[1] !== 'string') {
    throw new PrometheusError(`unexpected sample ${JSON.stringify(point)}`);
  }
  return { timestampMs: Math.round(point[0] * 1000), value: Number(point[1]) };
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code: unknown = (cause as Error & { code?: unknown }).code;
    return `${error.message}: ${typeof code === 'string' ? code : cause.message}`;
  }
  return error.message;
}

/** The API of the Prometheus at `url()` (a function: the port is known only once it listens). */
export class PrometheusHttpApi {
  constructor(
    private readonly url: () => string,
    /** Per-request timeout: only a bound on a hang. */
    private readonly requestTimeoutMs: number,
  ) {}

  /** Calls the HTTP API and returns `data` of a `status: success` answer. */
  private async call(path: string, params?: Record<string, string>, method: 'GET' | 'POST' = 'GET'): Promise<unknown> {
    const url = `${this.url()}${path}`;
    let response: Response;
    try {
      const signal = AbortSignal.timeout(this.requestTimeoutMs);
      const body = params === undefined ? undefined : new URLSearchParams(params);
      // POST form bodies: long PromQL does not fit in a URL.
      response =
        method === 'POST' ? await fetch(url, body === undefined ? { method, signal } : { method, body, signal }) : await fetch(body === undefined ? url : `${url}?${body.toString()}`, { signal });
    } catch (error) {
      throw new PrometheusUnreachableError(`${method} ${url} failed: ${describeNetworkError(error)}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new PrometheusError(`${method} ${url}: HTTP ${response.status}, not JSON: ${text.slice(0, 300)}`);
    }
    if (!isRecord(parsed) || parsed['status'] !== 'success') {
      const errorType = isRecord(parsed) && typeof parsed['errorType'] === 'string' ? parsed['errorType'] : 'unknown';
      const error = isRecord(parsed) && typeof parsed['error'] === 'string' ? parsed['error'] : text.slice(0, 300);
      throw new PrometheusQueryError(`${method} ${url} ${params?.['query'] === undefined ? '' : `(${params['query']}) `}→ HTTP ${response.status} ${errorType}: ${error}`, errorType);
    }
    return parsed['data'];
  }

  async query(expr: string, atMs?: number): Promise<InstantSample[]> {
    const params: Record<string, string> = { query: expr };
    if (atMs !== undefined) params['time'] = String(atMs / 1000);
    const data = await this.call('/api/v1/query', params, 'POST');
    if (!isRecord(data)) throw new PrometheusError(`unexpected query answer for ${expr}`);
    const { resultType, result } = data;
    if (resultType === 'scalar') {
      const sample = parsePoint(result);
      return [{ metric: {}, ...sample }];
    }
    if (resultType !== 'vector' || !Array.isArray(result)) {
      throw new PrometheusError(`instant query ${expr} returned a ${String(resultType)}; query() handles vectors and scalars (use queryRange for matrices)`);
    }
    return result.map((element: unknown) => {
      if (!isRecord(element)) throw new PrometheusError(`unexpected vector element for ${expr}`);
      return { metric: stringRecord(element['metric']), ...parsePoint(element['value']) };
    });
  }

  async queryRange(expr: string, startMs: number, endMs: number, stepSeconds: number): Promise<RangeSeries[]> {
    if (!(stepSeconds > 0)) throw new RangeError(`stepSeconds must be > 0, got ${stepSeconds}`);
    const points = Math.floor((endMs - startMs) / (stepSeconds * 1000)) + 1;
    if (points > MAX_POINTS_PER_SERIES) {
      // Prometheus would answer "exceeded maximum resolution of 11,000 points per timeseries".
      throw new RangeError(`queryRange(${expr}) would return ${points} points per series; Prometheus allows ${MAX_POINTS_PER_SERIES}. Use a larger step or a shorter range.`);
    }
    const data = await this.call('/api/v1/query_range', { query: expr, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepSeconds) }, 'POST');
    if (!isRecord(data) || data['resultType'] !== 'matrix' || !Array.isArray(data['result'])) {
      throw new PrometheusError(`unexpected query_range answer for ${expr}`);
    }
    return data['result'].map((element: unknown) => {
      if (!isRecord(element) || !Array.isArray(element['values'])) {
        throw new PrometheusError(`unexpected matrix element for ${expr}`);
      }
      return { metric: stringRecord(element['metric']), samples: element['values'].map(parsePoint) };
    });
  }

  async waitFor(expr: string, predicate: (result: InstantSample[]) => boolean, timeoutMs: number): Promise<InstantSample[]> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      try {
        const result = await this.query(expr);
        if (predicate(result)) return result;
        last = `last result: ${JSON.stringify(result).slice(0, 1_000)}`;
      } catch (error) {
        if (!(error instanceof PrometheusUnreachableError)) throw error;
        last = `last error: ${error.message}`;
      }
      if (Date.now() >= deadline) {
        throw new PrometheusError(`waitFor(${expr}) did not hold within ${timeoutMs} ms; ${last}`);
      }
      await sleep(Math.min(WAIT_FOR_POLL_MS, Math.max(0, deadline - Date.now())));
    }
  }

  async targets(): Promise<TargetStatus[]> {
    const data = await this.call('/api/v1/targets', { state: 'active' });
    if (!isRecord(data) || !Array.isArray(data['activeTargets'])) {
      throw new PrometheusError('unexpected /api/v1/targets answer');
    }
    return data['activeTargets'].filter(isRecord).map((target) => {
      const labels = stringRecord(target['labels']);
      const health = target['health'];
      const lastScrape = typeof target['lastScrape'] === 'string' ? Date.parse(target['lastScrape']) : Number.NaN;
      return {
        job: labels['job'] ?? String(target['scrapePool'] ?? ''),
        scrapeUrl: typeof target['scrapeUrl'] === 'string' ? target['scrapeUrl'] : '',
        health: health === 'up' || health === 'down' ? health : 'unknown',
        lastError: typeof target['lastError'] === 'string' ? target['lastError'] : '',
        // Before the first scrape Prometheus reports the zero time (year 1).
        lastScrapeMs: Number.isFinite(lastScrape) && lastScrape > 0 ? lastScrape : undefined,
        labels,
      };
    });
  }

  async reload(): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${this.url()}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw new PrometheusUnreachableError(`reload failed: ${describeNetworkError(error)}`, { cause: error });
    }
    const text = await response.text();
    if (response.status !== 200) throw new PrometheusError(`reload → HTTP ${response.status}: ${text.trim()}`);
  }
}
