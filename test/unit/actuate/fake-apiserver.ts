/**
 * A fake Kubernetes API server for actuation tests. No kube-apiserver runs on this machine (see
 * ../shared/reference/environment.md), so this plain node:http server on 127.0.0.1 (port 0)
 * emulates exactly the endpoints actuation uses, with the API server's own rules, and CHECKS every
 * request: method, path, Content-Type, body shape, bearer token, resourceVersion preconditions.
 * A request the real server would refuse is refused here the same way (a Kubernetes Status body
 * with the same code and reason) and also noted in `problems`, which tests assert to be empty.
 *
 * Endpoints:
 * - GET/PATCH /apis/apps/v1/namespaces/{ns}/{deployments|statefulsets}/{name}/scale
 *   (PATCH: application/merge-patch+json, body exactly {"spec":{"replicas":N}})
 * - PATCH /api/v1/namespaces/{ns}/configmaps/{name}
 *   (application/merge-patch+json, body exactly {"data":{"<key>":"<decimal>"}})
 * - GET/PUT /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}, POST .../leases
 *   (JSON; MicroTime with six fractional digits; PUT needs the current resourceVersion, else
 *   409 Conflict; POST of an existing Lease is 409 AlreadyExists)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** One request as the fake saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  /** The bearer token, which tells apart the replicas of a test. */
  readonly token: string | undefined;
  readonly body: unknown;
  /** The status the fake answered with (0 until it answered). */
  status: number;
}

/** A stored Lease. */
export interface FakeLease {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion: string };
  readonly spec: Readonly<Record<string, unknown>>;
}

/** A failure to inject: the next `times` requests that match answer `status`. */
interface Injected {
  readonly method: string | undefined;
  readonly pathIncludes: string;
  readonly status: number;
  readonly reason: string;
  /** Never answer (to test timeouts). */
  readonly hang: boolean;
  remaining: number;
}

/** Go's time.RFC3339Micro as the API server parses a MicroTime (we always write UTC). */
const microTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const mergePatch = 'application/merge-patch+json';

const scalePath = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets)\/([^/]+)\/scale$/;
const configMapPath = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/]+)$/;
const leasesPath = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases$/;
const leasePath = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases\/([^/]+)$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    /** False for refusals that are part of the protocol (404, 409), not a malformed request. */
    readonly problem = true,
  ) {
    super(message);
  }
}

