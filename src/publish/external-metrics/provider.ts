/**
 * The external-metrics provider: answers "the values of metric M selected by S, for namespace N"
 * from the latest snapshot. It is the TypeScript counterpart of custom-metrics-apiserver's
 * `ExternalMetricsProvider`, kept apart from HTTP (routes.ts) so it can be tested on fixed
 * snapshots.
 *
 * Determinism: an answer is a pure function of (snapshot, namespace, metric, selector, settings),
 * plus the current time only to refuse a snapshot older than the maximum age. Two replicas that hold
 * the same snapshot give byte-identical bodies; nothing here queries Prometheus or runs a model.
 *
 * What is served (labels in brackets; see docs/external-metrics.md):
 * - `predicted_queue_depth` [queue, horizon, quantile]: forecast queue depth. A selector that does
 *   not name `horizon` gets the default horizon, one that does not name `quantile` the default
 *   quantile, so that `queue=orders` resolves to exactly one value. A selector that still matches
 *   several values of one queue is refused (400): the HPA would add up different horizons.
 * - `queue_depth` [queue]: the observed depth in the snapshot's cycle.
 * - `recommended_replicas` [resource]: the decision engine's recommendation.
 * - `anomaly_score` [metric, queue (queue-depth verdicts only)]: score in [0, 1].
 * Values of a configured workload also carry `namespace` and `workload`, and only that namespace may read them.
 * A selector that matches nothing is a 404 (`NotFound`), never an empty list: for the HPA both are
 * errors, and the 404 message says why. Values that are not finite are never serialised: an answer
 * that would contain one is refused with 503, so that the HPA holds instead of summing a partial list.
 */
import { type Clock, err, formatDuration, ok, parseDurationSeconds, type Result } from '../../core/index.js';
import type { Snapshot } from '../../engine/index.js';
import { compileExposure, type ExposureRule, type NamespaceAccess } from './exposure.js';
import { externalMetricsGroupVersion, type ExternalMetricValue, type ExternalMetricValueList } from './k8s-types.js';
import { formatLabelSelector, type LabelSelector, mapValues, quoteInput, requiredValues, selectorMatches, selectorMentions, withRequirement } from './label-selector.js';
import { type ExternalMetricInfo, type ExternalMetricName, externalMetricInfos, externalMetricNames, isExternalMetricName, type QuantileLabel } from './served-metrics.js';
import { buildSnapshotIndex, type Candidate, type MetricIndex, type SnapshotIndex } from './snapshot-index.js';

/** What the provider needs from the configuration. */
export interface ProviderSettings {
  /** A snapshot older than this is refused with 503 (the HPA then holds). */
  readonly maxAgeSeconds: number;
  /** The horizon assumed when a selector names none. */
  readonly defaultHorizonSeconds: number;
  /** The quantile assumed when a selector names none. */
  readonly defaultQuantile: QuantileLabel;
  /** The `window` of every value: the grid step of the data the values come from. */
  readonly windowSeconds: number;
  /** Which queues each namespace may read (empty: everything). */
  readonly exposure: readonly ExposureRule[];
}

/** The part of the configuration the provider reads (structurally, so tests can pass less). */
export interface ProviderConfig {
  readonly snapshot: { readonly maxAge: number };
  readonly forecast: { readonly step: number; readonly horizons: readonly number[] };
  readonly externalMetrics: {
    readonly defaultHorizon?: number | undefined;
    readonly defaultQuantile: QuantileLabel;
    readonly exposure: readonly ExposureRule[];
  };
}

/** Provider settings from the configuration: defaults are the first forecast horizon and `externalMetrics.defaultQuantile`. */
export function providerSettingsFromConfig(config: ProviderConfig): ProviderSettings {
  return {
    maxAgeSeconds: config.snapshot.maxAge,
    defaultHorizonSeconds: config.externalMetrics.defaultHorizon ?? config.forecast.horizons[0] ?? 900,
    defaultQuantile: config.externalMetrics.defaultQuantile,
    windowSeconds: config.forecast.step,
    exposure: config.externalMetrics.exposure,
  };
}

