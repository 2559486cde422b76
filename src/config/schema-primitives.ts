import { z } from 'zod';
import { parseDurationSeconds } from '../core/index.js';

// The value types shared by the sections of the configuration schema.

/**
 * A duration: a Prometheus duration string ("30s", "15m", "1h30m") or a number of seconds.
 * Parsed to seconds here, at the boundary, so nothing inside ever parses a duration again.
 * Exported so that the configuration reference can show duration defaults as "15m", not 900.
 */
export const durationSchema = z
  .union([z.number().positive(), z.string()], {
    // Without this, a wrong type (true, a list) would read "Invalid input" with no hint of the format.
    error: 'expected a duration such as "30s", "15m" or "1h30m", or a number of seconds',
  })
  .transform((raw, ctx): number => {
    if (typeof raw === 'number') return raw;
    const seconds = parseDurationSeconds(raw);
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "30s", "15m" or "1h30m", got "${raw}"` });
      return z.NEVER;
    }
    if (seconds <= 0) {
      ctx.addIssue({ code: 'custom', message: `expected a duration greater than zero, got "${raw}"` });
      return z.NEVER;
    }
    return seconds;
  });
/** Short name used by the sections. */
export const duration = durationSchema;

/** A name usable as a Prometheus label value and a Kubernetes selector value. */
export const queueName = z.string().regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'expected a Kubernetes label value (letters, digits, "-", "_", ".", at most 63 characters)');

/** A replica (or pool size) range; `what` names the resource in the description. */
export const range = (min: number, max: number, what: string) =>
  z
    .strictObject({
      min: z.number().int().nonnegative().default(min).describe('Fewest replicas (or pool connections) ever recommended.'),
      max: z.number().int().positive().default(max).describe('Most replicas (or pool connections) ever recommended.'),
    })
    .prefault({})
    .superRefine((r, ctx) => {
      // The values go into the message: one of them may come from an environment variable.
      if (r.min > r.max) ctx.addIssue({ code: 'custom', message: `min (${r.min}) must not be greater than max (${r.max})` });
    })
    .describe(what);

/** A Kubernetes object name (DNS-1123 subdomain), checked here because it becomes part of an API path. */
export const kubernetesName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'expected a Kubernetes object name (lower-case letters, digits, "-" and ".")');
/** A Kubernetes namespace (DNS-1123 label). */
export const kubernetesNamespace = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a Kubernetes namespace (lower-case letters, digits and "-", at most 63 characters)');

/**
 * The rules of a TLS port served from files (keda.grpc.tls, server.tls): the certificate and key
 * come as a pair, and a client CA needs them (client certificates are only asked for over TLS).
 * `plain` says what the port is without them.
 */
export function checkTlsFiles(
  t: { readonly certFile?: string | undefined; readonly keyFile?: string | undefined; readonly clientCAFile?: string | undefined },
  ctx: z.RefinementCtx,
  plain: string,
): void {
  if ((t.certFile === undefined) !== (t.keyFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: [t.certFile === undefined ? 'certFile' : 'keyFile'], message: `set both tls.certFile and tls.keyFile, or neither (then the port is ${plain})` });
  }
  if (t.clientCAFile !== undefined && t.certFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['clientCAFile'], message: 'needs tls.certFile and tls.keyFile: client certificates are only asked for over TLS' });
  }
}
