import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { err, ok, type Resource, resources, type Result, messageOf } from '../core/index.js';
import { isContextVariableName, upperQuantileTwins, VariableTable } from './context.js';
import { isFunctionName } from './expression/ast.js';
import { type CompiledCondition, type CompiledNumber, compileExpression } from './expression/compile.js';

/** The direction a rule scales in. */
export type RuleDirection = 'up' | 'down';

/** One compiled scaling rule of the design's `scaling_rules` format. */
export interface ScalingRule {
  readonly name: string;
  readonly resource: Resource;
  readonly direction: RuleDirection;
  readonly condition: CompiledCondition;
  /** Multiplies the current replicas: above 1 for scale-up rules, between 0 and 1 for scale-down rules. */
  readonly scalingFactor: number;
  /** The rule's own cooldown; undefined: the configured cooldown of its direction. */
  readonly cooldownSeconds: number | undefined;
  /** Higher wins when several rules of a resource fire. */
  readonly priority: number;
  /** An emergency scale-up: held back only by the (shorter) emergency cooldown. */
  readonly emergency: boolean;
  readonly description: string | undefined;
}

/** What the load needs, as expressions giving replicas (real numbers; the engine rounds up). */
export interface DemandExpressions {
  /** Replicas the observed load needs now: the reactive floor. */
  readonly observed: CompiledNumber | undefined;
  /** Replicas the forecast load needs (median forecasts). */
  readonly forecast: CompiledNumber | undefined;
  /** The same expression with every forecast read at its 90th percentile. */
  readonly forecastUpper: CompiledNumber | undefined;
}

/** The rules of one resource. */
export interface ResourceRules {
  readonly resource: Resource;
  /** The range the rules file allows (the configured range is intersected with it). */
  readonly min: number | undefined;
  readonly max: number | undefined;
  /** Highest priority first; file order among equal priorities. */
  readonly scaleUp: readonly ScalingRule[];
  readonly scaleDown: readonly ScalingRule[];
  readonly demand: DemandExpressions;
}

/** A loaded rules file. */
export interface RuleSet {
  /** The file it came from, for messages. */
  readonly file: string;
  /** Variables and constants, by slot. */
  readonly table: VariableTable;
  readonly constants: ReadonlyMap<string, number>;
  readonly resources: ReadonlyMap<Resource, ResourceRules>;
}

/** A problem in a rules file, placed as precisely as it can be. */
export interface RulesIssue {
  readonly file: string;
  /** Key path in the file ("scaling_rules.worker_processes.scale_up[1].condition"). */
  readonly path: string;
  /** The rule's name, when the problem is inside a rule. */
  readonly rule?: string;
  /** 1-based line and column in the file, when known. */
  readonly line?: number;
  readonly column?: number;
  /** 1-based position inside the expression, for expression errors. */
  readonly position?: number;
  readonly message: string;
}

/** One line per issue: `file:line:col: path (rule "x"), position N: message`. */
export function formatRulesIssue(issue: RulesIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  const path = issue.path === '' ? '' : ` ${issue.path}`;
  const rule = issue.rule === undefined ? '' : ` (rule "${issue.rule}")`;
  const position = issue.position === undefined ? '' : `, position ${issue.position}`;
  return `${where}:${path}${rule}${position}: ${issue.message}`;
}

const nameText = /^[a-z][a-z0-9_]*$/;

const ruleSchema = z.strictObject({
  name: z.string().regex(nameText, 'expected a rule name of lower-case letters, digits and "_", starting with a letter'),
  condition: z.string().min(1, 'expected a condition such as "queue_depth > 1000"'),
  scaling_factor: z.number().positive(),
  cooldown_minutes: z.number().min(0).optional(),
  priority: z.number().int().default(0),
  emergency: z.boolean().default(false),
  description: z.string().optional(),
});

const resourceSchema = z.strictObject({
  min: z.number().int().nonnegative().optional(),
  max: z.number().int().positive().optional(),
  scale_up: z.array(ruleSchema).default([]),
  scale_down: z.array(ruleSchema).default([]),
  demand: z
    .strictObject({
      observed: z.string().min(1).optional(),
      forecast: z.string().min(1).optional(),
    })
    .optional(),
});

const fileSchema = z.strictObject({
  constants: z.record(z.string().regex(nameText, 'expected a constant name of lower-case letters, digits and "_"'), z.number()).default({}),
  scaling_rules: z.strictObject(Object.fromEntries(resources.map((r) => [r, resourceSchema.optional()])) as Record<Resource, z.ZodOptional<typeof resourceSchema>>),
});

type RawFile = z.output<typeof fileSchema>;
type RawRule = z.output<typeof ruleSchema>;

function keyPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) out += typeof segment === 'number' ? `[${segment}]` : out === '' ? String(segment) : `.${String(segment)}`;
  return out;
}

