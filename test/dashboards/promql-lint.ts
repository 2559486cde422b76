/**
 * PromQL checks shared by the dashboard and rule tests: parse with the Prometheus project's own
 * lezer grammar, list the metric names an expression reads, and check them against the metric
 * catalog and the shipped recording rules.
 */
import { parser } from '@prometheus-io/lezer-promql';
import type { MetricDefinition } from '../../src/publish/index.js';

/** What parsing one expression found. */
export interface ParsedPromql {
  /** Character offsets of syntax errors (empty when the expression parses). */
  readonly errorOffsets: readonly number[];
  /** Metric names of every vector selector, in order of appearance (duplicates kept). */
  readonly metricNames: readonly string[];
  /** Selectors that name their metric through a `__name__` matcher, which the catalog check cannot see. */
  readonly nameMatchers: readonly string[];
}

/** Parses `expr` and collects its metric names and syntax errors. */
export function parsePromql(expr: string): ParsedPromql {
  const errorOffsets: number[] = [];
  const metricNames: string[] = [];
  const nameMatchers: string[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      if (node.type.isError) errorOffsets.push(node.from);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metricNames.push(expr.slice(node.from, node.to));
      if (node.name === 'LabelName' && expr.slice(node.from, node.to) === '__name__' && node.node.parent?.name !== 'GroupingLabels') {
        nameMatchers.push(expr.slice(node.node.parent?.from ?? node.from, node.node.parent?.to ?? node.to));
      }
    },
  });
  return { errorOffsets, metricNames, nameMatchers };
}

/** Series names a catalog entry exposes: histograms and summaries add `_bucket`, `_sum`, `_count`. */
export function exposedNames(definition: MetricDefinition): string[] {
  switch (definition.type) {
    case 'histogram':
      return [definition.name, `${definition.name}_bucket`, `${definition.name}_sum`, `${definition.name}_count`];
    case 'summary':
      return [definition.name, `${definition.name}_sum`, `${definition.name}_count`];
    default:
      return [definition.name];
  }
}

/**
 * Grafana's variables replaced by values Prometheus accepts, so that an expression can be parsed
 * and run as Grafana would send it. Longest names first: `$__rate_interval` before `$__range`.
 */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  const names = Object.keys(values).sort((a, b) => b.length - a.length);
  let out = expr;
  for (const name of names) {
    const value = values[name]!;
    out = out.split(`\${${name}}`).join(value).split(`[[${name}]]`).join(value).split(`$${name}`).join(value);
  }
  return out;
}

/** Variable references left in an expression after substitution (`$x`, `${x}`, `[[x]]`). */
export function leftoverVariables(expr: string): string[] {
  return [...expr.matchAll(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\[\[[A-Za-z_][A-Za-z0-9_]*\]\]/g)].map((m) => m[0]);
}
