/**
 * Decides how the external-metrics server authenticates, and loads what that needs: certificate
 * and CA files, the extension-apiserver-authentication ConfigMap, the Kubernetes API for
 * TokenReview/SubjectAccessReview, or the local PKI. Everything here does I/O; the checks
 * themselves live in publish/auth.
 *
 * Modes:
 * - `delegated`: a Kubernetes API is reachable (in a cluster, or through externalMetrics.kubeconfig)
 *   and the ConfigMap is read: the aggregator's front-proxy certificate is trusted as kube-apiserver
 *   says, tokens go to TokenReview and access to SubjectAccessReview (each switchable).
 * - `files`: CA files are configured (and maybe TokenReview), no ConfigMap.
 * - `local`: outside a cluster with nothing configured: a local CA, serving and client
 *   certificates and a kubeconfig are generated under externalMetrics.pkiDir, and only that client
 *   certificate is accepted. Secure by default, and `kubectl` works at once.
 */
import type { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Config } from '../../config/index.js';
import { type Clock, ForesightError, readPemFile } from '../../core/index.js';
import {
  type CertificateAndKey,
  ensureLocalPki,
  type ExtensionApiserverAuthentication,
  failureMessage,
  inMemoryServingCertificate,
  type KubernetesConnection,
  type KubernetesDelegation,
  loadCertificateAndKey,
  type LocalPki,
  parseCertificateBundle,
  parseExtensionApiserverAuthentication,
  type RequestHeaderSettings,
  type TrustSettings,
} from '../../publish/index.js';

/** How requests are authenticated; see the module comment. */
export type AuthMode = 'delegated' | 'files' | 'local';

/** The externalMetrics section of the configuration. */
export type ExternalMetricsConfig = Config['externalMetrics'];

/** Where the pod's service account token is mounted. */
const serviceAccountTokenPath = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** True when running in a Kubernetes pod with a service account. */
export function runningInCluster(env: Readonly<Record<string, string | undefined>>, tokenPath = serviceAccountTokenPath): boolean {
  return (env['KUBERNETES_SERVICE_HOST'] ?? '') !== '' && (env['KUBERNETES_SERVICE_PORT'] ?? '') !== '' && existsSync(tokenPath);
}

/** The resolved plan: which mode, which Kubernetes API (if any), which delegated checks. */
export interface AuthPlan {
  readonly mode: AuthMode;
  readonly connection: KubernetesConnection | undefined;
  readonly useConfigMap: boolean;
  readonly useTokenReview: boolean;
  readonly useSubjectAccessReview: boolean;
}

/** Thrown when the authentication configuration cannot work; the message says what to change. */
export class AuthSetupError extends ForesightError {
  override readonly name: string = 'AuthSetupError';

  constructor(message: string) {
    super('FORESIGHT_ERR_AUTH_SETUP', message);
  }
}

/** Resolves the `auto`/`on`/`off` switches into a plan. Pure. */
export function planAuthentication(section: ExternalMetricsConfig, inCluster: boolean): AuthPlan {
  const connection: KubernetesConnection | undefined = section.kubeconfig !== undefined ? { kind: 'kubeconfig', path: section.kubeconfig } : inCluster ? { kind: 'in-cluster' } : undefined;
  const decide = (value: 'auto' | 'on' | 'off', key: string): boolean => {
    if (value === 'on' && connection === undefined) {
      throw new AuthSetupError(`externalMetrics.${key} is "on" but no Kubernetes API is reachable: run in a cluster, or set externalMetrics.kubeconfig`);
    }
    return value === 'on' || (value === 'auto' && connection !== undefined);
  };
  const useConfigMap = decide(section.authenticationConfigMap, 'authenticationConfigMap');
  const useTokenReview = decide(section.tokenReview, 'tokenReview');
  const useSubjectAccessReview = decide(section.subjectAccessReview, 'subjectAccessReview');
  const filesConfigured = section.clientCAFile !== undefined || section.requestHeader.clientCAFile !== undefined;
  const mode: AuthMode = useConfigMap ? 'delegated' : filesConfigured || useTokenReview ? 'files' : 'local';
  return { mode, connection, useConfigMap, useTokenReview, useSubjectAccessReview };
}

