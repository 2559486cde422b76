import { z } from 'zod';
import { duration, tlsSection } from './schema-primitives.js';

// Sections of the published surfaces besides /metrics: the external-metrics API and KEDA's.

export const externalMetricsSection = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve the Kubernetes external.metrics.k8s.io/v1beta1 API over HTTPS (docs/external-metrics.md).'),
    host: z.string().default('0.0.0.0').describe('Address the external-metrics HTTPS server binds to.'),
    port: z.number().int().min(0).max(65535).default(6443).describe('HTTPS port of the external-metrics API (0 picks a free port).'),
    tls: z
      .strictObject({
        certFile: z.string().optional().describe('PEM serving certificate (with its chain), reloaded when it changes. Without certFile and keyFile a certificate is generated at start.'),
        keyFile: z.string().optional().describe('PEM private key of tls.certFile, reloaded with it.'),
        generatedHosts: z
          .array(z.string().min(1))
          .default([])
          .describe('Extra DNS names or IP addresses of a generated serving certificate, e.g. "foresight.monitoring.svc" (localhost, 127.0.0.1 and ::1 are always in it).'),
      })
      .prefault({})
      .superRefine((t, ctx) => {
        if ((t.certFile === undefined) !== (t.keyFile === undefined)) {
          ctx.addIssue({ code: 'custom', path: [t.certFile === undefined ? 'certFile' : 'keyFile'], message: 'set both tls.certFile and tls.keyFile, or neither (then a certificate is generated)' });
        }
      })
      .describe('The serving certificate.'),
    clientCAFile: z.string().optional().describe('PEM CA bundle for client certificates (user = CN, groups = O), like kube-apiserver --client-ca-file; reloaded when it changes.'),
    requestHeader: z
      .strictObject({
        clientCAFile: z
          .string()
          .optional()
          .describe('PEM CA bundle of the front proxy (the kube-apiserver aggregator) client certificate; X-Remote-* headers are trusted only on connections that present a certificate from it.'),
        allowedNames: z
          .array(z.string().min(1))
          .default(['front-proxy-client'])
          .describe(
            "Common names the front-proxy certificate may have, like kube-apiserver --requestheader-allowed-names (kubeadm names the aggregator's certificate front-proxy-client). When the cluster's extension-apiserver-authentication ConfigMap lists names, those apply instead; [] accepts every certificate the front-proxy CA verifies.",
          ),
        usernameHeaders: z.array(z.string().min(1)).min(1).default(['X-Remote-User']).describe('Headers that carry the user name, first one present wins.'),
        uidHeaders: z.array(z.string().min(1)).default(['X-Remote-Uid']).describe('Headers that carry the user UID.'),
        groupHeaders: z.array(z.string().min(1)).default(['X-Remote-Group']).describe('Headers that carry the groups (every value counts).'),
        extraHeaderPrefixes: z.array(z.string().min(1)).default(['X-Remote-Extra-']).describe('Header prefixes that carry extra user attributes.'),
      })
      .prefault({})
      .describe('Front-proxy (aggregation layer) authentication, like the kube-apiserver --requestheader-* flags.'),
    authenticationConfigMap: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe(
        'Take the client CA, the front-proxy CA and header names from kube-system/extension-apiserver-authentication (auto: when a Kubernetes API is reachable, in a cluster or through externalMetrics.kubeconfig).',
      ),
    tokenReview: z.enum(['auto', 'on', 'off']).default('auto').describe('Authenticate bearer tokens with a TokenReview (auto: when a Kubernetes API is reachable).'),
    subjectAccessReview: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe('Authorize every request with a SubjectAccessReview (auto: when a Kubernetes API is reachable; off: every authenticated user may read).'),
    authCacheTTL: duration.default(10).describe('How long TokenReview and SubjectAccessReview answers are cached.'),
    kubeconfig: z.string().optional().describe('Kubeconfig for TokenReview, SubjectAccessReview and the ConfigMap when running outside a cluster (in a cluster the service account is used).'),
    pkiDir: z
      .string()
      .default('.foresight')
      .describe('Folder for the generated local CA, serving and client certificates and kubeconfig (used when no authentication is configured outside a cluster).'),
    reloadInterval: duration.default(30).describe('How often certificate and CA files, and the extension-apiserver-authentication ConfigMap, are checked for changes.'),
    defaultHorizon: duration.optional().describe('The horizon label assumed when a selector names none; one of forecast.horizons (default: the first).'),
    defaultQuantile: z.enum(['0.1', '0.5', '0.9']).default('0.5').describe('The quantile label assumed when a selector names none (0.9 scales for the bad case).'),
    exposure: z
      .array(
        z.strictObject({
          namespaces: z
            .array(z.string().regex(/^[-A-Za-z0-9._*]{1,253}$/, 'expected a name or a pattern with "*" (letters, digits, "-", "_", ".", "*")'))
            .min(1)
            .describe('Namespaces the rule applies to ("*" matches any run of characters).'),
          queues: z
            .array(z.string().regex(/^[-A-Za-z0-9._*]{1,253}$/, 'expected a name or a pattern with "*" (letters, digits, "-", "_", ".", "*")'))
            .default([])
            .describe('Queues they may read (predicted_queue_depth, queue_depth, and anomaly_score of a queue).'),
          resources: z
            .array(z.string().regex(/^[-A-Za-z0-9._*]{1,253}$/, 'expected a name or a pattern with "*" (letters, digits, "-", "_", ".", "*")'))
            .default([])
            .describe('Resources whose recommended_replicas they may read.'),
          systemMetrics: z.boolean().default(false).describe('Whether they may read anomaly scores that belong to no queue (cpu, memory, response_time, error_rate).'),
        }),
      )
      .default([])
      .describe('Which queues each namespace may read. Empty: every namespace reads everything. Otherwise a namespace reads what the rules naming it allow, and nothing when none does.'),
  })
  .prefault({})
  .describe('The Kubernetes external-metrics API that a HorizontalPodAutoscaler reads.');

