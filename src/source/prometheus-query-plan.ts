import {
  compileTemplate,
  type CompiledTemplate,
  ForesightError,
  inputKey,
  type InputRef,
  messageOf,
  type PerformanceMetric,
  type PlaceholderName,
  type QueueMetric,
  type Resource,
  type SystemMetric,
  type WorkloadMetric,
} from '../core/index.js';
import type { TimeRange } from './metric-source.js';

// The query plan of the Prometheus source: which distinct PromQL queries a read sends (one per
// distinct rendered template), which inputs each serves, and how a range is cut into chunks.

/** The PromQL templates, one per input; an empty string turns that input off. */
export interface PrometheusQueries {
  /**
   * Queue templates. One containing `{{queue}}` runs once per queue. One without it runs once per
   * read, and its series are assigned to queues by the `queueLabel` label (one query for 1,000 queues).
   */
  readonly queue: Readonly<Record<QueueMetric, string>>;
  /** Node-level templates (they must not use `{{queue}}`). */
  readonly system: Readonly<Record<SystemMetric, string>>;
  /** Service-level templates (they must not use `{{queue}}`). */
  readonly performance: Readonly<Record<PerformanceMetric, string>>;
  /** Current replicas (or pool size) per resource (they must not use `{{queue}}`). */
  readonly replicas: Readonly<Record<Resource, string>>;
  /** Each configured workload's own templates, rendered with its `{{namespace}}` and `{{workload}}`. */
  readonly workloads?: readonly WorkloadQueries[];
}

/** The templates of one workload: its own inputs, and its queues' inputs (both may be partial; absent = off). */
export interface WorkloadQueries {
  readonly namespace: string;
  readonly workload: string;
  /** Where the templates come from in the configuration, for error messages ("workloads[3].queries"). */
  readonly where: string;
  readonly inputs: Readonly<Partial<Record<WorkloadMetric, string>>>;
  /** Queue templates; one without `{{queue}}` runs once per workload and is split by `queueLabel`. */
  readonly queue: Readonly<Partial<Record<QueueMetric, string>>>;
  /** The query whose series are the workload's queues, and the label that names them. */
  readonly discovery?: { readonly query: string; readonly label: string };
}

/** How one input is taken from the result of a query. */
export interface Target {
  readonly input: InputRef;
  /** For grouped queue templates: the `queueLabel` value that selects this input's series. */
  readonly queue?: string;
}

/** One distinct PromQL query of a read and the inputs it serves. */
export interface PlannedQuery {
  readonly query: string;
  readonly targets: Target[];
}

/** Groups the inputs by the query that serves them; inputs whose template is empty are left out. */
export function planQueries(inputs: readonly InputRef[], templates: ReadonlyMap<string, CompiledTemplate>): PlannedQuery[] {
  const byQuery = new Map<string, PlannedQuery>();
  const seen = new Set<string>();
  for (const input of inputs) {
    const template = templates.get(templateKey(input));
    const key = inputKey(input);
    if (template === undefined || seen.has(key)) continue;
    seen.add(key);
    const query = template.render(varsOf(input));
    // A queue template without {{queue}} serves every queue: its series are told apart by the queue label.
    const target: Target = input.kind === 'queue' && !template.usesQueue ? { input, queue: input.queue } : { input };
    const planned = byQuery.get(query);
    if (planned === undefined) byQuery.set(query, { query, targets: [target] });
    else planned.targets.push(target);
  }
  return [...byQuery.values()];
}

/** The values an input's template is rendered with. */
function varsOf(input: InputRef): { queue?: string; namespace?: string; workload?: string } {
  switch (input.kind) {
    case 'queue':
      return input.namespace === undefined || input.workload === undefined ? { queue: input.queue } : { queue: input.queue, namespace: input.namespace, workload: input.workload };
    case 'workload':
      return { namespace: input.namespace, workload: input.workload };
    default:
      return {};
  }
}