/** Everything the TLS server and the authenticator are built from at one point in time. */
export interface AuthMaterial {
  readonly serving: CertificateAndKey;
  /** PEM text of every CA that may sign a client certificate (the TLS layer's `ca`). */
  readonly caPems: readonly string[];
  readonly trust: TrustSettings;
  /** A fingerprint of the inputs, to tell whether a reload changed anything. */
  readonly inputsDigest: string;
}

async function readText(path: string, what: string): Promise<string> {
  const bytes = await readPemFile(path, what).catch((error: unknown) => {
    throw new AuthSetupError(failureMessage(error));
  });
  return bytes.toString('utf8');
}

function parseBundle(pem: string, what: string): X509Certificate[] {
  let certificates: X509Certificate[];
  try {
    certificates = parseCertificateBundle(pem);
  } catch (error) {
    throw new AuthSetupError(`${what} is not a PEM certificate bundle: ${failureMessage(error)}`);
  }
  if (certificates.length === 0) throw new AuthSetupError(`${what} holds no PEM certificate`);
  return certificates;
}

const lower = (names: readonly string[]) => names.map((n) => n.toLowerCase());

function requestHeaderFrom(
  clientCAs: readonly X509Certificate[],
  settings: {
    readonly allowedNames: readonly string[];
    readonly usernameHeaders: readonly string[];
    readonly uidHeaders: readonly string[];
    readonly groupHeaders: readonly string[];
    readonly extraHeaderPrefixes: readonly string[];
  },
): RequestHeaderSettings {
  return {
    clientCAs,
    allowedNames: settings.allowedNames,
    usernameHeaders: lower(settings.usernameHeaders),
    uidHeaders: lower(settings.uidHeaders),
    groupHeaders: lower(settings.groupHeaders),
    extraHeaderPrefixes: lower(settings.extraHeaderPrefixes),
  };
}

/** What loading needs besides the configuration. */
export interface LoadContext {
  readonly plan: AuthPlan;
  readonly clock: Clock;
  readonly delegation: KubernetesDelegation | undefined;
  /** The local PKI, once made (local mode). */
  readonly localPki: LocalPki | undefined;
  /** A generated serving certificate kept across reloads (no tls files). */
  readonly generatedServing: CertificateAndKey | undefined;
}

/** The ConfigMap's content, or undefined when it does not exist (then only files count). */
async function readConfigMap(delegation: KubernetesDelegation): Promise<ExtensionApiserverAuthentication | undefined> {
  let data: Readonly<Record<string, string>> | undefined;
  try {
    data = await delegation.readAuthenticationConfigMap();
  } catch (error) {
    throw new AuthSetupError(`cannot read kube-system/extension-apiserver-authentication (is the extension-apiserver-authentication-reader RoleBinding in place?): ${failureMessage(error)}`);
  }
  if (data === undefined) return undefined;
  const parsed = parseExtensionApiserverAuthentication(data);
  if (!parsed.ok) throw new AuthSetupError(parsed.error);
  return parsed.value;
}

/**
 * Reads every input (files, ConfigMap) and builds the material. Throws {@link AuthSetupError} with a
 * message naming the file or key when an input is unusable; the caller keeps the previous material.
 */
