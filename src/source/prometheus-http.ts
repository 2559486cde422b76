import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { InternalAxiosRequestConfig } from 'axios';
import { PrometheusDriver } from 'prometheus-query';
import { ForesightError, messageOf, readPemFile, readSmallFile } from '../core/index.js';

// The HTTP side of the Prometheus source: the driver (prometheus-query over axios) with credentials
// read per request, and what a failed request means (unreachable, timed out, or a bad answer).

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

// Enough of an unexpected response body to recognise it (an HTML error page, a login form).
const bodySnippetLength = 200;

/** Why a query produced nothing, and whether it says anything about Prometheus as a whole. */
export interface QueryFailure {
  /** What went wrong, ending with the query. */
  readonly message: string;
  /** The same without the query (for the queries of a batch, each named in its own message). */
  readonly detail: string;
  /** Prometheus could not be reached (network, TLS, gateway 502/503/504, unreadable credentials). */
  readonly unreachable: boolean;
  /** The request timed out. */
  readonly timeout: boolean;
  /** What the driver rejected with, for `cause`. */
  readonly raw: unknown;
}

/** Raised while preparing a request when a credentials file cannot be read. */
class CredentialsError extends ForesightError {
  override readonly name: string = 'CredentialsError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('FORESIGHT_ERR_SOURCE_CREDENTIALS', message, options);
  }
}

/** Where and how the driver of a read sends its requests. */
export interface DriverOptions {
  readonly url: string;
  readonly auth: PrometheusAuth;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  /** PEM file of the CAs that sign an https:// Prometheus' certificate, trusted besides the system CAs. */
  readonly caFile?: string | undefined;
  /** Answers larger than this (after decompression) are cut off and refused, so a runaway query cannot exhaust memory. */
  readonly maxResponseBytes: number;
}

/** Fills in what every request of a read carries: its AbortSignal, the CA agent, the response cap and fresh credentials. */
export type RequestPreparer = (config: InternalAxiosRequestConfig) => Promise<InternalAxiosRequestConfig>;

/**
 * The request preparation of one read, shared by its driver and its range client (prometheus-range.ts).
 * Per read: the read's AbortSignal goes into every request, and a renewed CA file is used from the
 * next read on (a failure to read it is reported per request).
 */
export function requestPreparer(options: DriverOptions, signal: AbortSignal | undefined): RequestPreparer {
  const agent = options.caFile === undefined ? undefined : caAgent(options.caFile);
  agent?.catch(() => undefined);
  return async (config) => {
    if (signal !== undefined) config.signal = signal;
    if (agent !== undefined) config.httpsAgent = await agent;
    // axios counts the bytes as they stream in and aborts past the cap, before buffering them all.
    config.maxContentLength = options.maxResponseBytes;
    const authorization = await authorizationHeader(options.auth);
    if (authorization !== undefined) config.headers.set('Authorization', authorization);
    return config;
  };
}

/**
 * A driver for one read (instant queries). It is cheap (an axios instance), and building one per
 * read lets the read's AbortSignal and freshly read credentials go into every request without
 * shared state.
 */
export function createDriver(options: DriverOptions, prepare: RequestPreparer): PrometheusDriver {
  return new PrometheusDriver({
    endpoint: options.url,
    baseURL: '/api/v1/',
    headers: { ...options.headers },
    timeout: options.timeoutSeconds * 1000,
    // A form body instead of URL parameters: a batch of queries (prometheus-batch.ts) is longer than URLs may be.
    preferPost: true,
    requestInterceptor: { onFulfilled: prepare },
    responseInterceptor: {
      onFulfilled: (response) => response,
      onRejected: (error: unknown) => {
        labelNonPrometheusError(error);
        return Promise.reject(error);
      },
    },
  });
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

/** A token or password file holds a few KB at most (a JWT); anything larger, or not a regular file, is refused unread. */
const maxSecretFileBytes = 64 * 1024;

async function readSecret(path: string, what: string): Promise<string> {
  // Links are followed: Kubernetes mounts a Secret's files as links into its ..data folder.
  const bytes = await readSmallFile(path, { maxBytes: maxSecretFileBytes, what: `the ${what}`, symlinks: 'follow' }).catch((error: unknown) => {
    throw new CredentialsError(messageOf(error), { cause: error });
  });
  // Secrets mounted from Kubernetes often end with a newline that is not part of the secret.
  return bytes.toString('utf8').trim();
}

/**
 * Gives a non-Prometheus HTTP error (an HTML page from a gateway or proxy) a Prometheus-shaped
 * body, so that the driver reports it as an `http_error` with its status instead of dropping the
 * status as an "unexpected client error".
 */
export function labelNonPrometheusError(error: unknown): void {
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
export function normaliseFailure(raw: unknown, query: string): QueryFailure {
  const failure = (text: string, unreachable: boolean, timeout: boolean): QueryFailure => ({
    message: `${text}: ${query}`,
    detail: text,
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
    // Cut off by maxContentLength: Prometheus answered, but more than we accept; a bad answer, not an outage.
    if (code === 'ERR_BAD_RESPONSE' && text.includes('maxContentLength')) return failure(`the answer is larger than source.prometheus.maxResponseBytes and was refused (${text})`, false, false);
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
  return failure(`bad answer from Prometheus: ${messageOf(raw)}`, false, false);
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

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** An HTTPS agent trusting the system CAs and the CAs of `caFile` (a regular file, at most 1 MiB, holding PEM certificates). */
async function caAgent(caFile: string): Promise<HttpsAgent> {
  const what = 'source.prometheus.tls.caFile';
  const pem = await readPemFile(caFile, what).then(
    (bytes) => bytes.toString('utf8'),
    (error: unknown) => {
      throw new CredentialsError(messageOf(error), { cause: error });
    },
  );
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CredentialsError(`${what} ${caFile}: holds no PEM certificate`);
  return new HttpsAgent({ ca: [...rootCertificates, pem] });
}