/** A request for the values of one metric. */
export interface ExternalMetricQuery {
  readonly namespace: string;
  readonly metric: string;
  readonly selector: LabelSelector;
}

/** Why a query has no answer; `code` is the HTTP status of the Kubernetes `Status` to answer with. */
export interface ProviderError {
  readonly code: 400 | 404 | 503;
  readonly message: string;
}

/** A successful answer: the items, and the list already serialised as JSON. */
export interface ExternalMetricAnswer {
  readonly metric: ExternalMetricName;
  readonly items: readonly ExternalMetricValue[];
  /** `JSON.stringify` of the `ExternalMetricValueList`, byte for byte. */
  readonly body: string;
  /** Age of the snapshot the answer comes from, in seconds. */
  readonly snapshotAgeSeconds: number;
}

/** The provider port: list the metrics, and answer a query. Never throws. */
export interface ExternalMetricsProvider {
  /** Every served metric (static: discovery never depends on data). */
  listAllExternalMetrics(): readonly ExternalMetricInfo[];
  /** The values of `query.metric` selected by `query.selector` that `query.namespace` may read. */
  getExternalMetric(query: ExternalMetricQuery): Result<ExternalMetricAnswer, ProviderError>;
}

/** Canonical spelling of a horizon label value ("60m" → "1h", "900s" → "15m"); other text is kept. */
export function canonicalHorizon(value: string): string {
  const seconds = parseDurationSeconds(value);
  return seconds === undefined || seconds <= 0 ? value : formatDuration(seconds);
}

/** Canonical spelling of a quantile label value ("0.50" → "0.5"); other text is kept. */
export function canonicalQuantile(value: string): string {
  return /^\d+(\.\d+)?$/.test(value) ? String(Number(value)) : value;
}

/** Effective selectors already built, per parsed selector (callers reuse parsed selectors) and settings. */
const effectiveCache = new WeakMap<LabelSelector, { readonly settings: ProviderSettings; readonly effective: LabelSelector }>();

/**
 * The selector the provider applies for `metric`: for predicted_queue_depth, horizon and quantile
 * values in canonical form, and the defaults added for the labels the selector does not name.
 */
export function effectiveSelector(metric: ExternalMetricName, selector: LabelSelector, settings: ProviderSettings): LabelSelector {
  if (metric !== 'predicted_queue_depth') return selector;
  const cached = effectiveCache.get(selector);
  if (cached !== undefined && cached.settings === settings) return cached.effective;
  const effective = withDefaults(selector, settings);
  effectiveCache.set(selector, { settings, effective });
  return effective;
}

function withDefaults(selector: LabelSelector, settings: ProviderSettings): LabelSelector {
  let effective = mapValues(mapValues(selector, 'horizon', canonicalHorizon), 'quantile', canonicalQuantile);
  if (!selectorMentions(effective, 'horizon')) effective = withRequirement(effective, { key: 'horizon', operator: '=', values: [formatDuration(settings.defaultHorizonSeconds)] });
  if (!selectorMentions(effective, 'quantile')) effective = withRequirement(effective, { key: 'quantile', operator: '=', values: [settings.defaultQuantile] });
  return effective;
}

/**
 * True when `namespace` may read the candidate: a workload's values only in its own namespace (and
 * only where the exposure rules allow), the seed's cluster-wide values as the exposure rules say.
 */
function visible(c: Candidate, access: NamespaceAccess, namespace: string): boolean {
  if (c.scope.namespace !== undefined && c.scope.namespace !== namespace) return false;
  switch (c.scope.kind) {
    case 'queue':
      return access.queue(c.scope.name);
    case 'resource':
      return access.resource(c.scope.name);
    case 'system':
      return access.systemMetrics;
  }
}

