/**
 * The HTTP surface of the external-metrics API as pure functions: a request line in, a status,
 * headers and body out. The HTTPS server (src/api/extension-server) adds TLS, authentication and
 * authorization around it; everything here is testable without a socket, which is what lets the
 * fuzz tests run thousands of cases in a second.
 *
 * Contract: every answer is JSON; every error is a Kubernetes `Status` with a 4xx/503 code; nothing
 * here throws or answers 500 for any input.
 */
import { createHash } from 'node:crypto';
import type { AccessAttributes } from '../auth/identity.js';
import { failureStatus } from '../status.js';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  negotiateAggregated,
  openApiV2,
  openApiV3GroupVersion,
  openApiV3Index,
  versionInfo,
} from './discovery.js';
import { aggregatedDiscoveryVersions, externalMetricsGroup, externalMetricsGroupVersion, externalMetricsVersion } from './k8s-types.js';
import { parseLabelSelector, quoteInput } from './label-selector.js';
import type { ExternalMetricsProvider } from './provider.js';
import { type ExternalMetricName, isExternalMetricName } from './served-metrics.js';

/** The `metric` label of the request metrics: a served metric, discovery, health, or anything else. */
export type RequestMetricLabel = ExternalMetricName | 'discovery' | 'health' | 'other';

/** What a route answers. `headers` never include Content-Length (the server sets it). */
export interface RouteResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly metricLabel: RequestMetricLabel;
  /** Age of the snapshot behind a served metric value, for the freshness histogram. */
  readonly snapshotAgeSeconds?: number;
}

/** A request line, as the router sees it. */
export interface RouteRequest {
  readonly method: string;
  /** Path and query, exactly as received (`req.url`). */
  readonly url: string;
  readonly accept?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
}

/** Where a request goes, decided before authentication so that health checks stay open. */
export type RouteTarget =
  | { readonly kind: 'health'; readonly path: string }
  | { readonly kind: 'document'; readonly path: string; readonly document: DocumentName }
  | { readonly kind: 'metric'; readonly namespace: string; readonly metric: string; readonly labelSelector: string }
  | { readonly kind: 'error'; readonly code: number; readonly message: string; readonly metricLabel: RequestMetricLabel; readonly allow?: string };

type DocumentName = 'apis' | 'group' | 'resources' | 'version' | 'openapi-v2' | 'openapi-v3' | 'openapi-v3-gv' | 'api';

/** Paths that answer without authentication (the generic apiserver's AlwaysAllowPaths). */
export const healthPaths: readonly string[] = Object.freeze(['/healthz', '/livez', '/readyz']);

const documentPaths: Readonly<Record<string, DocumentName>> = {
  '/apis': 'apis',
  [`/apis/${externalMetricsGroup}`]: 'group',
  [`/apis/${externalMetricsGroupVersion}`]: 'resources',
  '/version': 'version',
  '/openapi/v2': 'openapi-v2',
  '/openapi/v3': 'openapi-v3',
  [`/openapi/v3/apis/${externalMetricsGroupVersion}`]: 'openapi-v3-gv',
  '/api': 'api',
};

const namespacePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const metricPrefix = `/apis/${externalMetricsGroupVersion}/`;

/**
 * Longest request target accepted. Node's HTTP parser refuses a request line and headers over its
 * `maxHeaderSize` (16 KiB by default) with 431 before any route runs (api/parser-errors.ts gives
 * that answer its Status body), so this check matters only where `--max-http-header-size` raises
 * Node's limit; it answers the same way.
 */
const maxUrlLength = 16_384;

