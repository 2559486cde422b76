// The errors of the Prometheus harness: one base class, so a test can catch any harness failure.

/** Any failure of the harness: startup, promtool, HTTP, or an error answer from Prometheus. */
export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
}

/** Query results Prometheus refused (bad PromQL, too many points...); retrying will not help. */
export class PrometheusQueryError extends PrometheusError {
  constructor(
    message: string,
    readonly errorType: string,
  ) {
    super(message);
  }
}

/** Thrown when Prometheus cannot be reached at all (stopped, crashed, restarting). */
export class PrometheusUnreachableError extends PrometheusError {}

/** Startup failed; the message ends with the tail of the Prometheus log. */
export class StartupError extends PrometheusError {
  constructor(
    summary: string,
    readonly logTail: string,
  ) {
    super(`${summary}\n--- prometheus log (tail) ---\n${logTail || '(empty)'}\n---`);
  }
}
