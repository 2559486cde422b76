import type { z } from 'zod';
import { environmentSource, maskUrlPassword, type ConfigIssue } from './config-error.js';
import type { AppliedOverride } from './env.js';
import { isSecretConfigPath } from './redact.js';
import { configKeyReference, keysAt } from './reference.js';

/** A 1-based position in the configuration file. */
export interface FilePosition {
  readonly line: number;
  readonly column: number;
}

/** What {@link translateIssues} needs to know besides the issues. */
export interface IssueContext {
  /** The file name as given, or "defaults" when there is no file. */
  readonly source: string;
  /** The environment variables that were applied, to blame issues on them. */
  readonly applied: readonly AppliedOverride[];
  /** Where a key path is in the file; `key` asks for the key rather than its value. */
  readonly locate: (segments: readonly PropertyKey[], key: boolean) => FilePosition | undefined;
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Writes key path segments the way a reader writes them: `queues[1].threshold`, `headers["X-Org"]`. */
export function formatKeyPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && identifier.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** YAML/JSON vocabulary for zod's type names. */
const typeWords: Readonly<Record<string, string>> = { int: 'integer', object: 'mapping', record: 'mapping', array: 'list' };
const typeWord = (name: string): string => typeWords[name] ?? name;

function receivedType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'mapping';
  return typeof value;
}

/**
 * Zod's messages for its built-in checks, reworded to say what was expected in the words of a
 * YAML file ("mapping", "list"). What was received is added later, by {@link translateIssues},
 * because only there is it known whether the key holds a secret that must not be echoed.
 * Messages written in the schema itself take precedence over these.
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `missing (expected ${typeWord(issue.expected)})` : `expected ${typeWord(issue.expected)}`;
    case 'too_small':
      if (issue.origin === 'array') return `expected at least ${issue.minimum} ${issue.minimum === 1 ? 'item' : 'items'}`;
      if (issue.origin === 'string') return `expected at least ${issue.minimum} characters`;
      return `expected a number ${issue.inclusive === true ? '>=' : '>'} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `expected at most ${issue.maximum} items`;
      if (issue.origin === 'string') return `expected at most ${issue.maximum} characters`;
      return `expected a number ${issue.inclusive === true ? '<=' : '<'} ${issue.maximum}`;
    case 'invalid_value':
      return `expected one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return `expected ${issue.format === 'url' ? 'a URL' : `text in ${issue.format} format`}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`;
    case 'invalid_union': {
      const expected = issue.errors.flatMap((branch) => branch.flatMap((i) => (i.code === 'invalid_type' ? [typeWord(i.expected)] : [])));
      return expected.length > 0 ? `expected ${[...new Set(expected)].join(' or ')}` : undefined;
    }
    default:
      return undefined;
  }
};

/** Codes whose message ends with what was expected, so that ", received ..." reads naturally. */
const echoCodes = new Set(['invalid_type', 'too_small', 'too_big', 'invalid_value', 'invalid_format', 'not_multiple_of', 'invalid_union']);
const maxEcho = 60;

function received(issue: z.core.$ZodIssue): string {
  const input = issue.input;
  if (input === undefined || !echoCodes.has(issue.code ?? '')) return '';
  if (isSecretConfigPath(issue.path)) return `, received ${receivedType(input)}`;
  if (typeof input === 'string') {
    const masked = maskUrlPassword(input);
    const shown = masked.length > maxEcho ? `${masked.slice(0, maxEcho)}…` : masked;
    return `, received string ${JSON.stringify(shown)}`;
  }
  if (typeof input === 'number' || typeof input === 'boolean') {
    return issue.code === 'invalid_type' || issue.code === 'invalid_union' ? `, received ${typeof input} ${input}` : `, received ${input}`;
  }
  return `, received ${receivedType(input)}`;
}

// YAML 1.1 read these as booleans; YAML 1.2 (and so this loader) reads them as text.
const yaml11Booleans = new Set(['yes', 'no', 'on', 'off', 'y', 'n']);

/** A hint for the two mistakes YAML invites: yes/no for booleans, and quoted numbers. */
function hint(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_type' || typeof issue.input !== 'string') return '';
  if (issue.expected === 'boolean' && yaml11Booleans.has(issue.input.toLowerCase())) return '; write true or false (YAML 1.2 reads yes/no/on/off as text)';
  if ((issue.expected === 'number' || issue.expected === 'int') && issue.input.trim() !== '' && Number.isFinite(Number(issue.input))) {
    return '; write the number without quotes';
  }
  return '';
}

