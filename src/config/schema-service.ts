import { z } from 'zod';
import { duration, tlsSection } from './schema-primitives.js';

// Sections of the service itself: the HTTP server, logging and the snapshot store.

export const serverSection = z
  .strictObject({
    host: z.string().default('0.0.0.0').describe('Address the HTTP server binds to.'),
    port: z.number().int().min(0).max(65535).default(8000).describe('HTTP port for /scaling/*, /metrics, health and the web view (PORT overrides).'),
    evaluatePerMinute: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(6)
      .describe('Cycles POST /scaling/evaluate may start per minute (a token bucket holding as many); more get 429 with Retry-After. Requests while a cycle waits to start join it and cost nothing.'),
    shutdownGrace: duration
      .default(25)
      .describe("Time SIGTERM gives the running cycle and open requests to finish; then the process exits anyway (code 1). Keep it below the pod's terminationGracePeriodSeconds (30 s)."),
    auth: z
      .strictObject({
        bearerTokenFile: z
          .string()
          .optional()
          .describe('File holding the bearer token requests must send as "Authorization: Bearer <token>" (re-read when it changes, so rotation works). Unset: no token is asked for.'),
        scope: z
          .enum(['evaluate', 'all'])
          .default('evaluate')
          .describe(
            'What the token guards: "evaluate" (POST /scaling/evaluate, the one route that triggers work) or "all" (every route but /healthz, /livez and /readyz, so Prometheus and KEDA must send it too).',
          ),
      })
      .prefault({})
      .describe('Bearer-token authentication on the HTTP port (docs/http-api.md#protecting-the-http-port).'),
    tls: tlsSection(
      {
        section: 'TLS and client certificates on the HTTP port (docs/http-api.md#protecting-the-http-port). Without certFile and keyFile the port is plain HTTP.',
        certFile: 'PEM serving certificate (with its chain) of the HTTP port. With keyFile the port serves HTTPS only; reloaded when it changes. Turning TLS on or off needs a restart.',
        keyFile: 'PEM private key of server.tls.certFile, reloaded with it.',
        clientCAFile:
          'PEM CA bundle: every route but /healthz, /livez and /readyz needs a client certificate that verifies by signature against these CAs alone (401 otherwise), as the external-metrics API checks its client CA. Reloaded when it changes; setting or removing it needs a restart.',
        reloadInterval: 'How often the three files are checked for changes; a renewed certificate or CA applies to new connections without a restart.',
        plain: 'plain HTTP',
      },
      {
        allowedNames: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'Common names (CN) a client certificate may have, like kube-apiserver --requestheader-allowed-names; a verified certificate with another CN gets 403. [] accepts every certificate the client CA signed. Applies at once on reload.',
          ),
      },
      (t, ctx) => {
        if (t.allowedNames.length > 0 && t.clientCAFile === undefined) {
          ctx.addIssue({ code: 'custom', path: ['allowedNames'], message: 'needs tls.clientCAFile: the names are those of client certificates it signed' });
        }
      },
    ),
  })
  .prefault({})
  .describe('The HTTP server.');

export const logLevelSection = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level (LOG_LEVEL overrides).');

export const snapshotSection = z
  .strictObject({
    maxAge: duration.default(300).describe('A snapshot older than this is reported stale (and the external-metrics API answers 503).'),
    historyRetention: duration.default(86400).describe('How long past cycles are kept for /scaling/history.'),
  })
  .prefault({})
  .describe('The results of the latest cycles, which every API answer is served from.');