export const kedaSection = z
  .strictObject({
    metricsApi: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Serve GET /keda/metrics on the HTTP port, the JSON endpoint of the KEDA metrics-api trigger.'),
      })
      .prefault({})
      .describe('The JSON endpoint for the KEDA metrics-api trigger (docs/keda.md).'),
    grpc: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Serve the KEDA external scaler over gRPC, for "external" and "external-push" triggers.'),
        host: z.string().default('0.0.0.0').describe('Address the gRPC server binds to.'),
        port: z.number().int().min(0).max(65535).default(9000).describe('gRPC port of the external scaler (0 picks a free port).'),
        maxPushStreams: z
          .number()
          .int()
          .min(1)
          .default(1000)
          .describe('Most external-push streams (StreamIsActive) open at once; more are refused with RESOURCE_EXHAUSTED and KEDA retries. KEDA opens one per external-push trigger.'),
        pushCheckInterval: duration.default(1).describe('How often open external-push streams look for a new snapshot (a check is one comparison; a new snapshot is pushed within this time).'),
        tls: tlsSection(
          {
            section: 'TLS of the gRPC port. Without certFile and keyFile the port is plaintext (docs/keda.md).',
            certFile: 'PEM serving certificate (with its chain) of the gRPC port. With keyFile the port serves TLS only (KEDA: enableTLS "true", or a caCert); reloaded when it changes.',
            keyFile: 'PEM private key of keda.grpc.tls.certFile, reloaded with it.',
            clientCAFile:
              'PEM CA bundle: every client must present a certificate it signed (mutual TLS; KEDA sends tlsClientCert and tlsClientKey from a TriggerAuthentication). Reloaded when it changes.',
            reloadInterval: 'How often the three files are checked for changes; a renewed certificate is served to new connections without a restart.',
            plain: 'plaintext',
          },
          {},
        ),
      })
      .prefault({})
      .describe('The KEDA external scaler (docs/keda.md).'),
  })
  .prefault({})
  .describe('The KEDA surfaces besides the Prometheus series: the metrics-api JSON endpoint and the external scaler.');