/** Folds case, "_" and "-" so that `bearer_token` finds `bearerToken`. */
const fold = (key: string): string => key.toLowerCase().replaceAll(/[-_]/g, '');

/** Edit distance where swapping two neighbouring letters counts as one edit ("hots" → "host"). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i]!;
      const up = rows[i - 1]!;
      row[j] = Math.min(up[j]! + 1, row[j - 1]! + 1, up[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known key that a typo most likely meant, if one is close enough to be worth suggesting. */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const folded = fold(unknown);
  const exact = known.find((key) => fold(key) === folded);
  if (exact !== undefined) return exact;
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(folded, fold(key));
    if (distance <= Math.max(1, Math.floor(key.length / 4)) && (best === undefined || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}

/**
 * Where else a key exists, for a key written in the wrong section (`prometheus:` at the top level
 * instead of under `source:`). At most two places, outside lists, or the hint says nothing useful.
 */
function placesOf(key: string): readonly string[] {
  const places = configKeyReference()
    .map((row) => row.path)
    .filter((path) => !path.includes('[]') && path.includes('.') && fold(path.slice(path.lastIndexOf('.') + 1)) === fold(key));
  return places.length > 0 && places.length <= 2 ? places : [];
}

const startsWith = (path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean => prefix.length <= path.length && prefix.every((segment, index) => String(segment) === String(path[index]));

/**
 * The environment variable to blame for an issue, if any: the one that set the key itself, else
 * one that set a key inside the section a rule checks (min/max of a range), else one that set a
 * key the rule names as related (a cross-field rule).
 */
function blame(issue: z.core.$ZodIssue, applied: readonly AppliedOverride[]): AppliedOverride | undefined {
  const last = (matches: readonly AppliedOverride[]) => matches[matches.length - 1];
  const direct = last(applied.filter((o) => startsWith(issue.path, o.path)));
  if (direct !== undefined || issue.code !== 'custom') return direct;
  const inside = issue.path.length > 0 ? last(applied.filter((o) => startsWith(o.path, issue.path))) : undefined;
  if (inside !== undefined) return inside;
  const related: unknown = issue.params?.['related'];
  if (!Array.isArray(related)) return undefined;
  return last(applied.filter((o) => related.includes(o.path.join('.'))));
}

/**
 * Turns zod's issues into {@link ConfigIssue}s: dotted paths, one issue per unknown key (with a
 * suggestion), what was received (never for secrets), the file position, and the environment
 * variable when one caused the issue.
 */
export function translateIssues(issues: readonly z.core.$ZodIssue[], context: IssueContext): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const fromFile = (segments: readonly PropertyKey[], key: boolean) => {
    const position = context.locate(segments, key);
    return { source: context.source, ...(position === undefined ? {} : { line: position.line, column: position.column }) };
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length === 0 ? 'the top level' : formatKeyPath(issue.path);
      for (const key of issue.keys) {
        const suggestion = suggestKey(key, keysAt(issue.path));
        const elsewhere = suggestion === undefined ? placesOf(key) : [];
        const tip = suggestion !== undefined ? `; did you mean "${suggestion}"?` : elsewhere.length > 0 ? `; did you mean ${elsewhere.join(' or ')}?` : '';
        const message = `unknown key "${key}" at ${where}${tip}`;
        const path = [...issue.path, key];
        out.push({ code: 'unknown_key', path: formatKeyPath(path), message, ...fromFile(path, true) });
      }
      continue;
    }
    const path = formatKeyPath(issue.path);
    const message = `${issue.message}${received(issue)}${hint(issue)}`;
    const culprit = blame(issue, context.applied);
    if (culprit !== undefined) {
      out.push({
        code: 'invalid_value',
        path,
        message,
        source: environmentSource,
        variable: culprit.variable,
        value: maskUrlPassword(culprit.value),
        variablePath: culprit.variablePath,
      });
    } else {
      out.push({ code: 'invalid_value', path, message, ...fromFile(issue.path, false) });
    }
  }
  return out;
}
