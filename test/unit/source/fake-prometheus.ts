/**
 * A real HTTP server on 127.0.0.1 (port 0) that answers like the Prometheus HTTP API and records
 * every request, so that PrometheusSource is tested through its real HTTP client (axios inside
 * prometheus-query) without a Prometheus process.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

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
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, params: url.searchParams, headers: req.headers };
    requests.push(recorded);
    inFlight.now += 1;
    inFlight.max = Math.max(inFlight.max, inFlight.now);
    res.on('close', () => {
      inFlight.now -= 1;
    });
    void Promise.resolve(fake.handler(recorded)).then((reply) => {
      if (reply === 'hang') return;
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' });
      res.end(text);
    });
  };
  const server = tls === undefined ? createServer(answer) : createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, answer);
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
