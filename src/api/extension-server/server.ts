/**
 * The HTTPS server of the Kubernetes external-metrics API (default port 6443): TLS with reload on
 * change, authentication and authorization as an extension API server, and the pure routes of
 * publish/external-metrics. Every answer comes from the latest snapshot; nothing here queries
 * Prometheus or runs a model, so a request costs a lookup and a string concatenation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import { type Clock, singleFlight } from '../../core/index.js';
import type { Snapshot } from '../../engine/index.js';
import {
  accessAttributes,
  answerRoute,
  type Authenticator,
  type Authorizer,
  cachedAccessReviewer,
  cachedTokenReviewer,
  createAuthenticator,
  createAuthorizer,
  createKubernetesDelegation,
  createSnapshotProvider,
  type ExternalMetricsInstruments,
  type ExternalMetricsProvider,
  failureMessage,
  type KubernetesDelegation,
  metricLabelOf,
  noopExternalMetricsInstruments,
  noTlsMetrics,
  type ProviderSettings,
  providerSettingsFromConfig,
  resolveRoute,
  type RouteResponse,
  statusResponse,
  type TlsCertificatesInUse,
  type TlsMetrics,
  tlsPeer,
  type TrustSettings,
  writeLocalKubeconfig,
} from '../../publish/index.js';
import { listeningUrl } from '../http-listener.js';
import { closeServer } from '../close-server.js';
import { answerParserErrors } from '../parser-errors.js';
import {
  type AuthMaterial,
  type AuthMode,
  type AuthPlan,
  AuthSetupError,
  loadAuthMaterial,
  type LoadContext,
  planAuthentication,
  prepareGeneratedCertificates,
  runningInCluster,
} from './auth-setup.js';

/** What the server is built from. */
export interface ExternalMetricsServerDeps {
  /** The snapshot store (only `latest()` is read). */
  readonly store: { latest(): Snapshot | undefined };
  readonly clock: Clock;
  /** The current configuration; listen address and auth mode are read at start, the rest per request. */
  readonly config: () => Config;
  readonly logger: Logger;
  /** Request metrics (createExternalMetricsInstruments on the service registry); none by default. */
  readonly metrics?: ExternalMetricsInstruments;
  /** Certificate expiry and reload outcomes (createTlsMetrics on the service registry); none by default. */
  readonly tlsMetrics?: TlsMetrics;
  readonly build: { readonly version: string; readonly revision: string };
  /** Environment for in-cluster detection (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Replaces the Kubernetes API client (tests use a local fake API server instead of a cluster). */
  readonly delegation?: KubernetesDelegation;
}

/** A running (or startable) external-metrics server. */
export interface ExternalMetricsServer {
  /** Prepares certificates and trust, then listens; resolves once listening (at once, doing nothing, when `externalMetrics.enabled` is false). */
  start(): Promise<void>;
  /** Stops listening and the reload timer; resolves once the server is closed. */
  stop(): Promise<void>;
  /** `https://host:port`, once started (127.0.0.1 when bound to all interfaces). */
  readonly url: string;
  /** How requests are authenticated, once started. */
  readonly authMode: AuthMode | undefined;
  /** The kubeconfig written for local use (local mode only), once started. */
  readonly kubeconfigPath: string | undefined;
  /** The provider behind the routes (for tests and the HTTP API's debug views). */
  readonly provider: ExternalMetricsProvider;
  /** Re-reads certificate and CA files and the ConfigMap now; resolves true when something changed. */
  reload(): Promise<boolean>;
}

/** Time given to in-flight requests on stop before connections are cut. */
const closeGraceMs = 2_000;
/** Idle keep-alive connections are kept longer than the HPA's 15 s poll, so polls reuse TLS sessions. */
const keepAliveTimeoutMs = 75_000;

/** The certificates of the material, as the TLS metrics see them. */
function inUse(m: AuthMaterial): TlsCertificatesInUse {
  return { serving: m.serving.certificate, clientCAs: m.trust.clientCAs, requestHeaderClientCAs: m.trust.requestHeader?.clientCAs ?? [] };
}

/**
 * Creates the external-metrics server. Nothing happens until `start()`: then it plans the
 * authentication mode, prepares certificates (generating a local PKI and kubeconfig when nothing is
 * configured outside a cluster), listens, and checks its files (and the ConfigMap) for changes
 * every `externalMetrics.reloadInterval`.
 */
