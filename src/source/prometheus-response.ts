import type { QueryResult } from 'prometheus-query';
import type { InputRef, Sample } from '../core/index.js';
import type { SourceProblem, TimeRange } from './metric-source.js';
import type { QueryOutcome } from './prometheus-dispatch.js';
import { isRecord } from './prometheus-http.js';
import type { Target } from './prometheus-query-plan.js';

// Decoding Prometheus answers: the driver's result objects into plain series, chunks merged, the
// one series of each input picked (KEDA's policy), range samples put back on the grid.

/** One series of a result, as plain data. */
export interface ResultSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: readonly Sample[];
}

type ResultKind = 'matrix' | 'vector' | 'scalar';

/**
 * Returns a function that chooses the one series of `result` belonging to a target, or says why
 * there is none. Series are indexed by queue once per result, so that a grouped template serving
 * 1,000 queues costs one pass over its series, not one per queue.
 */
export function picker(
  result: { readonly series: readonly ResultSeries[] } | { readonly failure: string },
  query: string,
  label: string,
): (target: Target) => { readonly series: ResultSeries } | { readonly problem: SourceProblem } {
  if ('failure' in result) return ({ input }) => ({ problem: { input, reason: 'query_failed', message: result.failure } });
  let byQueue: Map<string, ResultSeries[]> | undefined;
  return ({ input, queue }) => {
    if (queue === undefined) return pickOne(input, result.series, '', query);
    byQueue ??= indexByLabel(result.series, label);
    return pickOne(input, byQueue.get(queue) ?? [], ` with ${label}=${JSON.stringify(queue)}`, query);
  };
}

/** KEDA's policy for one input: exactly one candidate series, or the problem of none or of several. */
function pickOne(input: InputRef, candidates: readonly ResultSeries[], where: string, query: string): { readonly series: ResultSeries } | { readonly problem: SourceProblem } {
  if (candidates.length === 0) return { problem: { input, reason: 'empty', message: `no series${where}: ${query}` } };
  if (candidates.length > 1) {
    const shown = candidates
      .slice(0, 3)
      .map((s) => formatLabels(s.labels))
      .join(', ');
    const more = candidates.length > 3 ? ', …' : '';
    return {
      problem: {
        input,
        reason: 'multiple_series',
        message: `${candidates.length} series${where} where one was expected (${shown}${more}); aggregate them in the query: ${query}`,
      },
    };
  }
  return { series: candidates[0]! };
}

function indexByLabel(series: readonly ResultSeries[], label: string): Map<string, ResultSeries[]> {
  const index = new Map<string, ResultSeries[]>();
  for (const s of series) {
    const value = s.labels[label];
    if (value === undefined) continue;
    const list = index.get(value);
    if (list === undefined) index.set(value, [s]);
    else list.push(s);
  }
  return index;
}

/** The series of a query's outcome, or the text of its failure. */
export function seriesOf(outcome: QueryOutcome, query: string, read: 'instant' | 'range'): { readonly series: readonly ResultSeries[] } | { readonly failure: string } {
  if (!outcome.ok) return { failure: outcome.failure.message };
  // Chunks of one range query are merged by label set; chunks never overlap, so nothing is doubled.
  const merged = new Map<string, { labels: Readonly<Record<string, string>>; samples: Sample[] }>();
  for (const result of outcome.results) {
    const parsed = parseResult(result);
    if ('error' in parsed) return { failure: `${parsed.error}: ${query}` };
    if (read === 'instant' && parsed.kind === 'matrix') {
      return { failure: `the result is a range vector; an instant query needs an instant vector or a scalar: ${query}` };
    }
    for (const series of parsed.series) {
      const key = formatLabels(series.labels);
      const known = merged.get(key);
      if (known === undefined) merged.set(key, { labels: series.labels, samples: [...series.samples] });
      else known.samples.push(...series.samples);
    }
  }
  return { series: [...merged.values()] };
}

/** Reads the driver's result objects (untyped by the library, so read here as `unknown`) into plain series. */
function parseResult(result: QueryResult): { readonly kind: ResultKind; readonly series: ResultSeries[] } | { readonly error: string } {
  const kind: unknown = result.resultType;
  const items: readonly unknown[] = Array.isArray(result.result) ? result.result : [];
  switch (kind) {
    case 'matrix':
      return { kind, series: items.map((item) => ({ labels: labelsOf(item), samples: samplesOf(isRecord(item) ? item['values'] : undefined) })) };
    case 'vector':
      return { kind, series: items.map((item) => ({ labels: labelsOf(item), samples: samplesOf([isRecord(item) ? item['value'] : undefined]) })) };
    case 'scalar': {
      // The driver passes a scalar through raw: [unixSeconds, "value"].
      const [time, value] = items;
      if (typeof time !== 'number' || typeof value !== 'string') return { error: 'malformed scalar result' };
      return { kind, series: [{ labels: {}, samples: [{ timestampMs: Math.round(time * 1000), value: parseSampleValue(value) }] }] };
    }
    default:
      return { error: `unsupported result type ${JSON.stringify(kind)}` };
  }
}

function labelsOf(item: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  const metric = isRecord(item) ? item['metric'] : undefined;
  if (!isRecord(metric)) return labels;
  if (typeof metric['name'] === 'string' && metric['name'] !== '') labels['__name__'] = metric['name'];
  const rest = metric['labels'];
  if (isRecord(rest)) for (const [name, value] of Object.entries(rest)) if (typeof value === 'string') labels[name] = value;
  return labels;
}

function samplesOf(values: unknown): Sample[] {
  if (!Array.isArray(values)) return [];
  const samples: Sample[] = [];
  for (const value of values as readonly unknown[]) {
    if (!isRecord(value)) continue;
    const time = value['time'];
    const number = value['value'];
    if (time instanceof Date && typeof number === 'number') samples.push({ timestampMs: time.getTime(), value: number });
  }
  return samples;
}

/** Prometheus writes special values as "NaN", "+Inf" and "-Inf", which parseFloat does not read. */
function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number.parseFloat(text);
}

/**
 * Moves range-query samples back onto the requested grid. Prometheus evaluates exactly at the grid
 * points, but their times travel as float seconds, so a point can come back a millisecond early
 * and would otherwise land in the previous grid cell.
 */
export function snapToGrid(samples: readonly Sample[], range: TimeRange): Sample[] {
  const stepMs = range.stepSeconds * 1000;
  return samples.map((s) => ({ timestampMs: range.startMs + Math.round((s.timestampMs - range.startMs) / stepMs) * stepMs, value: s.value }));
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const { __name__: name, ...rest } = labels;
  const pairs = Object.keys(rest)
    .sort()
    .map((key) => `${key}=${JSON.stringify(rest[key])}`);
  return `${name ?? ''}{${pairs.join(', ')}}`;
}
