import type { DispatchOptions } from './prometheus-dispatch.js';
import { dispatch } from './prometheus-dispatch.js';
import { instantValue, parseResult, seriesOf } from './prometheus-response.js';
import { escapePromqlString } from '../core/index.js';

// Reading Foresight's own published series back from the shared store (Prometheus, Thanos, Mimir):
// what a sharded replica needs of the other shards (docs/sharding.md).

/** The published names a sharded replica reads back: what the external-metrics API serves from them. */
export const publishedNames = ['predicted_queue_depth', 'queue_depth_current', 'recommended_replicas', 'anomaly_score'] as const;

/** One of {@link publishedNames}. */
export type PublishedName = (typeof publishedNames)[number];

/** One published series as the store holds it: its labels, its latest value and that sample's own time. */
export interface PublishedValue {
  readonly name: PublishedName;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** When the sample was scraped (not the query's evaluation time). */
  readonly sampleMs: number;
}

/** What one read-back came to: every value found, or why the store could not answer. */
export type PublishedRead = { readonly ok: true; readonly values: readonly PublishedValue[] } | { readonly ok: false; readonly message: string };

/** The port a sharded engine reads the other shards through. Never rejects (a failure is `ok: false`). */
export interface PublishedSeriesReader {
  /** The latest value of every workload series of the published names that carry all of `matchers`. */
  readPublished(matchers: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<PublishedRead>;
}

/**
 * The selector of one published name: only workload series (`workload!=""`), and the configured
 * matchers, each value escaped for its string literal (label names are checked by the configuration).
 */
export function publishedSelector(name: PublishedName, matchers: Readonly<Record<string, string>>): string {
  const extra = Object.entries(matchers)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([label, value]) => `${label}="${escapePromqlString(value)}"`);
  return `${name}{${['workload!=""', ...extra].join(', ')}}`;
}

/**
 * Reads the published names with two instant queries each, evaluated at the store's own time: the
 * values, and `timestamp()` of the same selector, which gives each sample's scrape time (an instant
 * query stamps every sample with the evaluation time), so that the age of a value read back is known.
 */
export async function readPublished(options: DispatchOptions, evaluationTimeout: string, matchers: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<PublishedRead> {
  const plan = publishedNames.flatMap((name) => {
    const selector = publishedSelector(name, matchers);
    return [
      { query: selector, targets: [] },
      { query: `timestamp(${selector})`, targets: [] },
    ];
  });
  let outcomes: Awaited<ReturnType<typeof dispatch>>;
  try {
    outcomes = await dispatch(
      plan,
      plan.map(({ query }, index) => [{ query: index, kind: 'instant' as const, send: async ({ driver }) => parseResult(await driver.instantQuery(query, undefined, evaluationTimeout)) }]),
      options,
      signal,
    );
  } catch (error) {
    signal?.throwIfAborted();
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const values: PublishedValue[] = [];
  for (const [index, name] of publishedNames.entries()) {
    const read = seriesOf(outcomes[2 * index]!, plan[2 * index]!.query, 'instant');
    const stamps = seriesOf(outcomes[2 * index + 1]!, plan[2 * index + 1]!.query, 'instant');
    if ('failure' in read) return { ok: false, message: read.failure };
    if ('failure' in stamps) return { ok: false, message: stamps.failure };
    // timestamp() drops the metric name; the other labels identify the series.
    const sampleMsOf = new Map(stamps.series.map((s) => [labelKey(s.labels), instantValue(s) * 1000]));
    for (const series of read.series) {
      const { __name__: _, ...labels } = series.labels;
      const sampleMs = sampleMsOf.get(labelKey(labels));
      if (sampleMs === undefined || !Number.isFinite(sampleMs) || series.samples.values.length === 0) continue;
      const value = instantValue(series);
      values.push({ name, labels, value, sampleMs: Math.round(sampleMs) });
    }
  }
  return { ok: true, values };
}

function labelKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== '__name__')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
