/**
 * TokenReview, SubjectAccessReview and the extension-apiserver-authentication ConfigMap through
 * `@kubernetes/client-node` (1.4: the 2.x line crashes on Node 20). The library is imported lazily,
 * so a server that delegates nothing never loads it.
 *
 * Answers are checked with zod at this boundary; a review that times out or fails rejects, and the
 * callers turn that into a 503 (never a 500, and never an "allowed").
 */
import { z } from 'zod';
import { authenticationConfigMap } from './extension-apiserver-authentication.js';
import type { AccessAttributes, UserInfo } from './identity.js';
import type { AccessReviewer, AccessReviewResult, TokenReviewer, TokenReviewResult } from './reviews.js';

/** Where the Kubernetes API is: the pod's service account, or a kubeconfig file. */
export type KubernetesConnection = { readonly kind: 'in-cluster' } | { readonly kind: 'kubeconfig'; readonly path: string };

/** The three delegated calls. */
export interface KubernetesDelegation {
  readonly tokenReviewer: TokenReviewer;
  readonly accessReviewer: AccessReviewer;
  /** The ConfigMap's data, or undefined when it does not exist. Rejects on any other failure. */
  readAuthenticationConfigMap(): Promise<Readonly<Record<string, string>> | undefined>;
}

const tokenReviewStatus = z.object({
  authenticated: z.boolean().optional(),
  error: z.string().optional(),
  user: z
    .object({
      username: z.string().optional(),
      uid: z.string().optional(),
      groups: z.array(z.string()).optional(),
      extra: z.record(z.string(), z.array(z.string())).optional(),
    })
    .optional(),
});

const accessReviewStatus = z.object({
  allowed: z.boolean(),
  denied: z.boolean().optional(),
  reason: z.string().optional(),
  evaluationError: z.string().optional(),
});

/** Default time limit of one call, as the generic apiserver's delegated clients use. */
const callTimeoutMs = 10_000;

async function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The HTTP status of a client-node ApiException, if it is one. */
function httpCode(error: unknown): number | undefined {
  const code: unknown = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The user part of a SubjectAccessReview spec. */
function subjectOf(user: UserInfo) {
  return {
    user: user.username,
    groups: [...user.groups],
    ...(user.uid === undefined ? {} : { uid: user.uid }),
    ...(Object.keys(user.extra).length === 0 ? {} : { extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])) }),
  };
}

/**
 * Connects to the Kubernetes API. Nothing is requested until a review is made.
 *
 * @throws when the kubeconfig cannot be read, or in-cluster credentials are missing.
 */
export async function createKubernetesDelegation(connection: KubernetesConnection, options: { readonly timeoutMs?: number } = {}): Promise<KubernetesDelegation> {
  const k8s = await import('@kubernetes/client-node');
  const kubeConfig = new k8s.KubeConfig();
  if (connection.kind === 'in-cluster') kubeConfig.loadFromCluster();
  else kubeConfig.loadFromFile(connection.path);
  const authentication = kubeConfig.makeApiClient(k8s.AuthenticationV1Api);
  const authorization = kubeConfig.makeApiClient(k8s.AuthorizationV1Api);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const timeoutMs = options.timeoutMs ?? callTimeoutMs;

  const tokenReviewer: TokenReviewer = {
    async review(token): Promise<TokenReviewResult> {
      const response = await withTimeout('TokenReview', authentication.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } }), timeoutMs);
      const status = tokenReviewStatus.safeParse(response.status ?? {});
      if (!status.success) throw new Error('TokenReview answered with an unexpected status');
      const s = status.data;
      if (s.authenticated !== true || s.user?.username === undefined || s.user.username === '') {
        return { authenticated: false, ...(s.error === undefined || s.error === '' ? {} : { error: s.error }) };
      }
      return {
        authenticated: true,
        user: { username: s.user.username, ...(s.user.uid === undefined || s.user.uid === '' ? {} : { uid: s.user.uid }), groups: s.user.groups ?? [], extra: s.user.extra ?? {} },
      };
    },
  };

  const accessReviewer: AccessReviewer = {
    async review(user: UserInfo, attributes: AccessAttributes): Promise<AccessReviewResult> {
      const spec =
        attributes.kind === 'resource'
          ? {
              ...subjectOf(user),
              resourceAttributes: { namespace: attributes.namespace, verb: attributes.verb, group: attributes.group, version: attributes.version, resource: attributes.resource },
            }
          : { ...subjectOf(user), nonResourceAttributes: { path: attributes.path, verb: attributes.verb } };
      const response = await withTimeout(
        'SubjectAccessReview',
        authorization.createSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec } }),
        timeoutMs,
      );
      const status = accessReviewStatus.safeParse(response.status ?? {});
      if (!status.success) throw new Error('SubjectAccessReview answered with an unexpected status');
      const s = status.data;
      return {
        allowed: s.allowed && s.denied !== true,
        ...(s.reason === undefined || s.reason === '' ? {} : { reason: s.reason }),
        ...(s.evaluationError === undefined || s.evaluationError === '' ? {} : { evaluationError: s.evaluationError }),
      };
    },
  };

  return {
    tokenReviewer,
    accessReviewer,
    async readAuthenticationConfigMap() {
      try {
        const configMap = await withTimeout('reading the extension-apiserver-authentication ConfigMap', core.readNamespacedConfigMap(authenticationConfigMap), timeoutMs);
        return configMap.data ?? {};
      } catch (error) {
        if (httpCode(error) === 404) return undefined;
        throw error;
      }
    },
  };
}
