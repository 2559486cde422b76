/** The `reason` values of Kubernetes `Status` objects that Foresight answers with. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'Timeout'
  | 'TooManyRequests'
  | 'RequestHeaderFieldsTooLarge'
  | 'ServiceUnavailable'
  | 'InternalError';

/** A Kubernetes `meta/v1` `Status` object: the body of every error answer, so kubectl and the HPA read it. */
export interface KubernetesStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: StatusReason;
  readonly code: number;
}

const reasonByCode: Readonly<Record<number, StatusReason>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  408: 'Timeout',
  429: 'TooManyRequests',
  // Kubernetes has no reason of its own for 431 (Go's server answers it in plain text): named after the status.
  431: 'RequestHeaderFieldsTooLarge',
  503: 'ServiceUnavailable',
  500: 'InternalError',
};

/** Builds a failure `Status` with the reason Kubernetes uses for `code`. */
export function failureStatus(code: number, message: string): KubernetesStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reasonByCode[code] ?? 'BadRequest', code };
}
