/**
 * The Prometheus text format (version 0.0.4) for gauge families written straight from data, the
 * way prom-client's registry writes them (same escapes, same value spellings), at a fraction of
 * its cost: at 1,000 queues the snapshot's families are about 80,000 lines, which prom-client's
 * per-sample label hashing and validation turn into half a second per scrape (docs/workloads.md).
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

/** A sample value as Prometheus (and prom-client) spell it. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return `${value}`;
}

/** Receives a family's samples: labels (written in this order) and value. */
export type Emit = (labels: Readonly<Record<string, string>>, value: number) => void;

/**
 * One family: `# HELP`, `# TYPE` (the catalog's type: forecast quantiles are gauges written as
 * `summary`, because the exposition format reserves their contract's `quantile` label for
 * summaries and `promtool check metrics` says so; PromQL reads them the same), then a line per
 * sample `fill` emits. `fill` emits each label set once: there is no look-up of earlier lines,
 * which would double the cost of 80,000 lines (snapshot-families.ts keeps each family unique).
 */
export function familyText(definition: MetricDefinition, fill: (emit: Emit) => void): string {
  const lines: string[] = [`# HELP ${definition.name} ${escapeText(definition.help)}`, `# TYPE ${definition.name} ${definition.type}`];
  fill((labels, value) => {
    let series = definition.name;
    let first = true;
    for (const name of Object.keys(labels)) {
      series += `${first ? '{' : ','}${name}="${escapeLabelValue(labels[name]!)}"`;
      first = false;
    }
    lines.push(`${series}${first ? '' : '}'} ${formatSampleValue(value)}`);
  });
  return lines.join('\n');
}
