/** Stable error codes. They appear in logs and API answers, so they never change meaning. */
export const errorCodes = [
  /** The configuration (file, environment, a template in it) is invalid. */
  'FORESIGHT_ERR_CONFIG_INVALID',
  /** Queries to the source failed (not all of them by timing out). */
  'FORESIGHT_ERR_SOURCE_QUERY',
  /** Every failed query to the source timed out. */
  'FORESIGHT_ERR_SOURCE_TIMEOUT',
  /** A credentials file of the source (token, password) cannot be read. */
  'FORESIGHT_ERR_SOURCE_CREDENTIALS',
  /** An argument or request parameter is invalid (a 400 on the HTTP API). */
  'FORESIGHT_ERR_INPUT_INVALID',
  /** What a request names does not exist (an unknown queue: a 404). */
  'FORESIGHT_ERR_NOT_FOUND',
  /** Nothing to answer from yet: the first reconcile cycle has not completed (a 503). */
  'FORESIGHT_ERR_NOT_READY',
  /** A request was refused by a rate limit (a 429). */
  'FORESIGHT_ERR_RATE_LIMITED',
  /** A reconcile cycle asked for on demand failed (a 503 of POST /scaling/evaluate). */
  'FORESIGHT_ERR_CYCLE_FAILED',
  /** A certificate, key or CA file of a TLS port is unusable (server.tls, keda.grpc.tls). */
  'FORESIGHT_ERR_TLS_FILES',
  /** The external-metrics API's authentication cannot be set up (files, ConfigMap, Kubernetes API). */
  'FORESIGHT_ERR_AUTH_SETUP',
  /** A file Foresight reads (a model, the optimizer log, a token or certificate file) does not exist. */
  'FORESIGHT_ERR_FILE_MISSING',
  /** A file Foresight reads was refused or unreadable: a symlink where none is followed, not a regular file, too big, not a plain name. */
  'FORESIGHT_ERR_FILE_REFUSED',
  /** A call to the Kubernetes API failed (actuation, leader election). */
  'FORESIGHT_ERR_KUBERNETES_API',
  /** Another replica changed the leader Lease between our read and our write. */
  'FORESIGHT_ERR_LEASE_CONFLICT',
] as const;

/** One of {@link errorCodes}. */
export type ErrorCode = (typeof errorCodes)[number];

/**
 * The base of every error Foresight raises on purpose. The `code` says what failed; the message
 * names the offending file, key, query or parameter; `cause` keeps the underlying error.
 */
export class ForesightError extends Error {
  override readonly name: string = 'ForesightError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for errors raised by Foresight itself (works across module copies). */
export function isForesightError(error: unknown): error is ForesightError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && (errorCodes as readonly string[]).includes(code);
}

/** The message of anything thrown: an Error's message, else the value as text (a thrown string, say). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