export async function loadAuthMaterial(section: ExternalMetricsConfig, context: LoadContext): Promise<AuthMaterial> {
  const digestParts: string[] = [];
  let serving: CertificateAndKey;
  if (section.tls.certFile !== undefined && section.tls.keyFile !== undefined) {
    const [cert, key] = await Promise.all([readText(section.tls.certFile, 'externalMetrics.tls.certFile'), readText(section.tls.keyFile, 'externalMetrics.tls.keyFile')]);
    try {
      serving = loadCertificateAndKey(cert, key);
    } catch (error) {
      throw new AuthSetupError(`externalMetrics.tls.certFile "${section.tls.certFile}" and keyFile "${section.tls.keyFile}" are not a usable pair: ${failureMessage(error)}`);
    }
    digestParts.push(cert, key);
  } else if (context.localPki !== undefined) {
    serving = context.localPki.serving;
    digestParts.push(serving.certPem);
  } else if (context.generatedServing !== undefined) {
    serving = context.generatedServing;
    digestParts.push(serving.certPem);
  } else {
    throw new AuthSetupError('no serving certificate: set externalMetrics.tls.certFile and keyFile');
  }

  const clientCAs: X509Certificate[] = [];
  const caPems: string[] = [];
  if (section.clientCAFile !== undefined) {
    const pem = await readText(section.clientCAFile, 'externalMetrics.clientCAFile');
    clientCAs.push(...parseBundle(pem, `externalMetrics.clientCAFile "${section.clientCAFile}"`));
    caPems.push(pem);
    digestParts.push(pem);
  }
  let requestHeader: RequestHeaderSettings | undefined;
  if (section.requestHeader.clientCAFile !== undefined) {
    const pem = await readText(section.requestHeader.clientCAFile, 'externalMetrics.requestHeader.clientCAFile');
    requestHeader = requestHeaderFrom(parseBundle(pem, `externalMetrics.requestHeader.clientCAFile "${section.requestHeader.clientCAFile}"`), section.requestHeader);
    caPems.push(pem);
    digestParts.push(pem);
  }
  if (context.plan.useConfigMap && context.delegation !== undefined) {
    const fromCluster = await readConfigMap(context.delegation);
    // Files configured explicitly win over what the cluster publishes, as kube flags win over the ConfigMap.
    if (fromCluster?.clientCAPem !== undefined && section.clientCAFile === undefined) {
      clientCAs.push(...parseBundle(fromCluster.clientCAPem, 'client-ca-file of kube-system/extension-apiserver-authentication'));
      caPems.push(fromCluster.clientCAPem);
      digestParts.push(fromCluster.clientCAPem);
    }
    if (fromCluster?.requestHeader !== undefined && requestHeader === undefined) {
      const rh = fromCluster.requestHeader;
      // The cluster knows its aggregator's name; when it lists none (kube-apiserver then accepts any
      // certificate from the front-proxy CA), the configured names apply, front-proxy-client by default.
      const allowedNames = rh.allowedNames.length > 0 ? rh.allowedNames : section.requestHeader.allowedNames;
      requestHeader = requestHeaderFrom(parseBundle(rh.clientCAPem, 'requestheader-client-ca-file of kube-system/extension-apiserver-authentication'), { ...rh, allowedNames });
      caPems.push(rh.clientCAPem);
      digestParts.push(JSON.stringify(rh));
    }
  }
  if (context.localPki !== undefined) {
    clientCAs.push(context.localPki.ca.certificate);
    caPems.push(context.localPki.ca.certPem);
    digestParts.push(context.localPki.ca.certPem);
  }
  // Names and headers count too: a reload that changes only them must apply.
  if (requestHeader !== undefined) digestParts.push(JSON.stringify({ ...requestHeader, clientCAs: requestHeader.clientCAs.length }));
  return {
    serving,
    caPems,
    trust: { clientCAs, ...(requestHeader === undefined ? {} : { requestHeader }) },
    inputsDigest: digestParts.join('\n--\n'),
  };
}

/** The hosts a generated serving certificate covers: configured ones, and this host's name. */
export function generatedHosts(section: ExternalMetricsConfig): string[] {
  const name = hostname();
  const own = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(name) ? [name] : [];
  return [...new Set([...section.tls.generatedHosts, ...own])];
}

/** Makes the local PKI (local mode) or an in-memory certificate (no tls files elsewhere), as the plan needs. */
export async function prepareGeneratedCertificates(
  section: ExternalMetricsConfig,
  plan: AuthPlan,
  nowMs: number,
): Promise<{ readonly localPki: LocalPki | undefined; readonly generatedServing: CertificateAndKey | undefined }> {
  if (plan.mode === 'local') {
    try {
      return { localPki: await ensureLocalPki({ dir: section.pkiDir, hosts: generatedHosts(section), nowMs }), generatedServing: undefined };
    } catch (error) {
      throw new AuthSetupError(`cannot create the local PKI in externalMetrics.pkiDir "${section.pkiDir}": ${failureMessage(error)}`);
    }
  }
  if (section.tls.certFile === undefined) return { localPki: undefined, generatedServing: inMemoryServingCertificate(generatedHosts(section), nowMs).serving };
  return { localPki: undefined, generatedServing: undefined };
}