const labelText = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

function notFound(metric: ExternalMetricName, query: ExternalMetricQuery, selector: LabelSelector, index: SnapshotIndex, access: NamespaceAccess): ProviderError {
  const where = `in namespace ${quoteInput(query.namespace)}`;
  const selected = formatLabelSelector(selector);
  const base = `no ${metric} value matches the selector ${quoteInput(selected, 256)} ${where}`;
  const names = [...new Set(index.metrics[metric].all.filter((c) => visible(c, access, query.namespace)).map((c) => (c.scope.kind === 'system' ? '' : c.scope.name)))].filter((n) => n !== '');
  const sample = names.slice(0, 10).join(', ') + (names.length > 10 ? `, … (${names.length} in all)` : '');
  switch (metric) {
    case 'predicted_queue_depth':
      return { code: 404, message: `${base}; queues: ${sample || 'none readable here'}; horizons: ${index.horizons.join(', ') || 'none yet'}; quantiles: 0.1, 0.5, 0.9` };
    case 'queue_depth':
      return { code: 404, message: `${base}; queues: ${sample || 'none readable here'}` };
    case 'recommended_replicas':
      return index.metrics.recommended_replicas.all.length === 0
        ? { code: 404, message: `${base}: the snapshot holds no scaling decisions (scaling is disabled, or no decision has been made yet)` }
        : { code: 404, message: `${base}; resources: ${sample || 'none readable here'}` };
    case 'anomaly_score':
      return index.metrics.anomaly_score.all.length === 0
        ? { code: 404, message: `${base}: the snapshot holds no anomaly scores (anomaly detection is disabled, or no verdict yet)` }
        : { code: 404, message: `${base}; select with metric=<cpu|memory|queue_depth|response_time|error_rate> (and queue=<name> for queue_depth)` };
  }
}

/** Candidates to test: all of them, or only those of the queues/resources the selector pins down. */
function candidatesFor(index: MetricIndex, metric: ExternalMetricName, selector: LabelSelector): readonly Candidate[] {
  const scopeKey = metric === 'recommended_replicas' ? 'resource' : 'queue';
  const pinned = requiredValues(selector, scopeKey);
  if (pinned === undefined) return index.all;
  // The common case (an HPA naming one queue or resource) needs no new array.
  if (pinned.length === 1) return index.byScopeName.get(pinned[0]!) ?? [];
  const found = pinned.flatMap((name) => index.byScopeName.get(name) ?? []);
  return found.length > 1 ? found.sort((a, b) => a.order - b.order) : found;
}

/**
 * Answers one query from a snapshot index. Pure: everything it depends on is an argument.
 * `ageSeconds` is the snapshot's age now; `access` is what the namespace may read.
 */