/** Finds the YAML node at a key path (its value), for line and column numbers. */
function nodeAt(doc: Document, segments: readonly PropertyKey[]): YamlNode | undefined {
  let node: unknown = doc.contents;
  let found: YamlNode | undefined = isNode(node) ? node : undefined;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined) break;
      node = pair.value;
      found = isNode(pair.value) ? pair.value : isNode(pair.key) ? pair.key : found;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (!isNode(node)) break;
      found = node;
    } else {
      break;
    }
  }
  return found;
}

// Bounds alias expansion ("billion laughs"); a real rules file never comes close.
const maxAliasCount = 100;

/** Options of {@link parseScalingRules}. */
export interface ParseRulesOptions {
  /** Constants that replace (or add to) the file's `constants` (the simulator sets capacity this way). */
  readonly constants?: Readonly<Record<string, number>>;
}

/**
 * Parses and compiles a rules file (YAML text) in the design's `scaling_rules` format:
 *
 * ```yaml
 * constants: { backlog_per_worker: 100 }
 * scaling_rules:
 *   worker_processes:
 *     min: 2
 *     max: 20
 *     scale_up:
 *       - { name: queue_backlog, condition: "queue_depth > 1000", scaling_factor: 1.5, cooldown_minutes: 3, priority: 10 }
 *     scale_down:
 *       - { name: queue_drained, condition: "queue_depth < 100", scaling_factor: 0.75, cooldown_minutes: 10, priority: 10 }
 *     demand: { observed: "queue_depth / backlog_per_worker", forecast: "predicted_queue_depth / backlog_per_worker" }
 * ```
 *
 * Every problem is reported at once, each naming the file, the key path, the rule and, for
 * expressions, the 1-based position in the expression and the file's line and column. Unknown
 * variables are errors here, never at evaluation time. Pure: the caller reads the file.
 */
