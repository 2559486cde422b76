import type { Config, WorkloadConfig } from '../config/index.js';
import type { MetricSource } from '../source/index.js';
import type { DiscoveryState } from './snapshot.js';
import { profileOf, type QueueSpec } from './workload-queues.js';

/** What the engine remembers of one discovered queue. */
interface Known {
  /** When the discovery query last returned it. */
  lastSeenMs: number;
}

/**
 * The queues each workload's discovery query finds. Queues appear and disappear with the data: a
 * new series is a new queue from this cycle on; one that vanished is kept (marked stale) for the
 * workload's `discovery.staleAfter`, then dropped from every surface. At most `discovery.limit`
 * queues per workload: the ones already known keep their place, new ones are taken in name order,
 * and the rest are counted (foresight_discovery_limited_queues) and logged. A failed query keeps
 * the queues known so far (Prometheus being down must not unpublish everything).
 */
export class QueueDiscovery {
  #known = new Map<string, Map<string, Known>>();

  async run(config: Config, source: MetricSource, nowMs: number): Promise<{ queues: QueueSpec[]; states: DiscoveryState[] }> {
    const queues: QueueSpec[] = [];
    const states: DiscoveryState[] = [];
    const next = new Map<string, Map<string, Known>>();
    const discovering = config.workloads.filter((w) => w.discovery !== undefined);
    const answers = await Promise.all(discovering.map((w) => source.discoverQueues?.({ namespace: w.namespace, workload: w.name }, nowMs)));
    discovering.forEach((w, index) => {
      const settings = w.discovery!;
      const id = `${w.namespace}/${w.name}`;
      const known = this.#known.get(id) ?? new Map<string, Known>();
      const answer = answers[index];
      const listed = new Set(w.queues.map((q) => q.name));
      let leftOut = 0;
      let error: string | undefined;
      if (answer === undefined || !answer.ok) {
        error = answer === undefined ? 'the source has no discovery (it is not Prometheus)' : answer.message;
        // No news is not a disappearance: the known queues stay as they are until a query answers.
        for (const entry of known.values()) entry.lastSeenMs = nowMs;
      } else {
        // Listed queues are the workload's already; names that could not be label values are skipped.
        const found = answer.queues.filter((name) => !listed.has(name) && isQueueName(name));
        for (const name of found) {
          const entry = known.get(name);
          if (entry !== undefined) entry.lastSeenMs = nowMs;
        }
        // Expired queues leave before new ones are counted against the limit.
        for (const [name, entry] of known) if (nowMs - entry.lastSeenMs > settings.staleAfter * 1000) known.delete(name);
        const fresh = found.filter((name) => !known.has(name));
        const room = Math.max(0, settings.limit - known.size);
        for (const name of fresh.slice(0, room)) known.set(name, { lastSeenMs: nowMs });
        leftOut = Math.max(0, fresh.length - room);
      }
      let active = 0;
      let stale = 0;
      const kept = new Map<string, Known>();
      for (const [name, entry] of known) {
        const isStale = entry.lastSeenMs < nowMs;
        if (isStale && nowMs - entry.lastSeenMs > settings.staleAfter * 1000) continue;
        kept.set(name, entry);
        if (isStale) stale += 1;
        else active += 1;
        queues.push(discovered(config, w, name, settings.threshold, isStale));
      }
      next.set(id, kept);
      states.push({ namespace: w.namespace, workload: w.name, active, stale, leftOut, limit: settings.limit, ...(error === undefined ? {} : { error }) });
    });
    this.#known = next;
    return { queues, states };
  }
}

function discovered(config: Config, w: WorkloadConfig, name: string, threshold: number, stale: boolean): QueueSpec {
  return { queue: name, namespace: w.namespace, workload: w.name, threshold, resource: profileOf(config, w), ...(stale ? { stale: true } : {}) };
}

/** A value usable as a label value and a selector value (as the configuration requires of listed queue names). */
export function isQueueName(name: string): boolean {
  return /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(name);
}
