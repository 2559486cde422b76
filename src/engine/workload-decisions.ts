import type { Config, WorkloadConfig } from '../config/index.js';
import { queueId, type WorkloadMetric } from '../core/index.js';
import { decide, type DecisionPolicy, type DecisionState, initialDecisionState, type QueueTrendReport } from '../decide/index.js';
import { toResourceDecision } from './snapshot-builder.js';
import type { AnomalyState, InputValue, ResourceDecision, SeriesForecast } from './snapshot.js';
import { profileOf, type QueueSpec } from './workload-queues.js';

/** The decision policy of each workload (its rule set's profile, its own min/max); undefined = not decided. */
export type WorkloadPolicies = (workload: WorkloadConfig) => DecisionPolicy | undefined;

/**
 * Where a workload's own inputs stand in the decision context: its pods' CPU and memory, its latency
 * and error rate replace the cluster-wide values, so that an API is sized from its own CPU.
 */
const contextKeyOf: Readonly<Record<Exclude<WorkloadMetric, 'replicas'>, string>> = {
  cpu_percent: 'system/cpu_percent',
  memory_percent: 'system/memory_percent',
  response_time_p95_seconds: 'performance/response_time_p95_seconds',
  error_rate_percent: 'performance/error_rate_percent',
};

/**
 * Decides every configured workload with the decision stages of the seed's resources: each workload
 * is one resource of its rule set's profile, seeing only its own queues, inputs, forecasts and
 * anomalies, with its own memory (cooldowns, windows, trends) between cycles.
 */
export class WorkloadDecisions {
  #states = new Map<string, DecisionState>();

  decide(
    config: Config,
    policies: WorkloadPolicies,
    queues: readonly QueueSpec[],
    inputs: readonly InputValue[],
    forecasts: readonly SeriesForecast[],
    anomalies: readonly AnomalyState[],
    nowMs: number,
  ): { decisions: ResourceDecision[]; trends: QueueTrendReport[] } {
    const decisions: ResourceDecision[] = [];
    const trends: QueueTrendReport[] = [];
    const next = new Map<string, DecisionState>();
    const byWorkload = groupBy(queues, (q) => `${q.namespace}/${q.workload}`);
    const inputsByWorkload = groupBy(inputs, (i) => (i.input.kind === 'workload' || (i.input.kind === 'queue' && i.input.workload !== undefined) ? `${i.input.namespace}/${i.input.workload}` : ''));
    const forecastsByWorkload = groupBy(forecasts, (f) =>
      f.input.kind === 'workload' || (f.input.kind === 'queue' && f.input.workload !== undefined) ? `${f.input.namespace}/${f.input.workload}` : '',
    );
    const shared = inputsByWorkload.get('') ?? [];
    for (const w of config.workloads) {
      const id = `${w.namespace}/${w.name}`;
      const policy = policies(w);
      if (policy === undefined) continue;
      const profile = profileOf(config, w);
      const readings = new Map(shared.filter((i) => i.input.kind !== 'replicas').map((i) => [i.key, i.value]));
      for (const i of inputsByWorkload.get(id) ?? []) {
        if (i.input.kind === 'workload') readings.set(i.input.metric === 'replicas' ? `replicas/${profile}` : contextKeyOf[i.input.metric], i.value);
        else readings.set(i.key, i.value);
      }
      const own = (forecastsByWorkload.get(id) ?? []).map((f) => ({
        seriesKey: f.input.kind === 'workload' && f.input.metric !== 'replicas' ? contextKeyOf[f.input.metric] : f.seriesKey,
        horizonSeconds: f.horizonSeconds,
        value: f.value,
        p10: f.p10,
        p90: f.p90,
      }));
      const mine = byWorkload.get(id) ?? [];
      const keys = new Set(mine.map((q) => `queue/${queueId(q)}/depth`));
      const out = decide(
        {
          readings,
          forecasts: own,
          anomalies: anomalies.filter((a) => keys.has(a.seriesKey)),
          queues: mine.map((q) => ({ queue: queueId(q), resource: profile, threshold: q.threshold })),
        },
        this.#states.get(id) ?? initialDecisionState,
        policy,
        nowMs,
      );
      next.set(id, out.nextState);
      const decision = out.decisions.find((d) => d.resource === profile);
      if (decision !== undefined) decisions.push({ ...toResourceDecision(decision), namespace: w.namespace, workload: w.name });
      // Trends come back keyed by queue id; the snapshot shows them on the queue they belong to.
      trends.push(...out.queueTrends);
    }
    // Workloads removed from the configuration lose their memory; the others keep it across reloads.
    this.#states = next;
    return { decisions, trends };
  }
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [item]);
    else list.push(item);
  }
  return groups;
}