export function parseScalingRules(text: string, file: string, options: ParseRulesOptions = {}): Result<RuleSet, readonly RulesIssue[]> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) {
    return err(
      syntax.slice(0, 5).map((e): RulesIssue => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { file, path: '', line, column: col, message: `YAML syntax error: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount });
  } catch (cause) {
    return err([{ file, path: '', message: `YAML error: ${messageOf(cause)}` }]);
  }
  const place: Locate = (segments, inner) => {
    const node = nodeAt(doc, segments);
    let offset = node?.range?.[0];
    if (offset === undefined) return {};
    // Inside a one-line plain or quoted scalar without escapes, the expression's own position
    // maps to an exact column; otherwise the value's start is the best we can say.
    if (inner !== undefined && isScalar(node)) {
      const contentStart = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? offset + 1 : offset;
      if (text.slice(contentStart, contentStart + inner.text.length) === inner.text) offset = contentStart + inner.position - 1;
    }
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const ruleName = (segments: readonly PropertyKey[]): string | undefined => {
    if (segments[0] !== 'scaling_rules' || (segments[2] !== 'scale_up' && segments[2] !== 'scale_down') || typeof segments[3] !== 'number') return undefined;
    const rule: unknown = (raw as { scaling_rules?: Record<string, Record<string, unknown[]>> } | null)?.scaling_rules?.[String(segments[1])]?.[segments[2]]?.[segments[3]];
    return typeof rule === 'object' && rule !== null && typeof (rule as { name?: unknown }).name === 'string' ? (rule as { name: string }).name : undefined;
  };

  if (raw === null || raw === undefined || typeof raw !== 'object' || Array.isArray(raw)) {
    return err([{ file, path: '', line: 1, column: 1, message: 'expected a mapping with a "scaling_rules" key' }]);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    return err(
      parsed.error.issues.map((issue): RulesIssue => {
        const segments = issue.path as readonly PropertyKey[];
        const rule = ruleName(segments);
        let message = issue.message;
        if (issue.code === 'unrecognized_keys') {
          const known = segments.length === 0 ? 'constants, scaling_rules' : segments.length === 1 && segments[0] === 'scaling_rules' ? resources.join(', ') : undefined;
          message = `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}${known === undefined ? '' : `; expected one of: ${known}`}`;
        } else if (issue.code === 'invalid_type' && issue.input === undefined) {
          message = `missing (expected ${issue.expected})`;
        }
        return { file, path: keyPath(segments), ...(rule === undefined ? {} : { rule }), ...place(segments), message };
      }),
    );
  }
  return compileRules(parsed.data, file, options, place);
}

/** Finds a key path's line and column; with `inner`, the column of a position inside its expression. */
type Locate = (segments: readonly PropertyKey[], inner?: { readonly position: number; readonly text: string }) => { line?: number; column?: number };

function compileRules(data: RawFile, file: string, options: ParseRulesOptions, place: Locate): Result<RuleSet, readonly RulesIssue[]> {
  const issues: RulesIssue[] = [];
  const constants = new Map<string, number>();
  for (const [name, value] of [...Object.entries(data.constants), ...Object.entries(options.constants ?? {})]) {
    const segments = ['constants', name];
    if (isContextVariableName(name)) issues.push({ file, path: keyPath(segments), ...place(segments), message: `"${name}" is a context variable; a constant cannot shadow it` });
    else if (isFunctionName(name) || ['and', 'or', 'not', 'true', 'false'].includes(name)) issues.push({ file, path: keyPath(segments), ...place(segments), message: `"${name}" is a reserved word` });
    else if (!Number.isFinite(value)) issues.push({ file, path: keyPath(segments), ...place(segments), message: 'expected a finite number' });
    else constants.set(name, value);
  }
  const table = new VariableTable([...constants.keys()]);
  const byResource = new Map<Resource, ResourceRules>();

  /** Compiles an expression; on error, places it at the exact column when the YAML text allows. */
  const compile = <T extends 'boolean' | 'number'>(text: string, type: T, segments: readonly PropertyKey[], rule: string | undefined, substitute?: ReadonlyMap<string, string>) => {
    const compiled = compileExpression(text, type, table, substitute === undefined ? {} : { substitute });
    if (!compiled.ok) {
      const at = place(segments, { position: compiled.error.position, text });
      issues.push({
        file,
        path: keyPath(segments),
        ...(rule === undefined ? {} : { rule }),
        ...at,
        position: compiled.error.position,
        message: compiled.error.message,
      });
      return undefined;
    }
    return compiled.value;
  };

  for (const resource of resources) {
    const raw = data.scaling_rules[resource];
    if (raw === undefined) continue;
    const base = ['scaling_rules', resource];
    if (raw.min !== undefined && raw.max !== undefined && raw.min > raw.max) {
      issues.push({ file, path: keyPath([...base, 'min']), ...place([...base, 'min']), message: `min (${raw.min}) must not be greater than max (${raw.max})` });
    }
    const seen = new Set<string>();
    const build = (list: readonly RawRule[], direction: RuleDirection): ScalingRule[] => {
      const key = direction === 'up' ? 'scale_up' : 'scale_down';
      const out: ScalingRule[] = [];
      list.forEach((rule, index) => {
        const segments = [...base, key, index];
        if (seen.has(rule.name))
          issues.push({ file, path: keyPath([...segments, 'name']), rule: rule.name, ...place([...segments, 'name']), message: `rule name "${rule.name}" is used twice in ${resource}` });
        seen.add(rule.name);
        if (direction === 'up' && !(rule.scaling_factor > 1)) {
          issues.push({
            file,
            path: keyPath([...segments, 'scaling_factor']),
            rule: rule.name,
            ...place([...segments, 'scaling_factor']),
            message: `a scale_up rule needs a scaling_factor above 1, got ${rule.scaling_factor}`,
          });
        }
        if (direction === 'down' && !(rule.scaling_factor < 1)) {
          issues.push({
            file,
            path: keyPath([...segments, 'scaling_factor']),
            rule: rule.name,
            ...place([...segments, 'scaling_factor']),
            message: `a scale_down rule needs a scaling_factor between 0 and 1, got ${rule.scaling_factor}`,
          });
        }
        if (direction === 'down' && rule.emergency) {
          issues.push({ file, path: keyPath([...segments, 'emergency']), rule: rule.name, ...place([...segments, 'emergency']), message: 'only scale_up rules can be emergencies' });
        }
        const condition = compile(rule.condition, 'boolean', [...segments, 'condition'], rule.name);
        if (condition === undefined) return;
        out.push({
          name: rule.name,
          resource,
          direction,
          condition,
          scalingFactor: rule.scaling_factor,
          cooldownSeconds: rule.cooldown_minutes === undefined ? undefined : rule.cooldown_minutes * 60,
          priority: rule.priority,
          emergency: rule.emergency,
          description: rule.description,
        });
      });
      // Stable sort: equal priorities keep file order.
      return out.sort((a, b) => b.priority - a.priority);
    };
    const scaleUp = build(raw.scale_up, 'up');
    const scaleDown = build(raw.scale_down, 'down');
    const demandBase = [...base, 'demand'];
    const observed = raw.demand?.observed === undefined ? undefined : compile(raw.demand.observed, 'number', [...demandBase, 'observed'], undefined);
    const forecastText = raw.demand?.forecast;
    const forecast = forecastText === undefined ? undefined : compile(forecastText, 'number', [...demandBase, 'forecast'], undefined);
    // The same text read at the upper quantile; it compiles whenever the median version does.
    const forecastUpper = forecastText === undefined || forecast === undefined ? undefined : compile(forecastText, 'number', [...demandBase, 'forecast'], undefined, upperQuantileTwins);
    byResource.set(resource, { resource, min: raw.min, max: raw.max, scaleUp, scaleDown, demand: { observed, forecast, forecastUpper } });
  }
  if (issues.length > 0) return err(issues);
  return ok({ file, table, constants, resources: byResource });
}
