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

/** The file keys of a TLS port served from files, as {@link checkTlsFiles} reads them. */
interface TlsFilePaths {
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly clientCAFile?: string | undefined;
}

/**
 * The rules of a TLS port served from files (keda.grpc.tls, server.tls): the certificate and key
 * come as a pair, and a client CA needs them (client certificates are only asked for over TLS).
 * `plain` says what the port is without them.
 */
function checkTlsFiles(t: TlsFilePaths, ctx: z.RefinementCtx, plain: string): void {
  if ((t.certFile === undefined) !== (t.keyFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: [t.certFile === undefined ? 'certFile' : 'keyFile'], message: `set both tls.certFile and tls.keyFile, or neither (then the port is ${plain})` });
  }
  if (t.clientCAFile !== undefined && t.certFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['clientCAFile'], message: 'needs tls.certFile and tls.keyFile: client certificates are only asked for over TLS' });
  }
}

/** What one TLS port says about its keys: each port serves something else and asks a client CA for something else. */
export interface TlsSectionText {
  /** The section's own description. */
  readonly section: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCAFile: string;
  readonly reloadInterval: string;
  /** What the port is without certFile and keyFile ("plain HTTP", "plaintext"), for the pair's error. */
  readonly plain: string;
}

/** The keys every TLS port has, in the order docs/configuration.md lists them (the port's own keys go before reloadInterval). */
function tlsKeys(text: TlsSectionText) {
  return {
    certFile: z.string().min(1).optional().describe(text.certFile),
    keyFile: z.string().min(1).optional().describe(text.keyFile),
    clientCAFile: z.string().min(1).optional().describe(text.clientCAFile),
  };
}

/**
 * The `tls` section of a port that serves from files and reloads them (server.tls,
 * keda.grpc.tls): certFile, keyFile, clientCAFile, the port's `extra` keys, then reloadInterval,
 * checked by {@link checkTlsFiles} and then by `refine`. `extra` keys must be optional or have a
 * default, as the section itself defaults to `{}`.
 */
export function tlsSection<Extra extends z.ZodRawShape>(text: TlsSectionText, extra: Extra, refine?: (t: z.output<z.ZodObject<Extra>> & TlsFilePaths, ctx: z.RefinementCtx) => void) {
  type Keys = ReturnType<typeof tlsKeys> & Extra & { reloadInterval: z.ZodDefault<typeof duration> };
  const section = z.strictObject({ ...tlsKeys(text), ...extra, reloadInterval: duration.default(30).describe(text.reloadInterval) }) as z.ZodObject<Keys, z.core.$strict>;
  return (
    section
      // `{}` is a valid input (every key is optional or has a default), which TypeScript cannot see through `Extra`.
      .prefault({} as z.input<typeof section>)
      .superRefine((t, ctx) => {
        const files = t as z.output<z.ZodObject<Extra>> & TlsFilePaths;
        checkTlsFiles(files, ctx, text.plain);
        refine?.(files, ctx);
      })
      .describe(text.section)
  );
}
