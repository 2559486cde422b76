import type { Logger } from 'pino';
import type { DiscoveryState } from '../engine/index.js';

/**
 * Log lines of queue discovery: a warning when a workload's discovery hits its limit or its query
 * fails, and a line when that ends. Only changes are logged, so a limit that stays hit is one line,
 * not one per cycle (the metric foresight_discovery_limited_queues shows it all along).
 */
export class DiscoveryLog {
  readonly #logger: Logger;
  #last = new Map<string, string>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  report(states: readonly DiscoveryState[]): void {
    const next = new Map<string, string>();
    for (const s of states) {
      const id = `${s.namespace}/${s.workload}`;
      const summary = `${s.leftOut > 0 ? 'limited' : 'ok'}|${s.error === undefined ? '' : 'failed'}`;
      next.set(id, summary);
      if (this.#last.get(id) === summary) continue;
      const fields = { namespace: s.namespace, workload: s.workload, active: s.active, stale: s.stale, limit: s.limit, leftOut: s.leftOut };
      if (s.leftOut > 0) this.#logger.warn(fields, `queue discovery hit its limit: ${s.leftOut} more queues left out (raise discovery.limit of the workload)`);
      if (s.error !== undefined) this.#logger.warn({ ...fields, error: s.error }, 'queue discovery query failed; keeping the queues known so far');
      if (s.leftOut === 0 && s.error === undefined && this.#last.has(id)) this.#logger.info(fields, 'queue discovery is back within its limit and answering');
    }
    this.#last = next;
  }
}