export function createExternalMetricsServer(deps: ExternalMetricsServerDeps): ExternalMetricsServer {
  const logger = deps.logger.child({ module: 'external-metrics' });
  const instruments = deps.metrics ?? noopExternalMetricsInstruments;
  const tlsMetrics = deps.tlsMetrics ?? noTlsMetrics;
  let settingsFor: Config | undefined;
  let settings: ProviderSettings | undefined;
  const currentSettings = (): ProviderSettings => {
    const config = deps.config();
    if (settings === undefined || settingsFor !== config) {
      settings = providerSettingsFromConfig(config);
      settingsFor = config;
    }
    return settings;
  };
  const provider = createSnapshotProvider({ latest: () => deps.store.latest(), clock: deps.clock, settings: currentSettings });
  const routeContext = { provider, build: deps.build };

  let server: Server | undefined;
  let plan: AuthPlan | undefined;
  let loadContext: LoadContext | undefined;
  let material: AuthMaterial | undefined;
  let authenticator: Authenticator | undefined;
  let authorizer: Authorizer | undefined;
  let kubeconfigPath: string | undefined;
  let reloadTimer: NodeJS.Timeout | undefined;

  const secureContextOptions = (m: AuthMaterial) => ({
    key: m.serving.keyPem,
    cert: m.serving.certPem,
    // With no client CA (tokens only), Node verifies client certificates against its public roots;
    // that is harmless: such a certificate matches no trusted anchor, so it authenticates nothing.
    ...(m.caPems.length === 0 ? {} : { ca: [...m.caPems] }),
  });

  const write = (req: IncomingMessage, res: ServerResponse, response: RouteResponse): void => {
    const body = response.status === 304 || req.method === 'HEAD' ? '' : response.body;
    res.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(response.status === 304 ? '' : response.body) });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedNs = process.hrtime.bigint();
    let response: RouteResponse;
    const target = resolveRoute(req.method ?? 'GET', req.url ?? '/');
    try {
      if (target.kind === 'health') {
        response = answerRoute(target, { method: req.method ?? 'GET', url: req.url ?? '/' }, routeContext);
      } else {
        const authentication = await authenticator!.authenticate({ peer: tlsPeer(req.socket as TLSSocket), headers: req.headersDistinct });
        if (!authentication.ok) {
          logger.debug({ code: authentication.code, reason: authentication.message, path: req.url?.slice(0, 200) }, 'request not authenticated');
          response = statusResponse(authentication.code, authentication.message, metricLabelOf(target));
        } else {
          const attributes = accessAttributes(target);
          const decision = attributes === undefined ? ({ allowed: true } as const) : await authorizer!.authorize(authentication.user, attributes);
          response = decision.allowed
            ? answerRoute(target, { method: req.method ?? 'GET', url: req.url ?? '/', accept: req.headers.accept, ifNoneMatch: req.headers['if-none-match'] }, routeContext)
            : statusResponse(decision.code, decision.message, metricLabelOf(target));
        }
      }
    } catch (error) {
      // Not expected for any input (the routes are total and the ports never reject); if it happens it is a bug.
      logger.error({ err: error }, 'unexpected error while answering an external-metrics request');
      response = statusResponse(500, 'internal error', metricLabelOf(target));
    }
    write(req, res, response);
    instruments.observeRequest(response.metricLabel, response.status, Number(process.hrtime.bigint() - startedNs) / 1e9);
    if (response.snapshotAgeSeconds !== undefined) instruments.observeFreshness(response.metricLabel, response.snapshotAgeSeconds);
  };

  // A timer's reload and one asked for by hand share one read of the files.
  const reload = singleFlight(async (): Promise<boolean> => {
    if (server === undefined || loadContext === undefined || material === undefined) return false;
    let next: AuthMaterial;
    try {
      next = await loadAuthMaterial(deps.config().externalMetrics, loadContext);
    } catch (error) {
      if (server !== undefined) tlsMetrics.reloaded('external_metrics', 'failed');
      logger.error({ err: error instanceof AuthSetupError ? error.message : failureMessage(error) }, 'certificate or CA change refused; the previous ones stay in use');
      return false;
    }
    // stop() may have run while the files were read: nothing is served any more, nothing to count.
    if (server === undefined) return false;
    if (next.inputsDigest === material.inputsDigest) {
      tlsMetrics.reloaded('external_metrics', 'unchanged');
      return false;
    }
    try {
      server.setSecureContext(secureContextOptions(next));
    } catch (error) {
      tlsMetrics.reloaded('external_metrics', 'failed');
      logger.error({ err: failureMessage(error) }, 'certificate or CA change refused by TLS; the previous ones stay in use');
      return false;
    }
    material = next;
    tlsMetrics.reloaded('external_metrics', 'changed', inUse(next));
    logger.info({ servingCertificateExpires: next.serving.certificate.validTo, clientCAs: next.trust.clientCAs.length, frontProxy: next.trust.requestHeader !== undefined }, 'certificates reloaded');
    return true;
  });

  const urlOf = (): string => listeningUrl(server, 'https', 'the external-metrics server');

  return {
    provider,
    reload,
    get url(): string {
      return urlOf();
    },
    get authMode() {
      return plan?.mode;
    },
    get kubeconfigPath() {
      return kubeconfigPath;
    },
    async start() {
      if (server !== undefined) return;
      const section = deps.config().externalMetrics;
      if (!section.enabled) {
        logger.info('external metrics API disabled (externalMetrics.enabled: false)');
        return;
      }
      plan = planAuthentication(section, runningInCluster(deps.env ?? process.env));
      const delegation = plan.connection === undefined ? undefined : (deps.delegation ?? (await createKubernetesDelegation(plan.connection)));
      const generated = await prepareGeneratedCertificates(section, plan, deps.clock.nowMs());
      loadContext = { plan, clock: deps.clock, delegation, ...generated };
      material = await loadAuthMaterial(section, loadContext);
      const ttlSeconds = section.authCacheTTL;
      const tokenReviewer = plan.useTokenReview && delegation !== undefined ? cachedTokenReviewer(delegation.tokenReviewer, { clock: deps.clock, ttlSeconds }) : undefined;
      const accessReviewer = plan.useSubjectAccessReview && delegation !== undefined ? cachedAccessReviewer(delegation.accessReviewer, { clock: deps.clock, ttlSeconds }) : undefined;
      authenticator = createAuthenticator({ trust: (): TrustSettings => material!.trust, tokenReviewer });
      authorizer = createAuthorizer({ accessReviewer });

      const https = createServer({ ...secureContextOptions(material), requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => {
        void handle(req, res);
      });
      https.keepAliveTimeout = keepAliveTimeoutMs;
      // A request line and headers over Node's 16 KiB, or a malformed request: a Status body too.
      answerParserErrors(https);
      // A client that fails the TLS handshake never reaches a handler; keep such noise out of the error log.
      https.on('tlsClientError', (error) => logger.debug({ err: failureMessage(error) }, 'TLS handshake failed'));
      await new Promise<void>((resolve, reject) => {
        https.once('error', reject);
        https.listen(section.port, section.host, () => {
          https.off('error', reject);
          resolve();
        });
      });
      server = https;
      tlsMetrics.started('external_metrics', inUse(material));
      if (generated.localPki !== undefined) {
        kubeconfigPath = await writeLocalKubeconfig(generated.localPki, urlOf(), material.serving.certPem);
      }
      if (plan.useConfigMap && material.trust.requestHeader === undefined) {
        logger.warn(
          'no front-proxy CA: kube-system/extension-apiserver-authentication has no requestheader-client-ca-file (and externalMetrics.requestHeader.clientCAFile is unset), so requests forwarded by the aggregator will be refused',
        );
      }
      reloadTimer = setInterval(() => void reload(), section.reloadInterval * 1000);
      reloadTimer.unref();
      logger.info(
        {
          url: urlOf(),
          authMode: plan.mode,
          tokenReview: plan.useTokenReview,
          subjectAccessReview: plan.useSubjectAccessReview,
          frontProxy: material.trust.requestHeader !== undefined,
          ...(kubeconfigPath === undefined
            ? {}
            : { kubeconfig: kubeconfigPath, tryIt: `KUBECONFIG=${kubeconfigPath} kubectl get --raw /apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth` }),
          ...(generated.localPki?.generated.length ? { generated: generated.localPki.generated } : {}),
          ...(generated.generatedServing === undefined ? {} : { servingCertificate: 'generated in memory (set externalMetrics.tls.certFile and keyFile for a verifiable one)' }),
        },
        'external metrics API listening',
      );
    },
    async stop() {
      if (reloadTimer !== undefined) clearInterval(reloadTimer);
      reloadTimer = undefined;
      const closing = server;
      server = undefined;
      if (closing === undefined) return;
      tlsMetrics.stopped('external_metrics');
      await closeServer(closing, closeGraceMs);
    },
  };
}
