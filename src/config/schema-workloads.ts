import { z } from 'zod';
import { compileTemplate, messageOf, type PlaceholderName, queueMetrics, resources, workloadMetrics } from '../core/index.js';
import { duration, kubernetesName, kubernetesNamespace, queueName } from './schema-primitives.js';

// Sections of the workloads: as many Deployments, StatefulSets and ScaledObject targets as needed, in
// whatever namespaces, each with its queues, its own inputs (PromQL templates) and a rule set (docs/workloads.md).

/** The placeholders each kind of workload template may use; anything else is a configuration error. */
export const workloadPlaceholders = {
  input: ['namespace', 'workload'],
  queue: ['namespace', 'workload', 'queue'],
  discovery: ['namespace', 'workload'],
} as const satisfies Record<string, readonly PlaceholderName[]>;

/**
 * The default input templates of a workload, by kind: cAdvisor and kube-state-metrics series of its
 * pods (pods are matched by the "<workload>-" name prefix that Deployments and StatefulSets give them),
 * and the HTTP histogram of its Service for latency and errors.
 */
export function defaultWorkloadQueries(kind: WorkloadKind): Record<(typeof workloadMetrics)[number], string> {
  const pods = 'namespace="{{namespace}}", pod=~"{{workload}}-.*"';
  const service = 'namespace="{{namespace}}", service="{{workload}}"';
  const replicas: Record<WorkloadKind, string> = {
    Deployment: 'sum(kube_deployment_spec_replicas{namespace="{{namespace}}", deployment="{{workload}}"})',
    StatefulSet: 'sum(kube_statefulset_replicas{namespace="{{namespace}}", statefulset="{{workload}}"})',
    // KEDA scales a ScaledObject's target through an HPA named keda-hpa-<ScaledObject>.
    ScaledObject: 'sum(kube_horizontalpodautoscaler_status_current_replicas{namespace="{{namespace}}", horizontalpodautoscaler="keda-hpa-{{workload}}"})',
  };
  return {
    cpu_percent: `100 * sum(rate(container_cpu_usage_seconds_total{${pods}, container!=""}[5m])) / sum(kube_pod_container_resource_requests{${pods}, resource="cpu"})`,
    memory_percent: `100 * sum(container_memory_working_set_bytes{${pods}, container!=""}) / sum(kube_pod_container_resource_limits{${pods}, resource="memory"})`,
    response_time_p95_seconds: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${service}}[5m])))`,
    error_rate_percent: `100 * sum(rate(http_requests_total{${service}, code=~"5.."}[5m])) / sum(rate(http_requests_total{${service}}[5m]))`,
    replicas: replicas[kind],
  };
}

export const workloadKinds = ['Deployment', 'StatefulSet', 'ScaledObject'] as const;
export type WorkloadKind = (typeof workloadKinds)[number];

const labelMap = z.record(queueName, queueName);

/** A strict object of optional PromQL templates, one per key. */
function optionalTemplates<K extends string>(keys: readonly K[], description: string) {
  return z.strictObject(Object.fromEntries(keys.map((key) => [key, z.string().optional().describe(description)])) as Record<K, z.ZodOptional<z.ZodString>>);
}

const workloadQueueSchema = z.strictObject({
  name: queueName.describe('The queue name, as in the queue label of its metrics.'),
  threshold: z.number().positive().default(1000).describe('Queue depth above which the queue counts as overloaded (queue_depth_threshold).'),
});

const discoverySchema = z.strictObject({
  query: z
    .string()
    .min(1)
    .describe('PromQL returning one series per queue of this workload ({{namespace}}, {{workload}} allowed), e.g. sum by (queue) (rabbitmq_queue_messages_ready{namespace="{{namespace}}"}).'),
  label: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a Prometheus label name')
    .default('queue')
    .describe("The label of the query's series that names the queue."),
  limit: z.number().int().positive().default(500).describe('At most this many discovered queues; beyond it queues are left out (foresight_discovery_limited, a warning in the log).'),
  threshold: z.number().positive().default(1000).describe('The overload threshold of every discovered queue.'),
  staleAfter: duration.default(600).describe('A queue that vanished from the query is kept (stale) this long, then dropped from every surface.'),
});

const workloadSchema = z.strictObject({
  name: kubernetesName.describe("The workload's object name (the Deployment, StatefulSet or ScaledObject)."),
  namespace: kubernetesNamespace.describe('The namespace it runs in; only HPAs of this namespace read its metrics.'),
  kind: z.enum(workloadKinds).default('Deployment').describe('Deployment, StatefulSet, or ScaledObject (KEDA scales its target).'),
  minReplicas: z.number().int().nonnegative().default(1).describe('Fewest replicas ever recommended.'),
  maxReplicas: z.number().int().positive().default(10).describe('Most replicas ever recommended.'),
  labels: labelMap.default({}).describe('Labels that rule sets select workloads by.'),
  ruleSet: z.string().optional().describe('The rule set (ruleSets[].name) deciding this workload; default: the first rule set whose selector matches its labels, else decisions.rulesFile.'),
  queues: z.array(workloadQueueSchema).default([]).describe('The queues this workload drains.'),
  discovery: discoverySchema.optional().describe('Queues found by one PromQL query instead of (or besides) listing them.'),
  queries: optionalTemplates(workloadMetrics, 'PromQL of this input ({{namespace}}, {{workload}}); default by kind; "" turns it off.')
    .extend({
      queue: optionalTemplates(queueMetrics, 'PromQL of this queue input ({{namespace}}, {{workload}}, {{queue}}); default queries.queue.')
        .prefault({})
        .describe('Per-queue templates of this workload; default: queries.queue.'),
    })
    .prefault({})
    .describe("The workload's own inputs as PromQL templates; values are escaped for the string literal they stand in."),
});

const ruleSetSchema = z.strictObject({
  name: z.string().min(1).describe('The name workloads refer to in ruleSet.'),
  file: z.string().min(1).describe('A scaling rules file (docs/scaling-decisions.md).'),
  profile: z.enum(resources).default('worker_processes').describe('Which scaling_rules block of the file decides the workload.'),
  selector: z
    .strictObject({ matchLabels: labelMap.default({}).describe('Labels a workload must all have.') })
    .optional()
    .describe('Workloads without a ruleSet use the first rule set whose selector matches their labels.'),
});

export const workloadsSection = z
  .array(workloadSchema)
  .default([])
  .describe("Workloads, in any namespaces, each with its queues and inputs (docs/workloads.md). Empty: the design's five resources and queues (the demo).");

export const ruleSetsSection = z.array(ruleSetSchema).default([]).describe('Named scaling rule sets that workloads use (by name or label selector).');

export type WorkloadConfig = z.output<typeof workloadSchema>;
export type RuleSetConfig = z.output<typeof ruleSetSchema>;

/** The issues of the workloads and rule sets that span entries: duplicates, unknown rule sets, bad templates, ranges. */
export function workloadIssues(workloads: readonly WorkloadConfig[], ruleSets: readonly RuleSetConfig[]): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const ruleSetNames = new Set<string>();
  ruleSets.forEach((set, index) => {
    if (ruleSetNames.has(set.name)) issues.push({ path: ['ruleSets', index, 'name'], message: `rule set "${set.name}" is defined twice` });
    ruleSetNames.add(set.name);
  });
  const workloadIds = new Set<string>();
  const queueIds = new Map<string, string>();
  workloads.forEach((w, index) => {
    const at = (...rest: (string | number)[]) => ['workloads', index, ...rest];
    const id = `${w.namespace}/${w.name}`;
    if (workloadIds.has(id)) issues.push({ path: at('name'), message: `workload "${w.name}" is listed twice in namespace "${w.namespace}"` });
    workloadIds.add(id);
    if (w.minReplicas > w.maxReplicas) issues.push({ path: at('minReplicas'), message: `minReplicas (${w.minReplicas}) must not be greater than maxReplicas (${w.maxReplicas})` });
    if (w.ruleSet !== undefined && !ruleSetNames.has(w.ruleSet)) {
      issues.push({ path: at('ruleSet'), message: `unknown rule set "${w.ruleSet}"; defined: ${[...ruleSetNames].join(', ') || 'none (add it under ruleSets)'}` });
    }
    w.queues.forEach((q, qi) => {
      // Queue names are label values of one namespace's external metrics: two owners would answer twice.
      const key = `${w.namespace}/${q.name}`;
      const owner = queueIds.get(key);
      if (owner !== undefined) issues.push({ path: at('queues', qi, 'name'), message: `queue "${q.name}" of namespace "${w.namespace}" is already drained by workload "${owner}"` });
      else queueIds.set(key, w.name);
    });
    // As the Prometheus source compiles them: placeholders it may use, each inside a quoted string.
    const check = (template: string | undefined, allowed: readonly PlaceholderName[], path: (string | number)[]): void => {
      if (template === undefined) return;
      try {
        compileTemplate(template, allowed);
      } catch (error) {
        issues.push({ path, message: messageOf(error) });
      }
    };
    for (const metric of workloadMetrics) check(w.queries[metric], workloadPlaceholders.input, at('queries', metric));
    for (const metric of queueMetrics) check(w.queries.queue[metric], workloadPlaceholders.queue, at('queries', 'queue', metric));
    check(w.discovery?.query, workloadPlaceholders.discovery, at('discovery', 'query'));
  });
  return issues;
}
