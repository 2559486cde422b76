import { ForesightError, inputKey, type InputRef, type PerformanceMetric, type QueueMetric, type Resource, type SystemMetric, messageOf } from '../core/index.js';
import type { TimeRange } from './metric-source.js';
import { compileTemplate, type CompiledTemplate } from './promql.js';

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
    let query: string;
    let target: Target;
    if (input.kind === 'queue' && !template.usesQueue) {
      query = template.template;
      target = { input, queue: input.queue };
    } else {
      query = input.kind === 'queue' ? template.render({ queue: input.queue }) : template.render({});
      target = { input };
    }
    const planned = byQuery.get(query);
    if (planned === undefined) byQuery.set(query, { query, targets: [target] });
    else planned.targets.push(target);
  }
  return [...byQuery.values()];
}

/** The key of the template that serves an input, as in the configuration: "queue/depth", "system/load1". */
function templateKey(input: InputRef): string {
  switch (input.kind) {
    case 'queue':
      return `queue/${input.metric}`;
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
