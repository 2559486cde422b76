/**
 * OpenMetrics text for `promtool tsdb create-blocks-from openmetrics` (history backfill in tests).
 *
 * The format details that bite (environment.md §2, each one verified against promtool 2.42):
 * - timestamps are SECONDS; millisecond timestamps are accepted silently and land in the year
 *   ~58 000, where no query finds them. Callers pass milliseconds, like everywhere else in the
 *   codebase, and the conversion happens here only;
 * - the file must end with `# EOF`, or promtool fails with "data does not end with # EOF";
 * - all samples of a metric family must be contiguous, so series are grouped by family name.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Sample } from '../../src/core/index.js';

/** One series of history to backfill. */
export interface BackfillSeries {
  /** Metric name, e.g. `queue_depth`. For `type: 'counter'` it must end in `_total`. */
  readonly name: string;
  /** Label names and values (values are escaped on output; names are validated). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Samples with millisecond timestamps. Order does not matter to promtool. */
  readonly samples: readonly Sample[];
  /** Metric type of the family; defaults to `gauge`. */
  readonly type?: 'gauge' | 'counter' | 'unknown';
  /** Optional `# HELP` text for the family (taken from the first series of the family that has one). */
  readonly help?: string;
}

/** What {@link writeOpenMetrics} wrote. */
export interface OpenMetricsStats {
  readonly families: number;
  readonly series: number;
  readonly samples: number;
  readonly bytes: number;
  /** Earliest and latest sample timestamps in ms; `undefined` when there were no samples. */
  readonly minTimestampMs: number | undefined;
  readonly maxTimestampMs: number | undefined;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value: backslash, double quote and newline, per the OpenMetrics ABNF. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes `# HELP` text; OpenMetrics uses the same escapes as for label values. */
function escapeHelp(text: string): string {
  return escapeLabelValue(text);
}

/** Formats a sample value; OpenMetrics spells the non-finite values `NaN`, `+Inf` and `-Inf`. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/**
 * Formats a millisecond timestamp as OpenMetrics seconds. Whole seconds print without a fraction;
 * others keep millisecond precision (`1795236540.5`), which promtool accepts.
 */
export function formatTimestampSeconds(timestampMs: number): string {
  if (!Number.isFinite(timestampMs)) throw new RangeError(`timestamp must be finite, got ${timestampMs}`);
  const ms = Math.round(timestampMs);
  const seconds = Math.trunc(ms / 1000);
  const rest = Math.abs(ms % 1000);
  if (rest === 0) return String(seconds);
  const sign = ms < 0 && seconds === 0 ? '-' : '';
  return `${sign}${seconds}.${String(rest).padStart(3, '0').replace(/0+$/, '')}`;
}

/** `name{a="x",b="y"}`, validated; labels are sorted so output is deterministic. */
function seriesKey(series: BackfillSeries): string {
  if (!METRIC_NAME.test(series.name)) throw new Error(`invalid metric name ${JSON.stringify(series.name)}`);
  const labels = Object.entries(series.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (labels.length === 0) return series.name;
  const parts = labels.map(([name, value]) => {
    // `__`-prefixed labels are reserved for Prometheus internals (`__name__`, relabelling).
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new Error(`invalid label name ${JSON.stringify(name)} on ${series.name}`);
    }
    return `${name}="${escapeLabelValue(value)}"`;
  });
  return `${series.name}{${parts.join(',')}}`;
}

/** Family name and type for a series; counters are declared without their `_total` suffix. */
function familyOf(series: BackfillSeries): { family: string; type: string } {
  const type = series.type ?? 'gauge';
  if (type !== 'counter') return { family: series.name, type };
  if (!series.name.endsWith('_total')) {
    throw new Error(`counter ${JSON.stringify(series.name)} must end in _total (OpenMetrics)`);
  }
  return { family: series.name.slice(0, -'_total'.length), type };
}

/**
 * Yields the lines (without newlines) of an OpenMetrics exposition for `series`, ending with
 * `# EOF`. Series of the same family are grouped under one `# TYPE` line. Lazy, so a large input is
 * never held as one string.
 */
export function* openMetricsLines(series: readonly BackfillSeries[]): Generator<string, void, undefined> {
  const families = new Map<string, { type: string; help: string | undefined; members: BackfillSeries[] }>();
  for (const s of series) {
    const { family, type } = familyOf(s);
    const existing = families.get(family);
    if (existing === undefined) {
      families.set(family, { type, help: s.help, members: [s] });
    } else {
      if (existing.type !== type) {
        throw new Error(`metric family ${family} declared as both ${existing.type} and ${type}`);
      }
      existing.help ??= s.help;
      existing.members.push(s);
    }
  }
  for (const [family, { type, help, members }] of families) {
    if (help !== undefined) yield `# HELP ${family} ${escapeHelp(help)}`;
    yield `# TYPE ${family} ${type}`;
    for (const member of members) {
      const key = seriesKey(member);
      for (const sample of member.samples) {
        yield `${key} ${formatValue(sample.value)} ${formatTimestampSeconds(sample.timestampMs)}`;
      }
    }
  }
  yield '# EOF';
}

/** The whole exposition as one string (for small inputs and unit tests). Ends with a newline. */
export function formatOpenMetrics(series: readonly BackfillSeries[]): string {
  return `${[...openMetricsLines(series)].join('\n')}\n`;
}

/** Lines per write: big enough to amortise stream overhead, small enough to keep memory flat. */
const LINES_PER_CHUNK = 4096;

/**
 * Streams the OpenMetrics exposition of `series` to `path` (created or truncated), honouring
 * back-pressure, so millions of samples never become one giant string.
 */
export async function writeOpenMetrics(path: string, series: readonly BackfillSeries[]): Promise<OpenMetricsStats> {
  let samples = 0;
  let minTimestampMs: number | undefined;
  let maxTimestampMs: number | undefined;
  const families = new Set<string>();
  for (const s of series) {
    families.add(familyOf(s).family);
    samples += s.samples.length;
    for (const { timestampMs } of s.samples) {
      if (minTimestampMs === undefined || timestampMs < minTimestampMs) minTimestampMs = timestampMs;
      if (maxTimestampMs === undefined || timestampMs > maxTimestampMs) maxTimestampMs = timestampMs;
    }
  }

  const stream = createWriteStream(path, { encoding: 'utf8' });
  // Surface a write error (e.g. ENOSPC) from whichever await is pending when it happens.
  const failed = once(stream, 'error').then(([error]: unknown[]) => {
    throw error instanceof Error ? error : new Error(String(error));
  });
  failed.catch(() => undefined);
  let bytes = 0;
  let chunk: string[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const text = `${chunk.join('\n')}\n`;
    chunk = [];
    bytes += Buffer.byteLength(text);
    if (!stream.write(text)) await Promise.race([once(stream, 'drain'), failed]);
  };
  try {
    for (const line of openMetricsLines(series)) {
      chunk.push(line);
      if (chunk.length >= LINES_PER_CHUNK) await flush();
    }
    await flush();
    stream.end();
    await Promise.race([once(stream, 'finish'), failed]);
  } catch (error) {
    stream.destroy();
    throw error;
  }
  return { families: families.size, series: series.length, samples, bytes, minTimestampMs, maxTimestampMs };
}
