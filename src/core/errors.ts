/** Stable error codes. They appear in logs and API answers, so they never change meaning. */
export const errorCodes = ['FORESIGHT_ERR_CONFIG_INVALID', 'FORESIGHT_ERR_SOURCE_QUERY', 'FORESIGHT_ERR_SOURCE_TIMEOUT', 'FORESIGHT_ERR_INPUT_INVALID', 'FORESIGHT_ERR_NOT_READY'] as const;

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