/** Splits `req.url` into the path and the query string, without normalising either. */
function splitUrl(url: string): { readonly path: string; readonly query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Decides where a request goes. Pure and total: every method and every URL gives a target, and a bad
 * one is an `error` target carrying the Status to answer with.
 */
export function resolveRoute(method: string, url: string): RouteTarget {
  if (url.length > maxUrlLength) return { kind: 'error', code: 431, message: `request URL is ${url.length} characters long; at most ${maxUrlLength} are accepted`, metricLabel: 'other' };
  const { path, query } = splitUrl(url);
  if (method !== 'GET' && method !== 'HEAD') {
    const isMetric = path.startsWith(metricPrefix);
    return {
      kind: 'error',
      code: 405,
      message: `method ${quoteInput(method, 16)} is not allowed: the external-metrics API is read-only (GET)`,
      metricLabel: isMetric ? 'other' : 'discovery',
      allow: 'GET, HEAD',
    };
  }
  if (healthPaths.includes(path)) return { kind: 'health', path };
  const document = documentPaths[path];
  if (document !== undefined) return { kind: 'document', path, document };
  if (!path.startsWith(metricPrefix)) {
    return {
      kind: 'error',
      code: 404,
      message: `the server could not find the requested resource (${quoteInput(path, 128)}); this server serves ${externalMetricsGroupVersion}`,
      metricLabel: 'other',
    };
  }
  const rest = path.slice(metricPrefix.length).split('/');
  if (rest.length === 1) {
    return {
      kind: 'error',
      code: 404,
      message: `external metrics are namespaced: use /apis/${externalMetricsGroupVersion}/namespaces/{namespace}/{metric}`,
      metricLabel: 'other',
    };
  }
  if (rest.length !== 3 || rest[0] !== 'namespaces') {
    return { kind: 'error', code: 404, message: `the server could not find the requested resource (${quoteInput(path, 128)})`, metricLabel: 'other' };
  }
  const namespace = decodeSegment(rest[1]!);
  const metric = decodeSegment(rest[2]!);
  if (namespace === undefined || metric === undefined) {
    return { kind: 'error', code: 400, message: 'the request path has a malformed percent-encoding', metricLabel: 'other' };
  }
  if (namespace.length > 63 || !namespacePattern.test(namespace)) {
    return {
      kind: 'error',
      code: 400,
      message: `invalid namespace ${quoteInput(namespace)}: expected a DNS label (at most 63 lowercase letters, digits or "-", starting and ending with a letter or digit)`,
      metricLabel: isExternalMetricName(metric) ? metric : 'other',
    };
  }
  // URLSearchParams reads "+" as a space, as Go's url.Values (which the aggregator re-encodes with) does.
  const labelSelector = query === '' ? '' : (new URLSearchParams(query).get('labelSelector') ?? '');
  return { kind: 'metric', namespace, metric, labelSelector };
}

/** What a request asks to do, for authorization; undefined for health checks and refused requests. */
export function accessAttributes(target: RouteTarget): AccessAttributes | undefined {
  switch (target.kind) {
    case 'metric':
      return { kind: 'resource', verb: 'list', group: externalMetricsGroup, version: externalMetricsVersion, resource: target.metric, namespace: target.namespace };
    case 'document':
      return { kind: 'nonResource', verb: 'get', path: target.path };
    case 'health':
    case 'error':
      return undefined;
  }
}

/** The metric label a target is counted under. */
export function metricLabelOf(target: RouteTarget): RequestMetricLabel {
  switch (target.kind) {
    case 'metric':
      return isExternalMetricName(target.metric) ? target.metric : 'other';
    case 'document':
      return 'discovery';
    case 'health':
      return 'health';
    case 'error':
      return target.metricLabel;
  }
}

const jsonHeaders = Object.freeze({ 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'x-content-type-options': 'nosniff' });

/** A JSON error answer whose body is a Kubernetes `Status`. */
export function statusResponse(code: number, message: string, metricLabel: RequestMetricLabel, extraHeaders: Readonly<Record<string, string>> = {}): RouteResponse {
  return { status: code, headers: { ...jsonHeaders, ...extraHeaders }, body: JSON.stringify(failureStatus(code, message)), metricLabel };
}

/** Parsed selectors by text. HPAs repeat the same few selectors every 15 s, and parsing is pure. */
const selectorCache = new Map<string, ReturnType<typeof parseLabelSelector>>();
const selectorCacheLimit = 4096;

/** {@link parseLabelSelector}, remembering the answers for the selectors seen most recently. */
function parseSelectorCached(text: string): ReturnType<typeof parseLabelSelector> {
  let parsed = selectorCache.get(text);
  if (parsed === undefined) {
    parsed = parseLabelSelector(text);
    // A full cache starts over: cheaper than LRU bookkeeping, and a working set of HPA selectors refills it at once.
    if (selectorCache.size >= selectorCacheLimit) selectorCache.clear();
    selectorCache.set(text, parsed);
  }
  return parsed;
}

/** What the documents need to know about the build. */
export interface RouteContext {
  readonly provider: ExternalMetricsProvider;
  readonly build: { readonly version: string; readonly revision: string };
}

interface PreparedDocument {
  readonly body: string;
  readonly etag: string;
  readonly contentType: string;
}

function prepare(value: unknown, contentType = 'application/json'): PreparedDocument {
  const body = JSON.stringify(value);
  return { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`, contentType };
}

/** Serialised documents per build, made once. */
const preparedByBuild = new Map<string, ReadonlyMap<string, PreparedDocument>>();

function documentsFor(build: RouteContext['build']): ReadonlyMap<string, PreparedDocument> {
  const key = `${build.version}\n${build.revision}`;
  let documents = preparedByBuild.get(key);
  if (documents === undefined) {
    const entries: [string, PreparedDocument][] = [
      ['apis', prepare(apiGroupList)],
      ['group', prepare(apiGroup)],
      ['resources', prepare(apiResourceList)],
      ['version', prepare(versionInfo(build))],
      ['openapi-v2', prepare(openApiV2(build))],
      ['openapi-v3', prepare(openApiV3Index())],
      ['openapi-v3-gv', prepare(openApiV3GroupVersion(build))],
      ...aggregatedDiscoveryVersions.map((v): [string, PreparedDocument] => [`apis-${v}`, prepare(aggregatedDiscovery(v), aggregatedContentType(v))]),
    ];
    documents = new Map(entries);
    preparedByBuild.set(key, documents);
  }
  return documents;
}

function documentResponse(document: PreparedDocument, request: RouteRequest, vary: boolean): RouteResponse {
  const headers: Record<string, string> = { ...jsonHeaders, 'content-type': document.contentType, etag: document.etag };
  if (vary) headers['vary'] = 'Accept';
  // The aggregator revalidates /apis every minute with If-None-Match; 304 spares it the body.
  if (request.ifNoneMatch?.split(',').some((tag) => tag.trim() === document.etag)) {
    return { status: 304, headers, body: '', metricLabel: 'discovery' };
  }
  return { status: 200, headers, body: document.body, metricLabel: 'discovery' };
}

/**
 * Answers a routed request. Call it only for requests that passed authentication and
 * authorization (health checks and error targets need neither).
 */
export function answerRoute(target: RouteTarget, request: RouteRequest, context: RouteContext): RouteResponse {
  switch (target.kind) {
    case 'health':
      return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache, private', 'x-content-type-options': 'nosniff' }, body: 'ok', metricLabel: 'health' };
    case 'error':
      return statusResponse(target.code, target.message, target.metricLabel, target.allow === undefined ? {} : { allow: target.allow });
    case 'document': {
      const documents = documentsFor(context.build);
      switch (target.document) {
        case 'api':
          // No core group here. A 404 (rather than an APIVersions list) is what lets
          // `kubectl api-resources` exit 0 against this server (environment.md §5).
          return statusResponse(404, 'the server could not find the requested resource: this server serves only the external.metrics.k8s.io group', 'discovery');
        case 'apis': {
          const version = negotiateAggregated(request.accept);
          return documentResponse(documents.get(version === undefined ? 'apis' : `apis-${version}`)!, request, true);
        }
        default:
          return documentResponse(documents.get(target.document)!, request, false);
      }
    }
    case 'metric': {
      const selector = parseSelectorCached(target.labelSelector);
      const label = metricLabelOf(target);
      if (!selector.ok) {
        // An unknown metric is the better answer even when the selector is also bad.
        if (!isExternalMetricName(target.metric)) return statusResponse(404, `the server could not find the metric ${quoteInput(target.metric)}`, 'other');
        return statusResponse(400, `invalid labelSelector ${quoteInput(target.labelSelector, 256)}: ${selector.error}`, label);
      }
      const answer = context.provider.getExternalMetric({ namespace: target.namespace, metric: target.metric, selector: selector.value });
      if (!answer.ok) return statusResponse(answer.error.code, answer.error.message, label);
      return { status: 200, headers: jsonHeaders, body: answer.value.body, metricLabel: label, snapshotAgeSeconds: answer.value.snapshotAgeSeconds };
    }
  }
}

/** Routes and answers in one step, skipping authentication: for tests and benchmarks of the pure surface. */
export function handleRequest(request: RouteRequest, context: RouteContext): RouteResponse {
  return answerRoute(resolveRoute(request.method, request.url), request, context);
}
