import type { Config, RuleSetConfig, WorkloadConfig } from '../config/index.js';
import { allInputs, type InputRef, performanceMetrics, queueMetrics, type Resource, systemMetrics, workloadMetrics } from '../core/index.js';

// The queues and inputs of a cycle: the seed's cluster-wide queues (the demo's example) when no
// workloads are configured, else every workload's listed and discovered queues and its own inputs.

/** One queue a cycle reads, forecasts and publishes. */
export interface QueueSpec {
  readonly queue: string;
  /** Set for a workload's queue; the seed's queues belong to no namespace. */
  readonly namespace?: string;
  readonly workload?: string;
  readonly threshold: number;
  /** The resource (for a workload: the rules profile) whose replicas drain the queue. */
  readonly resource: Resource;
  /** True for a discovered queue that vanished from the discovery query and is kept until it expires. */
  readonly stale?: boolean;
}

/**
 * True when the configuration describes its own workloads; the seed's five resources and queues are
 * then not used. A sharded replica always does (its own shard may hold no workload at all).
 */
export function usesWorkloads(config: Config): boolean {
  return config.workloads.length > 0 || config.sharding.replicas > 1;
}

/**
 * The rule set that decides a workload: the one it names, else the first whose selector matches all
 * of its labels, else none (the main rules file, `decisions.rulesFile`, with its worker_processes profile).
 */
export function ruleSetOf(config: Config, workload: WorkloadConfig): RuleSetConfig | undefined {
  if (workload.ruleSet !== undefined) return config.ruleSets.find((r) => r.name === workload.ruleSet);
  return config.ruleSets.find((r) => r.selector !== undefined && Object.entries(r.selector.matchLabels).every(([k, v]) => workload.labels[k] === v));
}

/** The rules profile (a scaling_rules block) a workload is decided with. */
export function profileOf(config: Config, workload: WorkloadConfig): Resource {
  return ruleSetOf(config, workload)?.profile ?? 'worker_processes';
}

/** The queues listed in the configuration (the seed's, or the workloads'). */
export function listedQueues(config: Config): QueueSpec[] {
  if (!usesWorkloads(config)) return config.queues.map((q) => ({ queue: q.name, threshold: q.threshold, resource: q.resource }));
  return config.workloads.flatMap((w) => {
    const resource = profileOf(config, w);
    return w.queues.map((q): QueueSpec => ({ queue: q.name, namespace: w.namespace, workload: w.name, threshold: q.threshold, resource }));
  });
}

/** Every input of a cycle over these queues. */
export function cycleInputs(config: Config, queues: readonly QueueSpec[]): InputRef[] {
  if (!usesWorkloads(config)) return allInputs(queues.map((q) => q.queue));
  return [
    ...queues.flatMap((q) => queueMetrics.map((metric): InputRef => queueInput(q, metric))),
    // The cluster-wide inputs stay: they are few, and the node-level anomaly scores read them.
    ...systemMetrics.map((metric): InputRef => ({ kind: 'system', metric })),
    ...performanceMetrics.map((metric): InputRef => ({ kind: 'performance', metric })),
    ...config.workloads.flatMap((w) => workloadMetrics.map((metric): InputRef => ({ kind: 'workload', namespace: w.namespace, workload: w.name, metric }))),
  ];
}

/** The input of one metric of a queue. */
export function queueInput(q: QueueSpec, metric: (typeof queueMetrics)[number]): InputRef {
  return q.namespace === undefined || q.workload === undefined ? { kind: 'queue', queue: q.queue, metric } : { kind: 'queue', queue: q.queue, metric, namespace: q.namespace, workload: q.workload };
}
