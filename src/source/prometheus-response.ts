import type { QueryResult } from 'prometheus-query';
import type { InputRef, RegularSeries } from '../core/index.js';
import type { SourceProblem, TimeRange } from './metric-source.js';
import { isRecord, type QueryFailure } from './prometheus-http.js';
import type { Target } from './prometheus-query-plan.js';

// Decoding Prometheus answers: the driver's result objects into plain series, chunks merged, the
// one series of each input picked (KEDA's policy), range samples put back on the grid.

/**
 * A series' samples as two columns. A range read of 2,200 series × 7 days is 22 M points: as one
 * object each (the driver's, then ours) they took most of 2 GB and minutes of garbage collection
 * (docs/workloads.md); as columns they take 16 bytes a point.
 */
export interface SampleColumns {
  readonly timestampsMs: Float64Array;
  readonly values: Float64Array;
}

/** One series of a result, as plain data. */
export interface ResultSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: SampleColumns;
}

type ResultKind = 'matrix' | 'vector' | 'scalar';

/** One answer decoded (the driver's objects are dropped at once), or why it cannot be read. */
export type ParsedResult = { readonly kind: ResultKind; readonly series: readonly ResultSeries[] } | { readonly error: string };

/** What one planned query came to: all its answers (decoded), or the first failure of any of its requests. */
export type QueryOutcome = { readonly ok: true; readonly results: readonly ParsedResult[] } | { readonly ok: false; readonly failure: QueryFailure };

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
  const merged = new Map<string, { labels: Readonly<Record<string, string>>; chunks: SampleColumns[] }>();
  for (const parsed of outcome.results) {
    if ('error' in parsed) return { failure: `${parsed.error}: ${query}` };
    if (read === 'instant' && parsed.kind === 'matrix') {
      return { failure: `the result is a range vector; an instant query needs an instant vector or a scalar: ${query}` };
    }
    for (const series of parsed.series) {
      const key = formatLabels(series.labels);
      const known = merged.get(key);
      if (known === undefined) merged.set(key, { labels: series.labels, chunks: [series.samples] });
      else known.chunks.push(series.samples);
    }
  }
  return { series: [...merged.values()].map(({ labels, chunks }) => ({ labels, samples: concatColumns(chunks) })) };
}

function concatColumns(chunks: readonly SampleColumns[]): SampleColumns {
  if (chunks.length === 1) return chunks[0]!;
  const length = chunks.reduce((sum, c) => sum + c.values.length, 0);
  const timestampsMs = new Float64Array(length);
  const values = new Float64Array(length);
  let at = 0;
  for (const c of chunks) {
    timestampsMs.set(c.timestampsMs, at);
    values.set(c.values, at);
    at += c.values.length;
  }
  return { timestampsMs, values };
}

/** Reads the driver's result objects (untyped by the library, so read here as `unknown`) into plain series. */
export function parseResult(result: QueryResult): ParsedResult {
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
      return { kind, series: [{ labels: {}, samples: { timestampsMs: Float64Array.of(Math.round(time * 1000)), values: Float64Array.of(parseSampleValue(value)) } }] };
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

function samplesOf(values: unknown): SampleColumns {
  const items: readonly unknown[] = Array.isArray(values) ? values : [];
  const timestampsMs = new Float64Array(items.length);
  const numbers = new Float64Array(items.length);
  let count = 0;
  for (const value of items) {
    if (!isRecord(value)) continue;
    const time = value['time'];
    const number = value['value'];
    if (!(time instanceof Date) || typeof number !== 'number') continue;
    timestampsMs[count] = time.getTime();
    numbers[count++] = number;
  }
  return { timestampsMs: timestampsMs.subarray(0, count), values: numbers.subarray(0, count) };
}

/** The value of an instant result's series (its one sample), or NaN. */
export function instantValue(series: ResultSeries): number {
  return series.samples.values[0] ?? Number.NaN;
}

/** Prometheus writes special values as "NaN", "+Inf" and "-Inf", which parseFloat does not read. */
export function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number.parseFloat(text);
}

/**
 * Puts range-query samples on the requested grid (NaN where there is none, non-finite values
 * skipped). Prometheus evaluates exactly at the grid points, but their times travel as float
 * seconds, so a point can come back a millisecond early: each goes to its nearest grid point, not
 * to the cell before it.
 */
export function onGrid(samples: SampleColumns, range: TimeRange): RegularSeries {
  const stepMs = range.stepSeconds * 1000;
  const length = range.endMs < range.startMs ? 0 : Math.floor((range.endMs - range.startMs) / stepMs) + 1;
  const values = new Float64Array(length).fill(Number.NaN);
  for (let i = 0; i < samples.values.length; i++) {
    const value = samples.values[i]!;
    if (!Number.isFinite(value)) continue;
    const index = Math.round((samples.timestampsMs[i]! - range.startMs) / stepMs);
    if (index >= 0 && index < length) values[index] = value;
  }
  return { startMs: range.startMs, stepSeconds: range.stepSeconds, values };
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const { __name__: name, ...rest } = labels;
  const pairs = Object.keys(rest)
    .sort()
    .map((key) => `${key}=${JSON.stringify(rest[key])}`);
  return `${name ?? ''}{${pairs.join(', ')}}`;
}