/** The fake API server. */
export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Malformed requests: what the real API server would have refused, and why. */
  readonly problems: string[] = [];
  readonly #server: Server;
  readonly #tokens: ReadonlySet<string>;
  readonly #workloads = new Map<string, number>();
  readonly #configMaps = new Map<string, Record<string, string>>();
  readonly #leases = new Map<string, FakeLease>();
  readonly #injected: Injected[] = [];
  #barrier: { readonly method: string; readonly pathIncludes: string; readonly count: number; readonly waiting: (() => void)[] } | undefined;
  #resourceVersion = 1000;

  private constructor(server: Server, tokens: readonly string[]) {
    this.#server = server;
    this.#tokens = new Set(tokens);
  }

  /** Starts a server on 127.0.0.1 that accepts the given bearer tokens. */
  static async start(tokens: readonly string[] = ['token-a', 'token-b']): Promise<FakeApiServer> {
    let fake: FakeApiServer | undefined;
    const server = createServer((req, res) => void fake!.#handle(req, res));
    fake = new FakeApiServer(server, tokens);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** A KubeConfig that reaches this server as the user with `token`. */
  kubeConfig(token: string, namespace = 'shop'): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      // client-node refuses plain http unless skipTLSVerify is set; the fake has no TLS.
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'replica', token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'replica', namespace }],
      currentContext: 'fake',
    });
    return kubeConfig;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  addWorkload(kind: 'Deployment' | 'StatefulSet', namespace: string, name: string, replicas: number): void {
    this.#workloads.set(`${kind === 'Deployment' ? 'deployments' : 'statefulsets'}/${namespace}/${name}`, replicas);
  }

  replicas(kind: 'Deployment' | 'StatefulSet', namespace: string, name: string): number | undefined {
    return this.#workloads.get(`${kind === 'Deployment' ? 'deployments' : 'statefulsets'}/${namespace}/${name}`);
  }

  addConfigMap(namespace: string, name: string, data: Record<string, string>): void {
    this.#configMaps.set(`${namespace}/${name}`, { ...data });
  }

  configMap(namespace: string, name: string): Readonly<Record<string, string>> | undefined {
    return this.#configMaps.get(`${namespace}/${name}`);
  }

  lease(namespace: string, name: string): FakeLease | undefined {
    return this.#leases.get(`${namespace}/${name}`);
  }

  /** Makes the next `times` requests whose path contains `pathIncludes` (and method, if given) fail. */
  inject(failure: { readonly method?: string; readonly pathIncludes: string; readonly status?: number; readonly reason?: string; readonly hang?: boolean; readonly times?: number }): void {
    this.#injected.push({
      method: failure.method,
      pathIncludes: failure.pathIncludes,
      status: failure.status ?? 500,
      reason: failure.reason ?? 'InternalError',
      hang: failure.hang ?? false,
      remaining: failure.times ?? 1,
    });
  }

  /**
   * Holds the next `count` requests that match until all of them have arrived, then answers them
   * in arrival order: makes a race between replicas happen every time, not just sometimes.
   */
  holdUntil(count: number, method: string, pathIncludes: string): void {
    this.#barrier = { method, pathIncludes, count, waiting: [] };
  }

  /** The requests of one method, optionally only those sent with `token`. */
  sent(method: string, token?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && (token === undefined || r.token === token));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    const contentType = req.headers['content-type'];
    let body: unknown = raw;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const method = req.method ?? 'GET';
    const record: RecordedRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), contentType, token, body, status: 0 };
    this.requests.push(record);
    const barrier = this.#barrier;
    if (barrier !== undefined && method === barrier.method && url.pathname.includes(barrier.pathIncludes)) {
      await new Promise<void>((resolve) => {
        barrier.waiting.push(resolve);
        if (barrier.waiting.length === barrier.count) {
          this.#barrier = undefined;
          for (const release of barrier.waiting) release();
        }
      });
    }
    try {
      if (token === undefined || !this.#tokens.has(token)) throw new Refusal(401, 'Unauthorized', 'Unauthorized');
      const injected = this.#injected.find((f) => f.remaining > 0 && url.pathname.includes(f.pathIncludes) && (f.method === undefined || f.method === method));
      if (injected !== undefined) {
        injected.remaining -= 1;
        if (injected.hang) return;
        throw new Refusal(injected.status, injected.reason, `injected ${injected.status} ${injected.reason}`, false);
      }
      this.#send(res, record, 200, this.#route(method, url.pathname, contentType, body, raw));
    } catch (error) {
      if (!(error instanceof Refusal)) {
        this.problems.push(`${method} ${url.pathname}: the fake itself failed: ${String(error)}`);
        this.#send(res, record, 500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: String(error), reason: 'InternalError', code: 500 });
        return;
      }
      if (error.problem) this.problems.push(`${method} ${url.pathname}: ${error.message}`);
      this.#send(res, record, error.status, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: error.message, reason: error.reason, code: error.status });
    }
  }

  #send(res: ServerResponse, record: RecordedRequest, status: number, body: unknown): void {
    record.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  #route(method: string, path: string, contentType: string | undefined, body: unknown, raw: string): unknown {
    let m = scalePath.exec(path);
    if (m !== null) return this.#scale(method, m[1]!, m[2]!, m[3]!, contentType, body);
    m = configMapPath.exec(path);
    if (m !== null) return this.#configMapPatch(method, m[1]!, m[2]!, contentType, body);
    m = leasesPath.exec(path);
    if (m !== null && method === 'POST') return this.#createLease(m[1]!, contentType, body);
    m = leasePath.exec(path);
    if (m !== null && method === 'GET') return this.#readLease(m[1]!, m[2]!);
    if (m !== null && method === 'PUT') return this.#replaceLease(m[1]!, m[2]!, contentType, body);
    throw new Refusal(404, 'NotFound', `the server could not find the requested resource (${method} ${path}, body ${raw.length} bytes)`);
  }

  #scale(method: string, namespace: string, plural: string, name: string, contentType: string | undefined, body: unknown): unknown {
    const key = `${plural}/${namespace}/${name}`;
    const current = this.#workloads.get(key);
    if (current === undefined) throw new Refusal(404, 'NotFound', `${plural}.apps "${name}" not found`, false);
    if (method === 'PATCH') {
      if (contentType !== mergePatch) throw new Refusal(415, 'UnsupportedMediaType', `expected Content-Type ${mergePatch}, got ${contentType ?? 'none'}`);
      const spec = isRecord(body) ? body['spec'] : undefined;
      const replicas = isRecord(spec) ? spec['replicas'] : undefined;
      if (!isRecord(body) || Object.keys(body).length !== 1 || !isRecord(spec) || Object.keys(spec).length !== 1 || typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        throw new Refusal(400, 'BadRequest', `expected exactly {"spec":{"replicas":<int>}}, got ${JSON.stringify(body)}`);
      }
      this.#workloads.set(key, replicas);
    } else if (method !== 'GET') {
      throw new Refusal(405, 'MethodNotAllowed', `${method} is not allowed on a scale subresource`);
    }
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace, resourceVersion: String(++this.#resourceVersion) },
      spec: { replicas: this.#workloads.get(key) },
      status: { replicas: current },
    };
  }

  #configMapPatch(method: string, namespace: string, name: string, contentType: string | undefined, body: unknown): unknown {
    if (method !== 'PATCH') throw new Refusal(405, 'MethodNotAllowed', `actuation only patches ConfigMaps, got ${method}`);
    const data = this.#configMaps.get(`${namespace}/${name}`);
    if (data === undefined) throw new Refusal(404, 'NotFound', `configmaps "${name}" not found`, false);
    if (contentType !== mergePatch) throw new Refusal(415, 'UnsupportedMediaType', `expected Content-Type ${mergePatch}, got ${contentType ?? 'none'}`);
    const patch = isRecord(body) ? body['data'] : undefined;
    if (!isRecord(body) || Object.keys(body).length !== 1 || !isRecord(patch) || Object.values(patch).some((v) => typeof v !== 'string' || !/^\d+$/.test(v))) {
      throw new Refusal(400, 'BadRequest', `expected exactly {"data":{"<key>":"<decimal>"}}, got ${JSON.stringify(body)}`);
    }
    Object.assign(data, patch);
    return { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name, namespace, resourceVersion: String(++this.#resourceVersion) }, data };
  }

  #readLease(namespace: string, name: string): unknown {
    const lease = this.#leases.get(`${namespace}/${name}`);
    if (lease === undefined) throw new Refusal(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`, false);
    return { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', ...lease };
  }

  #checkLeaseBody(contentType: string | undefined, body: unknown, namespace: string): { name: string; metadata: Record<string, unknown>; spec: Record<string, unknown> } {
    if (contentType !== 'application/json') throw new Refusal(415, 'UnsupportedMediaType', `expected Content-Type application/json, got ${contentType ?? 'none'}`);
    if (!isRecord(body) || body['apiVersion'] !== 'coordination.k8s.io/v1' || body['kind'] !== 'Lease') {
      throw new Refusal(400, 'BadRequest', `expected a coordination.k8s.io/v1 Lease, got ${JSON.stringify(body)}`);
    }
    const metadata = body['metadata'];
    const spec = body['spec'];
    if (!isRecord(metadata) || typeof metadata['name'] !== 'string' || !isRecord(spec)) throw new Refusal(400, 'BadRequest', 'a Lease needs metadata.name and spec');
    if (metadata['namespace'] !== undefined && metadata['namespace'] !== namespace) {
      throw new Refusal(400, 'BadRequest', `the namespace of the object (${String(metadata['namespace'])}) does not match the namespace on the request (${namespace})`);
    }
    for (const field of ['acquireTime', 'renewTime']) {
      const value = spec[field];
      if (value !== undefined && (typeof value !== 'string' || !microTimePattern.test(value))) {
        throw new Refusal(400, 'BadRequest', `spec.${field}: ${JSON.stringify(value)} is not a MicroTime (RFC3339 with 6 fractional digits)`);
      }
    }
    for (const field of ['leaseDurationSeconds', 'leaseTransitions']) {
      const value = spec[field];
      if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value))) throw new Refusal(400, 'BadRequest', `spec.${field} must be an integer`);
    }
    return { name: metadata['name'], metadata, spec };
  }

  #createLease(namespace: string, contentType: string | undefined, body: unknown): unknown {
    const { name, metadata, spec } = this.#checkLeaseBody(contentType, body, namespace);
    if (metadata['resourceVersion'] !== undefined) throw new Refusal(400, 'BadRequest', 'resourceVersion should not be set on objects to be created');
    const key = `${namespace}/${name}`;
    if (this.#leases.has(key)) throw new Refusal(409, 'AlreadyExists', `leases.coordination.k8s.io "${name}" already exists`, false);
    const lease: FakeLease = { metadata: { name, namespace, resourceVersion: String(++this.#resourceVersion) }, spec };
    this.#leases.set(key, lease);
    return { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', ...lease };
  }

  #replaceLease(namespace: string, name: string, contentType: string | undefined, body: unknown): unknown {
    const checked = this.#checkLeaseBody(contentType, body, namespace);
    if (checked.name !== name) throw new Refusal(400, 'BadRequest', `the name of the object (${checked.name}) does not match the name on the URL (${name})`);
    const key = `${namespace}/${name}`;
    const current = this.#leases.get(key);
    if (current === undefined) throw new Refusal(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`, false);
    // Foresight always writes with the resourceVersion it read: an update without one would be
    // unconditional and could overwrite another replica's acquisition.
    const resourceVersion = checked.metadata['resourceVersion'];
    if (typeof resourceVersion !== 'string') throw new Refusal(400, 'BadRequest', 'metadata.resourceVersion must be set (optimistic concurrency)');
    if (resourceVersion !== current.metadata.resourceVersion) {
      throw new Refusal(
        409,
        'Conflict',
        `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        false,
      );
    }
    const lease: FakeLease = { metadata: { name, namespace, resourceVersion: String(++this.#resourceVersion) }, spec: checked.spec };
    this.#leases.set(key, lease);
    return { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', ...lease };
  }
}
