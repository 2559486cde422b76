/**
 * The request mix of `npm run bench:soak`: valid reads and hostile requests of every kind an
 * exposed service meets, against both of Foresight's HTTP ports, and the client that sends them and
 * classifies the answers.
 *
 * Each class has a fixed catalogue that is walked round-robin (so a run is reproducible and every
 * case recurs); garbage bodies are random bytes. Requests go through Node's HTTP client with
 * keep-alive agents (as HPAs, Prometheus and KEDA connect), except the "raw" class: bytes no HTTP
 * client would send, written to a TCP or TLS socket.
 */
import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** The two HTTP ports: the HTTP API (`/scaling/*`, `/metrics`, `/keda/metrics`) and the external-metrics HTTPS server. */
export type Port = 'http' | 'externalMetrics';

interface HttpCase {
  readonly port: Port;
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  /** Sent without the client certificate (external-metrics port only). */
  readonly anonymous?: boolean;
}

interface RawCase {
  readonly port: Port;
  readonly raw: Buffer | string;
}

type Case = HttpCase | RawCase;

/** A class of requests: its name in the report and how to make its i-th request. */
export interface RequestClass {
  readonly name: string;
  /** True for valid requests (a 2xx is expected); false for hostile ones (a 4xx is expected). */
  readonly valid: boolean;
  /**
   * Node's HTTP parser may answer before any handler runs (400 or 431 with no body, as every Node
   * server does): such answers are not expected to carry a Kubernetes `Status`.
   */
  readonly parserMayAnswer: boolean;
  make(index: number): Case;
}

/** What one request got back. */
export interface Outcome {
  /** The HTTP status, or undefined when no answer came. */
  readonly status?: number;
  /** For a 4xx or 5xx: whether the body is a Kubernetes `Status` with the same code. */
  readonly statusBody?: boolean;
  /** Why no answer came (connection refused or reset, timeout, closed without an answer). */
  readonly error?: string;
}

/** What the mix needs to know about the running service to make valid requests. */
export interface ServedNames {
  readonly queues: readonly string[];
  readonly resources: readonly string[];
}

const metricsBase = '/apis/external.metrics.k8s.io/v1beta1';

function cycle<T>(items: readonly T[], index: number): T {
  return items[index % items.length]!;
}