export function answerQuery(index: SnapshotIndex, ageSeconds: number, settings: ProviderSettings, access: NamespaceAccess, query: ExternalMetricQuery): Result<ExternalMetricAnswer, ProviderError> {
  const metric = query.metric;
  if (!isExternalMetricName(metric)) {
    return err({ code: 404, message: `the server could not find the metric ${quoteInput(metric)}; served metrics: ${externalMetricNames.join(', ')}` });
  }
  if (ageSeconds > settings.maxAgeSeconds) {
    return err({
      code: 503,
      message: `the forecast snapshot is ${Math.round(ageSeconds)} s old, older than the maximum age of ${settings.maxAgeSeconds} s (snapshot.maxAge): the latest reconcile cycles failed, so no value is served and the HPA holds its current scale`,
    });
  }
  const selector = effectiveSelector(metric, query.selector, settings);
  const matched: Candidate[] = [];
  for (const c of candidatesFor(index.metrics[metric], metric, selector)) {
    if (selectorMatches(selector, c.labels) && visible(c, access, query.namespace)) matched.push(c);
  }
  if (matched.length === 0) return err(notFound(metric, query, selector, index, access));
  if (metric === 'predicted_queue_depth') {
    const perQueue = new Map<string, Candidate[]>();
    for (const c of matched) {
      const queue = c.labels['queue']!;
      perQueue.set(queue, [...(perQueue.get(queue) ?? []), c]);
    }
    for (const [queue, values] of perQueue) {
      if (values.length > 1) {
        return err({
          code: 400,
          message: `the selector ${quoteInput(formatLabelSelector(selector), 256)} matches ${values.length} predicted_queue_depth values of queue ${quoteInput(queue)} (${values
            .slice(0, 6)
            .map((c) => `horizon=${c.labels['horizon']} quantile=${c.labels['quantile']}`)
            .join('; ')}), and the HPA would add them up; select one horizon and one quantile (defaults apply only when the selector does not name the label)`,
        });
      }
    }
  }
  const unusable = matched.find((c) => c.item === undefined);
  if (unusable !== undefined) {
    return err({
      code: 503,
      message: `the value of ${metric}{${labelText(unusable.labels)}} is ${String(unusable.rawValue)}, which cannot be served as a quantity; no partial answer is given, so the HPA holds`,
    });
  }
  const items = matched.map((c) => c.item!);
  const body = `{"kind":"ExternalMetricValueList","apiVersion":"${externalMetricsGroupVersion}","metadata":{},"items":[${matched.map((c) => c.json).join(',')}]}`;
  return ok({ metric, items, body, snapshotAgeSeconds: ageSeconds });
}

/** The list object an answer serialises (for callers that want the object rather than the text). */
export function toValueList(answer: ExternalMetricAnswer): ExternalMetricValueList {
  return { kind: 'ExternalMetricValueList', apiVersion: externalMetricsGroupVersion, metadata: {}, items: answer.items };
}

/** What {@link createSnapshotProvider} reads. */
export interface SnapshotProviderDeps {
  /** The latest snapshot (undefined before the first cycle). */
  readonly latest: () => Snapshot | undefined;
  readonly clock: Clock;
  /** Current settings; return the same object while nothing changed, so compiled rules are reused. */
  readonly settings: () => ProviderSettings;
}

/**
 * The provider over the snapshot store. It prepares each snapshot's values once (the first time it
 * is asked) and compiles exposure rules once per settings object, so answering a query is a lookup
 * and a string concatenation.
 */
export function createSnapshotProvider(deps: SnapshotProviderDeps): ExternalMetricsProvider {
  const indexes = new WeakMap<Snapshot, SnapshotIndex>();
  let compiledFor: ProviderSettings | undefined;
  let accessFor: (namespace: string) => NamespaceAccess = compileExposure([]);
  return {
    listAllExternalMetrics: () => externalMetricInfos,
    getExternalMetric(query) {
      const settings = deps.settings();
      if (compiledFor !== settings) {
        accessFor = compileExposure(settings.exposure);
        compiledFor = settings;
      }
      if (!isExternalMetricName(query.metric)) {
        return err({ code: 404, message: `the server could not find the metric ${quoteInput(query.metric)}; served metrics: ${externalMetricNames.join(', ')}` });
      }
      const snapshot = deps.latest();
      if (snapshot === undefined) {
        return err({ code: 503, message: 'no forecast snapshot yet: the first reconcile cycle has not completed, so no value is served and the HPA holds its current scale' });
      }
      let index = indexes.get(snapshot);
      if (index === undefined || index.windowSeconds !== settings.windowSeconds) {
        index = buildSnapshotIndex(snapshot, settings.windowSeconds);
        indexes.set(snapshot, index);
      }
      const ageSeconds = Math.max(0, (deps.clock.nowMs() - snapshot.completedAtMs) / 1000);
      return answerQuery(index, ageSeconds, settings, accessFor(query.namespace), query);
    },
  };
}
