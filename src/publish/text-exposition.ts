/**
 * The Prometheus text format (version 0.0.4) for gauge families written straight from data, the
 * way prom-client's registry writes them (same escapes, same value spellings), at a fraction of
 * its cost: at 1,000 queues the snapshot's families are tens of thousands of lines, which
 * prom-client's per-sample label objects, hashing and validation would turn into half a second
 * per scrape (docs/workloads.md). Labels are written as text by the caller, so that a label set
 * shared by many samples (a queue's, a series') is escaped and joined once, not once per sample.
 */
import type { MetricDefinition } from './metric-catalog.js';

/** Backslash and newline escaped, as in `# HELP` text. */
function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const needsEscape = /[\\\n"]/;

/** A label value escaped for its double quotes. */
function escapeLabelValue(value: string): string {
  return needsEscape.test(value) ? escapeText(value).replace(/"/g, '\\"') : value;
}

/** One label as written between a sample's braces: `name="value"`, the value escaped. */
export function labelPair(name: string, value: string): string {
  return `${name}="${escapeLabelValue(value)}"`;
}

/** Labels as written between a sample's braces, in the order given: `a="x",b="y"` ('' for none). */
export function labelPairs(labels: Readonly<Record<string, string>>): string {
  let text = '';
  for (const name of Object.keys(labels)) text += `${text === '' ? '' : ','}${labelPair(name, labels[name]!)}`;
  return text;
}

/** A sample value as Prometheus (and prom-client) spell it. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return `${value}`;
}

/** Receives a family's samples: its labels as {@link labelPairs} writes them ('' for none) and its value. */
export type Emit = (labels: string, value: number) => void;

/**
 * Text gathered as UTF-8 bytes in chunks of about 64 KiB: a body of megabytes costs a few
 * short-lived strings per chunk and one copy at the end, instead of a string per line joined at
 * the end (measured: about half the CPU time, and less garbage, at 1,000 queues).
 */
export class ExpositionWriter {
  static readonly #chunkChars = 65_536;
  readonly #chunks: Buffer[] = [];
  #pending = '';

  write(text: string): void {
    this.#pending += text;
    if (this.#pending.length >= ExpositionWriter.#chunkChars) this.#flush();
  }

  /** Everything written so far. */
  bytes(): Buffer {
    this.#flush();
    return this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
  }

  #flush(): void {
    if (this.#pending === '') return;
    this.#chunks.push(Buffer.from(this.#pending, 'utf8'));
    this.#pending = '';
  }
}

/**
 * One family: `# HELP`, `# TYPE` (the catalog's type: forecast quantiles are gauges written as
 * `summary`, because the exposition format reserves their contract's `quantile` label for
 * summaries and `promtool check metrics` says so; PromQL reads them the same), then a line per
 * sample `fill` emits, each line after a newline (none after the last). `fill` emits each label
 * set once: there is no look-up of earlier lines, which would double the cost of tens of
 * thousands of lines (snapshot-families.ts keeps each family unique).
 */
export function writeFamily(out: ExpositionWriter, definition: MetricDefinition, fill: (emit: Emit) => void): void {
  const { name } = definition;
  out.write(`# HELP ${name} ${escapeText(definition.help)}\n# TYPE ${name} ${definition.type}`);
  fill((labels, value) => {
    out.write(labels === '' ? `\n${name} ${formatSampleValue(value)}` : `\n${name}{${labels}} ${formatSampleValue(value)}`);
  });
}

/** One family as a string ({@link writeFamily}). */
export function familyText(definition: MetricDefinition, fill: (emit: Emit) => void): string {
  const out = new ExpositionWriter();
  writeFamily(out, definition, fill);
  return out.bytes().toString('utf8');
}