/** The classes of the mix, each with its weight (requests per round of the schedule). */
export function requestClasses(names: ServedNames): readonly { readonly requestClass: RequestClass; readonly weight: number }[] {
  const queue = (i: number) => cycle(names.queues, i);
  const ns = (i: number) => `${metricsBase}/namespaces/${cycle(['default', 'shop', 'team-a'], i)}`;
  const em = (path: string, extra: Partial<HttpCase> = {}): HttpCase => ({ port: 'externalMetrics', method: 'GET', path, ...extra });
  const api = (path: string, extra: Partial<HttpCase> = {}): HttpCase => ({ port: 'http', method: 'GET', path, ...extra });
  const validMetricPaths = (i: number): string[] => [
    `${ns(i)}/predicted_queue_depth?labelSelector=queue%3D${queue(i)}`,
    `${ns(i)}/predicted_queue_depth?labelSelector=queue%3D${queue(i)}%2Cquantile%3D0.9`,
    `${ns(i)}/queue_depth?labelSelector=queue%3D${queue(i)}`,
    ...names.resources.map((resource) => `${ns(i)}/recommended_replicas?labelSelector=resource%3D${resource}`),
    metricsBase,
    '/apis',
  ];
  const json = { 'content-type': 'application/json' };
  const classes: { requestClass: RequestClass; weight: number }[] = [
    { weight: 4, requestClass: { name: 'external metrics: valid read', valid: true, parserMayAnswer: false, make: (i) => em(cycle(validMetricPaths(i), Math.floor(i / names.queues.length))) } },
    {
      weight: 1,
      requestClass: {
        name: 'external metrics: malformed path',
        valid: false,
        parserMayAnswer: false,
        make: (i) =>
          em(
            cycle(
              [
                `${metricsBase}/namespaces/Bad_NS/predicted_queue_depth`,
                `${metricsBase}/namespaces/default/nope`,
                `${metricsBase}/namespaces/%zz/queue_depth`,
                `${metricsBase}/namespaces/default/..%2F..%2Fetc%2Fpasswd`,
                '/apis/external.metrics.k8s.io/v2/namespaces/default/queue_depth',
                '/apis//external.metrics.k8s.io',
                '/%00',
                `${metricsBase}/namespaces/${'x'.repeat(300)}/queue_depth`,
                `${metricsBase}/namespaces/default/predicted_queue_depth/extra`,
                `${metricsBase}/namespaces/default/%E2%82%AC`,
                `${metricsBase}/namespaces//queue_depth`,
                '/api/v1/namespaces/kube-system/secrets',
              ],
              i,
            ),
          ),
      },
    },
    {
      weight: 2,
      requestClass: {
        name: 'external metrics: bad label selector',
        valid: false,
        parserMayAnswer: false,
        make: (i) =>
          em(
            `${ns(i)}/predicted_queue_depth?labelSelector=${cycle(
              [
                'queue%3D',
                'queue+in+(a',
                '%3D%3Dx',
                `queue%3D${queue(i)}%2Chorizon%3Dforever`,
                `queue%3D${queue(i)}%2Cquantile%3D2`,
                `queue%3D${queue(i)}%2Chorizon%3D-1m`,
                '!',
                'queue+notin',
                '%ff',
                `queue%3D${queue(i)}%2C%2C`,
                `${'x'.repeat(70)}%3D1`,
                'queue%3D%F0%9F%98%80',
                // Several quantiles of one queue: the HPA would add them up.
                `queue%3D${queue(i)}%2Cquantile+in+(0.5%2C0.9)`,
                '(((',
                'queue!%3D%3D',
                'queue%3D%00',
              ],
              i,
            )}`,
          ),
      },
    },
    {
      weight: 1,
      requestClass: {
        name: 'external metrics: oversized query',
        valid: false,
        parserMayAnswer: true,
        make: (i) =>
          em(
            cycle(
              [
                `${ns(i)}/queue_depth?labelSelector=queue%3D${'a'.repeat(9_000)}`,
                `${ns(i)}/queue_depth?labelSelector=${'a%3D1%2C'.repeat(1_000)}b%3D2`,
                `${ns(i)}/queue_depth?${'x=1&'.repeat(3_000)}labelSelector=queue%3D${queue(i)}`,
                `${ns(i)}/queue_depth?labelSelector=queue%3D${'b'.repeat(20_000)}`,
                `${ns(i)}/queue_depth?labelSelector=queue%3D${'c'.repeat(100_000)}`,
              ],
              i,
            ),
          ),
      },
    },
    {
      weight: 1,
      requestClass: {
        name: 'external metrics: bad method',
        valid: false,
        parserMayAnswer: false,
        make: (i) => {
          const method = cycle(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], i);
          const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? randomBytes(512) : undefined;
          return em(`${ns(i)}/predicted_queue_depth?labelSelector=queue%3D${queue(i)}`, { method, ...(body === undefined ? {} : { body, headers: json }) });
        },
      },
    },
    {
      weight: 1,
      requestClass: {
        name: 'external metrics: no client certificate',
        valid: false,
        parserMayAnswer: false,
        make: (i) => em(`${ns(i)}/predicted_queue_depth?labelSelector=queue%3D${queue(i)}`, { anonymous: true, headers: { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' } }),
      },
    },
    {
      weight: 2,
      requestClass: {
        name: 'HTTP API: valid read',
        valid: true,
        parserMayAnswer: false,
        make: (i) =>
          api(
            cycle(
              [
                '/scaling/status',
                '/metrics',
                '/scaling/history?hours=1',
                '/scaling/queues/metrics',
                '/scaling/recommendations',
                '/readyz',
                '/scaling/ml/accuracy',
                '/',
                `/scaling/series?queue=${queue(i)}`,
              ],
              i,
            ),
          ),
      },
    },
    {
      weight: 1,
      requestClass: {
        name: 'KEDA /keda/metrics: valid',
        valid: true,
        parserMayAnswer: false,
        make: (i) =>
          api(cycle([`/keda/metrics?queue=${queue(i)}`, `/keda/metrics?queue=${queue(i)}&quantile=0.9`, `/keda/metrics?queue=${queue(i)}&horizon=15m`], Math.floor(i / names.queues.length))),
      },
    },
    {
      weight: 1,
      requestClass: {
        name: 'KEDA /keda/metrics: bad',
        valid: false,
        parserMayAnswer: false,
        make: (i) => {
          const q = queue(i);
          const bad = [
            api('/keda/metrics'),
            api('/keda/metrics?queue=nope'),
            api(`/keda/metrics?queue=${q}&horizon=abc`),
            api(`/keda/metrics?queue=${q}&quantile=2`),
            api(`/keda/metrics?queue=${q}&foo=1`),
            api(`/keda/metrics?queue=${q}&queue=${q}`),
            api('/keda/metrics?queue=%zz'),
            api(`/keda/metrics?queue=${'x'.repeat(5_000)}`),
            api(`/keda/metrics?queue=${q}`, { method: 'POST', headers: json, body: '{"queue":1}' }),
            api(`/keda/metrics?queue=${q}`, { method: 'DELETE' }),
          ];
          return cycle(bad, i);
        },
      },
    },
    {
      weight: 1,
      requestClass: {
        name: 'HTTP API: bad query parameter',
        valid: false,
        parserMayAnswer: false,
        make: (i) =>
          api(
            cycle(
              [
                '/scaling/history?hours=-1',
                '/scaling/history?hours=abc',
                '/scaling/history?hours=1e9',
                '/scaling/history?hours=1&hours=2',
                '/scaling/history?hours=%zz',
                '/scaling/status?x=1',
                '/scaling/series?queue=nope',
                '/scaling/series?hours=zz',
                '/scaling/ml/accuracy?debug=true',
              ],
              i,
            ),
          ),
      },
    },
    {
      weight: 1,
      requestClass: {
        name: 'HTTP API: unknown route or method',
        valid: false,
        parserMayAnswer: false,
        make: (i) =>
          cycle(
            [
              api('/nope'),
              api('/scaling'),
              api('/scaling/status/extra'),
              api('/../../etc/passwd'),
              api('/%zz'),
              api('/.env'),
              api(`/${'a'.repeat(8_000)}`),
              api('/web/%2e%2e/package.json'),
              api(metricsBase),
              api('/scaling/status', { method: 'DELETE' }),
              api('/metrics', { method: 'PUT', headers: json, body: '{}' }),
              api('/', { method: 'PATCH' }),
            ],
            i,
          ),
      },
    },
    {
      weight: 2,
      requestClass: {
        name: 'POST /scaling/evaluate: garbage body',
        valid: false,
        parserMayAnswer: false,
        make: (i) => {
          const evaluate = (headers: Record<string, string>, body: Buffer | string, path = '/scaling/evaluate') => api(path, { method: 'POST', headers, body });
          const garbage = [
            evaluate(json, '{'),
            evaluate(json, '[1,2'),
            evaluate(json, randomBytes(1_024)),
            evaluate(json, JSON.stringify({ padding: 'p'.repeat(70_000) })),
            evaluate(json, '{"a":'.repeat(5_000)),
            evaluate({ ...json, 'content-encoding': 'gzip' }, randomBytes(256)),
            evaluate({ ...json, 'content-encoding': 'deflate' }, randomBytes(256)),
            evaluate({ 'content-type': 'application/json; charset=utf-7' }, '{}'),
            evaluate({ 'content-type': 'text/plain' }, randomBytes(2_048)),
            evaluate({ 'content-type': 'application/octet-stream' }, randomBytes(4_096)),
            evaluate(json, '{}', '/scaling/evaluate?x=1'),
          ];
          return cycle(garbage, i);
        },
      },
    },
    {
      weight: 2,
      requestClass: {
        name: 'raw: malformed HTTP (both ports)',
        valid: false,
        parserMayAnswer: true,
        make: (i) => {
          const raw = cycle(
            [
              'GARBAGE\r\n\r\n',
              Buffer.concat([randomBytes(256), Buffer.from('\r\n\r\n')]),
              'GET /scaling/status HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n',
              'FOO /scaling/status HTTP/1.1\r\nHost: x\r\n\r\n',
              'GET /scaling/status HTTP/7.3\r\nHost: x\r\n\r\n',
              'POST /scaling/evaluate HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
              `GET /readyz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
              'GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n',
              'GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
              'GET /\u0000 HTTP/1.1\r\n\r\n',
              `GET ${metricsBase}/namespaces/default/queue_depth?labelSelector=queue=\u00e9\u20ac HTTP/1.0\r\n\r\n`,
              'GET /readyz HTTP/1.1\r\nHost: x\r\n',
            ],
            Math.floor(i / 2),
          );
          return { port: i % 2 === 0 ? 'http' : 'externalMetrics', raw };
        },
      },
    },
  ];
  return classes;
}

/** Where the service listens and how to reach it. */
export interface Targets {
  readonly httpUrl: URL;
  readonly externalMetricsUrl: URL;
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

/** Time after which a request that got no answer counts as a connection error. */
const requestTimeoutMs = 30_000;
/** Answers are read up to this size (the largest, `/metrics`, is far below). */
const maxBodyBytes = 4 * 1024 * 1024;

function isStatusBody(body: string, code: number): boolean {
  try {
    const parsed = JSON.parse(body) as { kind?: unknown; code?: unknown };
    return parsed.kind === 'Status' && parsed.code === code;
  } catch {
    return false;
  }
}

/** Sends requests of the mix over keep-alive connections (one pool per port and identity). */
export class SoakClient {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;
  readonly #anonymous: HttpsAgent;

  constructor(
    private readonly targets: Targets,
    connections: number,
  ) {
    this.#http = new HttpAgent({ keepAlive: true, maxSockets: connections });
    this.#https = new HttpsAgent({ keepAlive: true, maxSockets: connections, ca: targets.caPem, cert: targets.clientCertPem, key: targets.clientKeyPem });
    this.#anonymous = new HttpsAgent({ keepAlive: true, maxSockets: connections, ca: targets.caPem });
  }

  send(c: Case): Promise<Outcome> {
    return 'raw' in c ? this.#sendRaw(c) : this.#sendHttp(c);
  }

  close(): void {
    for (const agent of [this.#http, this.#https, this.#anonymous]) agent.destroy();
  }

  #sendHttp(c: HttpCase): Promise<Outcome> {
    return new Promise((resolve) => {
      const url = c.port === 'http' ? this.targets.httpUrl : this.targets.externalMetricsUrl;
      const options = { host: url.hostname, port: url.port, method: c.method, path: c.path, headers: { ...c.headers } };
      const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes <= maxBodyBytes) chunks.push(chunk);
        });
        res.on('error', (error) => resolve({ error: error.message }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve(status >= 400 ? { status, statusBody: isStatusBody(Buffer.concat(chunks).toString('utf8'), status) } : { status });
        });
      };
      const req =
        c.port === 'http' ? httpRequest({ ...options, agent: this.#http }, onResponse) : httpsRequest({ ...options, agent: c.anonymous === true ? this.#anonymous : this.#https }, onResponse);
      req.setTimeout(requestTimeoutMs, () => req.destroy(new Error(`no answer within ${requestTimeoutMs / 1000} s`)));
      req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
      req.end(c.body);
    });
  }

  /** Writes the bytes on a fresh connection and reads until the server closes it. */
  #sendRaw(c: RawCase): Promise<Outcome> {
    return new Promise((resolve) => {
      const url = c.port === 'http' ? this.targets.httpUrl : this.targets.externalMetricsUrl;
      const port = Number(url.port);
      const socket: Socket =
        c.port === 'http'
          ? netConnect({ host: url.hostname, port })
          : tlsConnect({ host: url.hostname, port, ca: this.targets.caPem, cert: this.targets.clientCertPem, key: this.targets.clientKeyPem });
      const chunks: Buffer[] = [];
      let settled = false;
      const finish = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        resolve(outcome);
      };
      socket.once(c.port === 'http' ? 'connect' : 'secureConnect', () => {
        socket.write(c.raw);
        // A request cut short (no blank line) must not hold the connection: the half-close says "that was all".
        socket.end();
      });
      socket.on('data', (chunk: Buffer) => {
        if (chunks.reduce((n, b) => n + b.length, 0) < maxBodyBytes) chunks.push(chunk);
      });
      socket.setTimeout(requestTimeoutMs, () => finish({ error: `no answer within ${requestTimeoutMs / 1000} s` }));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        // A reset after the answer came is how a server ends a connection it refuses to keep.
        if (chunks.length === 0) finish({ error: error.code ?? error.message });
      });
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
        if (status === undefined) {
          finish({ error: 'closed without an answer' });
          return;
        }
        const code = Number(status);
        const bodyStart = text.indexOf('\r\n\r\n');
        finish(code >= 400 ? { status: code, statusBody: bodyStart >= 0 && isStatusBody(Buffer.from(text.slice(bodyStart + 4), 'latin1').toString('utf8'), code) } : { status: code });
      });
    });
  }
}
