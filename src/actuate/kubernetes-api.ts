/**
 * The glue between actuation and @kubernetes/client-node 1.4 shared by the Lease store and the
 * workload scaler: per-request options (patch content type, timeout) and readable API errors.
 */
import { type ConfigurationOptions, Observable, type ObservableMiddleware, PatchStrategy, type RequestContext, type ResponseContext, setHeaderOptions } from '@kubernetes/client-node';
import { ForesightError, messageOf } from '../core/index.js';

/** The field manager Foresight's writes are recorded under (`metadata.managedFields`). */
export const fieldManager = 'foresight';

/**
 * Aborts a request after `timeoutMs`. client-node 1.4 has no per-request timeout of its own, and
 * a request that hangs must not hold the election loop or a cycle's patches forever.
 */
function timeoutMiddleware(timeoutMs: number): ObservableMiddleware {
  return {
    pre: (request: RequestContext) => {
      request.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(request));
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  };
}

/** Options for a plain request: a timeout. */
export function requestOptions(timeoutMs: number): ConfigurationOptions<ObservableMiddleware> {
  return { middleware: [timeoutMiddleware(timeoutMs)], middlewareMergeStrategy: 'append' };
}

/**
 * Options for a JSON merge patch (RFC 7386). client-node 1.4's generated patch methods send the
 * first type the OpenAPI spec lists, `application/json-patch+json`, which expects an array of
 * operations; `setHeaderOptions` replaces the header after the request is built.
 */
export function mergePatchOptions(timeoutMs: number): ConfigurationOptions<ObservableMiddleware> {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch, requestOptions(timeoutMs));
}

/** A failed call to the Kubernetes API, with the HTTP status and the API's own reason and message. */
export class KubernetesApiError extends ForesightError {
  override readonly name: string = 'KubernetesApiError';
  /** HTTP status, or undefined when no answer came (connection refused, timeout). */
  readonly status: number | undefined;
  /** The `reason` of the API's Status body ("Conflict", "Forbidden", "NotFound"), when it sent one. */
  readonly reason: string | undefined;

  constructor(operation: string, status: number | undefined, reason: string | undefined, detail: string, options?: { cause?: unknown }) {
    super('FORESIGHT_ERR_KUBERNETES_API', `${operation}: ${status === undefined ? '' : `HTTP ${status} `}${reason === undefined ? '' : `${reason}: `}${detail}`, options);
    this.status = status;
    this.reason = reason;
  }
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null;
}

/** The HTTP status of a client-node error (its `ApiException.code`), if there was an answer. */
export function statusOf(error: unknown): number | undefined {
  if (!isRecord(error)) return undefined;
  const code = error['code'];
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/**
 * Turns whatever client-node threw into a {@link KubernetesApiError} naming `operation` (method,
 * object). client-node's own message holds the whole response and its headers; this keeps the
 * status and the `reason` and `message` of the Kubernetes Status body.
 */
export function toApiError(operation: string, error: unknown): KubernetesApiError {
  const status = statusOf(error);
  if (status === undefined) {
    const detail = messageOf(error);
    return new KubernetesApiError(operation, undefined, undefined, detail, { cause: error });
  }
  const body = isRecord(error) ? error['body'] : undefined;
  let reason: string | undefined;
  let message = 'no Status body';
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      message = body.slice(0, 200);
    }
  }
  if (isRecord(parsed)) {
    if (typeof parsed['reason'] === 'string') reason = parsed['reason'];
    if (typeof parsed['message'] === 'string') message = parsed['message'];
  }
  return new KubernetesApiError(operation, status, reason, message, { cause: error });
}
