/**
 * A stand-in for kube-apiserver, for the external-metrics tests of delegated authentication and
 * authorization. No kube-apiserver runs here, so a local HTTPS server plays its part: it serves the
 * kube-system/extension-apiserver-authentication ConfigMap, answers TokenReviews and
 * SubjectAccessReviews from a small policy, and RECORDS THE EXACT REQUESTS it receives, which the
 * tests then check field by field. What a real API server would decide is not tested with it.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { renderKubeconfig } from '../../../src/publish/index.js';

/** The token Foresight's kubeconfig carries; any other is refused with 401. */
export const serviceToken = 'foresight-service-account-token';
/** The HPA controller's user, the one the policy lets list external metrics in "shop". */
export const hpaUser = 'system:serviceaccount:kube-system:horizontal-pod-autoscaler';

/** One request the stand-in received. */
export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

/** The stand-in for kube-apiserver. */
export class FakeKubeApiServer {
  readonly requests: Recorded[] = [];
  configMapData: Record<string, string> = {};
  failReviews = false;
  #server: Server | undefined;

  constructor(private readonly serving: { readonly keyPem: string; readonly certPem: string }) {}

  get url(): string {
    return `https://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  reviews(kind: 'tokenreviews' | 'subjectaccessreviews'): Recorded[] {
    return this.requests.filter((r) => r.path.endsWith(`/${kind}`));
  }

  async start(): Promise<void> {
    this.#server = createServer({ key: this.serving.keyPem, cert: this.serving.certPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const record: Recorded = { method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, authorization: req.headers.authorization, body: text === '' ? undefined : JSON.parse(text) };
        this.requests.push(record);
        const send = (code: number, body: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (record.authorization !== `Bearer ${serviceToken}`) return send(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401, reason: 'Unauthorized' });
        if (record.method === 'GET' && record.path === '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication') {
          return send(200, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extension-apiserver-authentication', namespace: 'kube-system' }, data: this.configMapData });
        }
        if (this.failReviews) return send(500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, reason: 'InternalError', message: 'etcd is down' });
        const body = record.body as { spec: Record<string, unknown> };
        if (record.method === 'POST' && record.path === '/apis/authentication.k8s.io/v1/tokenreviews') {
          const token = body.spec['token'];
          return send(201, {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenReview',
            spec: body.spec,
            status:
              token === 'hpa-token'
                ? {
                    authenticated: true,
                    user: { username: hpaUser, uid: 'uid-hpa', groups: ['system:serviceaccounts', 'system:authenticated'], extra: { 'authentication.kubernetes.io/pod-name': ['kcm-0'] } },
                  }
                : { authenticated: false, error: 'token has expired' },
          });
        }
        if (record.method === 'POST' && record.path === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
          const spec = body.spec as { user: string; resourceAttributes?: { namespace: string }; nonResourceAttributes?: unknown };
          // The policy: the HPA may list external metrics in "shop"; any authenticated user may read discovery.
          const allowed = spec.nonResourceAttributes !== undefined || (spec.user === hpaUser && spec.resourceAttributes?.namespace === 'shop');
          return send(201, {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec,
            status: allowed ? { allowed: true, reason: 'RBAC: allowed' } : { allowed: false, reason: 'RBAC: no rule matched' },
          });
        }
        return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' });
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server?.close(() => resolve());
      this.#server?.closeAllConnections();
    });
  }
}

/**
 * Writes a kubeconfig that reaches `kube` with the service token, trusting `caPem` for its serving
 * certificate, and returns its path.
 */
export async function writeKubeconfigFor(kube: FakeKubeApiServer, caPem: string, dir: string): Promise<string> {
  const kubeconfigPath = join(dir, 'kubeconfig');
  const kubeconfig = renderKubeconfig({ server: kube.url, caPem, clientCertPem: '', clientKeyPem: '', name: 'fake' })
    .replace(/client-certificate-data: .*\n/, '')
    .replace(/client-key-data: .*/, `token: ${serviceToken}`);
  await writeFile(kubeconfigPath, kubeconfig);
  return kubeconfigPath;
}