/**
 * The key of the template that serves an input, as in the configuration: "queue/depth",
 * "system/load1"; "workload/<namespace>/<workload>/cpu_percent" and
 * "workload-queue/<namespace>/<workload>/depth" for a workload's own templates.
 */
function templateKey(input: InputRef): string {
  switch (input.kind) {
    case 'queue':
      return input.workload === undefined || input.namespace === undefined ? `queue/${input.metric}` : `workload-queue/${input.namespace}/${input.workload}/${input.metric}`;
    case 'workload':
      return `workload/${input.namespace}/${input.workload}/${input.metric}`;
    case 'system':
    case 'performance':
      return `${input.kind}/${input.metric}`;
    case 'replicas':
      return `replicas/${input.resource}`;
  }
}

/** Compiles every non-empty template, keyed like {@link templateKey}; throws `FORESIGHT_ERR_CONFIG_INVALID` for a bad one. */
export function compileTemplates(queries: PrometheusQueries): Map<string, CompiledTemplate> {
  const templates = new Map<string, CompiledTemplate>();
  const groups = [
    ['queue', queries.queue],
    ['system', queries.system],
    ['performance', queries.performance],
    ['replicas', queries.replicas],
  ] as const;
  for (const [group, byName] of groups) {
    for (const [name, template] of Object.entries<string>(byName)) {
      // An empty template turns the input off: it is absent from every answer.
      if (template.trim() === '') continue;
      let compiled: CompiledTemplate;
      try {
        compiled = compileTemplate(template);
      } catch (error) {
        throw configError(`queries.${group}.${name}: ${messageOf(error)}`, error);
      }
      if (group !== 'queue' && compiled.usesQueue) {
        throw configError(`queries.${group}.${name}: only queue templates may use {{queue}}`);
      }
      templates.set(`${group}/${name}`, compiled);
    }
  }
  for (const w of queries.workloads ?? []) {
    const compile = (template: string | undefined, allowed: readonly PlaceholderName[], key: string, where: string): void => {
      if (template === undefined || template.trim() === '') return;
      try {
        templates.set(key, compileTemplate(template, allowed));
      } catch (error) {
        throw configError(`${where}: ${error instanceof Error ? error.message : String(error)}`, error);
      }
    };
    for (const [metric, template] of Object.entries(w.inputs)) compile(template, ['namespace', 'workload'], `workload/${w.namespace}/${w.workload}/${metric}`, `${w.where}.${metric}`);
    for (const [metric, template] of Object.entries(w.queue))
      compile(template, ['namespace', 'workload', 'queue'], `workload-queue/${w.namespace}/${w.workload}/${metric}`, `${w.where}.queue.${metric}`);
    if (w.discovery !== undefined) compile(w.discovery.query, ['namespace', 'workload'], discoveryKey(w), `${w.where.replace(/\.queries$/, '')}.discovery.query`);
  }
  return templates;
}

/** A configuration error of the Prometheus source. */
export function configError(message: string, cause?: unknown): ForesightError {
  return new ForesightError('FORESIGHT_ERR_CONFIG_INVALID', `Prometheus source: ${message}`, cause === undefined ? undefined : { cause });
}

/** Splits a range into consecutive, non-overlapping chunks of at most `maxPoints` grid points. */
export function chunkRange(range: TimeRange, maxPoints: number): TimeRange[] {
  const stepMs = range.stepSeconds * 1000;
  const points = Math.floor((range.endMs - range.startMs) / stepMs) + 1;
  const chunks: TimeRange[] = [];
  for (let first = 0; first < points; first += maxPoints) {
    const last = Math.min(first + maxPoints, points) - 1;
    chunks.push({ startMs: range.startMs + first * stepMs, endMs: range.startMs + last * stepMs, stepSeconds: range.stepSeconds });
  }
  return chunks;
}

/** The key of a workload's discovery template. */
export function discoveryKey(w: { readonly namespace: string; readonly workload: string }): string {
  return `discovery/${w.namespace}/${w.workload}`;
}
