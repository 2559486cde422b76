import axios, { type AxiosResponse } from 'axios';
import { messageOf } from '../core/index.js';
import type { TimeRange } from './metric-source.js';
import { type DriverOptions, isRecord, labelNonPrometheusError, type RequestPreparer } from './prometheus-http.js';
import { parseRangeAnswer } from './prometheus-matrix.js';
import type { ParsedResult } from './prometheus-response.js';

// Range queries without prometheus-query: the same axios, the same request preparation (auth read
// per request, CA agent, AbortSignal, the size cap enforced while the answer streams in) and the
// same failure classification, but the answer's bytes go straight into columns
// (prometheus-matrix.ts) instead of becoming an object with a `Date` per point.

/** Sends one chunk of a range query and decodes its answer; rejects as prometheus-query does, for `normaliseFailure`. */
export type RangeQuery = (query: string, chunk: TimeRange, evaluationTimeout: string) => Promise<ParsedResult>;

/** The range client of one read (cheap: an axios instance), sharing the read's request preparation with its driver. */
export function createRangeClient(options: DriverOptions, prepare: RequestPreparer): RangeQuery {
  const client = axios.create({
    baseURL: `${options.url}/api/v1/`,
    headers: { ...options.headers },
    timeout: options.timeoutSeconds * 1000,
    // The body as bytes: a success is scanned once into columns, never decoded as a string or parsed into objects.
    responseType: 'arraybuffer',
    transformResponse: [errorBody],
  });
  client.interceptors.request.use(prepare);
  client.interceptors.response.use(undefined, (error: unknown) => {
    labelNonPrometheusError(error);
    return Promise.reject(error);
  });
  return async (query, chunk, evaluationTimeout) => {
    // The parameters prometheus-query sends, in its order (times in float seconds).
    const params = new URLSearchParams({ query, start: String(chunk.startMs / 1000), end: String(chunk.endMs / 1000), step: String(chunk.stepSeconds), timeout: evaluationTimeout });
    let response: AxiosResponse<unknown>;
    try {
      // A form body, as the driver sends instant queries: a batch of queries is longer than URLs may be.
      response = await client.post('query_range', params);
    } catch (error) {
      throw driverShaped(error);
    }
    const body = response.data;
    return body instanceof Uint8Array ? parseRangeAnswer(body) : { error: 'the answer has no body' };
  };
}

/**
 * Decodes the body of an error status (HTTP 4xx/5xx) as axios would by default: Prometheus' error
 * JSON as an object, a proxy's page as text. Success bodies stay bytes.
 */
function errorBody(data: unknown, _headers: unknown, status?: number): unknown {
  if (status === undefined || (status >= 200 && status < 300) || !(data instanceof Uint8Array)) return data;
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * What prometheus-query rejects with for the same failure (its `handleResponse`), so that
 * `normaliseFailure` classifies a range read's failures exactly as an instant read's.
 */
function driverShaped(error: unknown): unknown {
  const response = isRecord(error) && isRecord(error['response']) ? error['response'] : undefined;
  if (response === undefined) {
    const code = isRecord(error) && typeof error['code'] === 'string' ? error['code'] : undefined;
    const errorType = code === 'ECONNABORTED' ? 'timeout_error' : code?.startsWith('ERR_SSL') === true ? 'ssl_error' : 'network_error';
    return { status: 'error', errorType, error: messageOf(error), code, original: error };
  }
  const data = response['data'];
  if (!isRecord(data) || data['status'] === undefined || data['status'] === null) return { status: 'error', errorType: 'client_error', error: 'unexpected client error', data };
  return { status: 'error', errorType: 'http_error', httpStatus: response['status'], error: data['error'] ?? response['statusText'], prometheus: data };
}
