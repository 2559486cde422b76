/**
 * A real HTTP server on 127.0.0.1 (port 0) that answers like the Prometheus HTTP API and records
 * every request, so that PrometheusSource is tested through its real HTTP client (axios inside
 * prometheus-query) without a Prometheus process.
 *
 * Parameters are read from the URL and from a form body (the source POSTs). A batch of queries
 * (src/source/prometheus-batch.ts) is answered as Prometheus answers it: the handler is asked for
 * each query alone, and the answers are joined with the batch label set on each series that lacks
 * it; an error answers the whole batch, and a scalar or string is the type error Prometheus gives.
 * So a handler is written per query, batched or not. The real thing is tested in
 * test/integration/prometheus-batch.test.ts.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { batchLabel } from '../../../src/source/prometheus-batch.js';

/** One request as the server saw it. */
export interface RecordedRequest {
  readonly method: string;
  /** The path without the query string, e.g. `/api/v1/query_range`. */
  readonly path: string;
  readonly params: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

/** An answer: a status and a JSON value (or raw text when `body` is a string). */
export interface Reply {
  readonly status?: number;
  readonly body: unknown;
  readonly contentType?: string;
}

/** Decides the answer to a request; `'hang'` never answers (for timeouts). */
export type Handler = (request: RecordedRequest) => Reply | 'hang' | Promise<Reply | 'hang'>;

/** A running fake. */
export interface FakePrometheus {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests being handled right now, and the most there ever were at once. */
  readonly inFlight: { now: number; max: number };
  handler: Handler;
  close(): Promise<void>;
}

/** Starts a fake Prometheus answering with `handler` (changeable later through `.handler`); over HTTPS with `tls`. */
export async function startFakePrometheus(handler: Handler, tls?: { readonly certPem: string; readonly keyPem: string }): Promise<FakePrometheus> {
  const requests: RecordedRequest[] = [];
  const inFlight = { now: 0, max: 0 };
  const fake: { handler: Handler } = { handler };
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = new URLSearchParams(url.searchParams);
    if (String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params.append(key, value);
    }
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, params, headers: req.headers };
    requests.push(recorded);
    inFlight.now += 1;
    inFlight.max = Math.max(inFlight.max, inFlight.now);
    res.on('close', () => {
      inFlight.now -= 1;
    });
    void answerBatch(recorded, fake.handler).then((reply) => {
      if (reply === 'hang') return;
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' });
      res.end(text);
    });
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => void answer(req, res);
  const server = tls === undefined ? createServer(listener) : createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, listener);
  // Node closes idle keep-alive sockets after 5 s, Prometheus (Go) does not: with both cores busy, a
  // test that blocks this process for seconds (50 MB answers) let the client reuse a socket the fake
  // had just closed (ECONNRESET). close() ends every connection anyway.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    requests,
    inFlight,
    get handler() {
      return fake.handler;
    },
    set handler(next: Handler) {
      fake.handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging requests and keep-alive sockets would otherwise hold the server open.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const batchMember = new RegExp(`label_replace\\((.*?), "${batchLabel}", "([^"]+)", "${batchLabel}", ""\\)(?: or |$)`, 'gs');

/** The handler's answer, or for a batch of queries, the answers of its queries joined as Prometheus joins them. */
async function answerBatch(request: RecordedRequest, handler: Handler): Promise<Reply | 'hang'> {
  const query = request.params.get('query') ?? '';
  const members = [...query.matchAll(batchMember)];
  if (members.length === 0 || members.map((m) => m[0]).join('') !== query) return handler(request);
  const series: unknown[] = [];
  let resultType: unknown;
  for (const [, member, value] of members) {
    const params = new URLSearchParams(request.params);
    params.set('query', member!);
    const reply = await handler({ ...request, params });
    if (reply === 'hang' || (reply.status ?? 200) !== 200) return reply;
    const data = (reply.body as { data?: { resultType?: unknown; result?: unknown } }).data;
    if (data?.resultType !== 'vector' && data?.resultType !== 'matrix') {
      return apiError(400, 'bad_data', `invalid parameter "query": 1:15: parse error: expected type instant vector in call to function "label_replace", got ${String(data?.resultType)}`);
    }
    resultType = data.resultType;
    for (const item of data.result as { metric: Record<string, string> }[]) series.push({ ...item, metric: { [batchLabel]: value, ...item.metric } });
  }
  return { body: { status: 'success', data: { resultType, result: series } } };
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

type Labels = Readonly<Record<string, string>>;

/** `{"status":"success","data":{"resultType":"vector",...}}`; values as Prometheus writes them. */
export function vector(timeSeconds: number, series: readonly { readonly labels?: Labels; readonly value: string }[]): Reply {
  return {
    body: {
      status: 'success',
      data: { resultType: 'vector', result: series.map((s) => ({ metric: s.labels ?? {}, value: [timeSeconds, s.value] })) },
    },
  };
}

/** A scalar result. */
export function scalar(timeSeconds: number, value: string): Reply {
  return { body: { status: 'success', data: { resultType: 'scalar', result: [timeSeconds, value] } } };
}

/** A matrix result. */
export function matrix(series: readonly { readonly labels?: Labels; readonly values: readonly (readonly [number, string])[] }[]): Reply {
  return { body: { status: 'success', data: { resultType: 'matrix', result: series.map((s) => ({ metric: s.labels ?? {}, values: s.values })) } } };
}

/** A Prometheus API error. */
export function apiError(status: number, errorType: string, error: string): Reply {
  return { status, body: { status: 'error', errorType, error } };
}

/** The grid points `query_range` evaluates for the request's start, end and step (unix seconds). */
export function rangeGrid(request: RecordedRequest): number[] {
  const start = Number(request.params.get('start'));
  const end = Number(request.params.get('end'));
  const step = Number(request.params.get('step'));
  const count = Math.floor((end - start) / step + 1e-9) + 1;
  return Array.from({ length: count }, (_, i) => start + i * step);
}
