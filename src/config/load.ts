import { readFileSync } from 'node:fs';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import { err, ok, type Result, messageOf } from '../core/index.js';
import { ConfigError, environmentSource, type ConfigIssue } from './config-error.js';
import { applyEnvironment, environmentVariables } from './env.js';
import { configErrorMap, translateIssues, type FilePosition } from './issues.js';
import { configSchema, type Config } from './schema.js';

/** The environment, as `process.env` has it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Where the configuration comes from. */
export interface LoadConfigOptions {
  /** The YAML file (from `--config` or FORESIGHT_CONFIG; the caller chooses). None means all defaults. */
  readonly file?: string | undefined;
  /** Environment variables; those of `environmentVariables` override the file. */
  readonly env: Environment;
}

/** The same, with the file's text already read (the watcher reads it to see whether it changed). */
export interface LoadConfigTextOptions {
  /** The file's text; undefined or empty means all defaults. */
  readonly text: string | undefined;
  /** The file name, for messages only. */
  readonly file?: string | undefined;
  readonly env: Environment;
}

/** The source name used in messages when there is no file. */
const noFile = 'defaults';
// One broken line can cascade into many parse errors; the first few say all there is to say.
const maxSyntaxIssues = 5;
// Bounds alias expansion ("billion laughs"); a real config never comes close.
const maxAliasCount = 100;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Drops keys whose value is null, recursively. A key with nothing after it (`scaling:` with every
 * line below commented out) then means "not set", as it does in Prometheus' own config files.
 */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([key, item]) => (item === null ? [] : [[key, dropNulls(item)]])));
}

/** Freezes an object graph so that no consumer can change the configuration under another's feet. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** Finds a key path in the YAML document: the key itself, or its value. */
function locator(doc: Document, lines: LineCounter) {
  return (segments: readonly PropertyKey[], key: boolean): FilePosition | undefined => {
    let node: unknown = doc.contents;
    let offset: number | undefined;
    for (const [index, segment] of segments.entries()) {
      const last = index === segments.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (pair === undefined) break;
        offset = isNode(pair.key) ? (pair.key.range?.[0] ?? offset) : offset;
        if (last && !key && isNode(pair.value)) offset = pair.value.range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item: unknown = node.items[segment];
        if (!isNode(item)) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    // A path that is not in the file at all (a default) has no position; the key path says enough.
    if (offset === undefined) return undefined;
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
}

function syntaxIssue(file: string, error: YAMLError, lines: LineCounter): ConfigIssue {
  const { line, col } = lines.linePos(error.pos[0]);
  return { code: 'yaml_syntax', path: '', message: `YAML syntax error at line ${line}, column ${col}: ${error.message}`, source: file, line, column: col };
}

/** File issues first, by position (those without one last); then the environment, in table order. */
function byPlace(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const rank = (issue: ConfigIssue): readonly [number, number] =>
    issue.source === environmentSource ? [2, environmentVariables.findIndex((v) => v.name === issue.variable)] : issue.line === undefined ? [1, 0] : [0, issue.line * 1e6 + (issue.column ?? 0)];
  return [...issues].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    return ra[0] - rb[0] || ra[1] - rb[1];
  });
}

/**
 * Parses, overrides and validates configuration text: YAML → environment variables → schema →
 * a deep-frozen {@link Config}. Every problem is reported at once, each naming the file or the
 * environment variable, the key path and what was expected. Never throws.
 */
export function loadConfigFromText(options: LoadConfigTextOptions): Result<Config, ConfigError> {
  const file = options.file ?? noFile;
  let raw: Record<string, unknown> = {};
  let locate: (segments: readonly PropertyKey[], key: boolean) => FilePosition | undefined = () => undefined;

  if (options.text !== undefined && options.text.trim() !== '') {
    const lines = new LineCounter();
    // YAML 1.2 core schema (yes/no are text); duplicate keys are errors; `<<` merge keys are allowed
    // because Helm-style files use them to share blocks.
    const doc = parseDocument(options.text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
    // Warnings (an unknown !tag) are refused too: a strict config should not guess what was meant.
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) return err(new ConfigError(problems.slice(0, maxSyntaxIssues).map((e) => syntaxIssue(file, e, lines))));
    let parsed: unknown;
    try {
      parsed = doc.toJS({ maxAliasCount });
    } catch (cause) {
      // toJS throws for an alias without its anchor, or too many aliases.
      const message = `YAML error: ${messageOf(cause)}`;
      return err(new ConfigError([{ code: 'yaml_syntax', path: '', message, source: file }], { cause }));
    }
    parsed = dropNulls(parsed);
    if (parsed !== null && parsed !== undefined && !isPlainObject(parsed)) {
      const message = `expected a mapping of keys at the top level, received ${Array.isArray(parsed) ? 'a list' : typeof parsed}`;
      return err(new ConfigError([{ code: 'invalid_value', path: '', message, source: file, line: 1, column: 1 }]));
    }
    raw = parsed ?? {};
    locate = locator(doc, lines);
  }

  const overridden = applyEnvironment(raw, options.env);
  const result = configSchema.safeParse(overridden.input, { error: configErrorMap, reportInput: true });
  const schemaIssues = result.success ? [] : translateIssues(result.error.issues, { source: file, applied: overridden.applied, locate });
  const issues = byPlace([...schemaIssues, ...overridden.issues]);
  // No `cause` here: zod's error carries the raw input values, credentials included, and the
  // issues already say everything a reader needs.
  if (issues.length > 0) return err(new ConfigError(issues));
  if (!result.success) return err(new ConfigError([{ code: 'invalid_value', path: '', message: 'invalid configuration', source: file }]));
  // A clone first: zod hands out its default objects (the default queue list) by reference, and
  // freezing those would freeze them for every later parse in the process.
  return ok(deepFreeze(structuredClone(result.data)));
}

function readProblem(cause: unknown): string {
  const code = cause instanceof Error ? (cause as Error & { code?: unknown }).code : undefined;
  switch (code) {
    case 'ENOENT':
      return 'cannot read the file: it does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'cannot read the file: permission denied';
    case 'EISDIR':
      return 'cannot read the file: it is a folder';
    default:
      return `cannot read the file: ${messageOf(cause)}`;
  }
}

/** Reads a config file's text, or says why it cannot be read. */
export function readConfigText(file: string): Result<string, ConfigError> {
  try {
    return ok(readFileSync(file, 'utf8'));
  } catch (cause) {
    return err(new ConfigError([{ code: 'file_unreadable', path: '', message: readProblem(cause), source: file }], { cause }));
  }
}

/**
 * Loads the configuration: reads the YAML file if one is given, applies the environment
 * variables, validates, and returns a deep-frozen {@link Config} or a {@link ConfigError}
 * listing every problem. An empty file, or none, means all defaults. Never throws.
 */
export function loadConfig(options: LoadConfigOptions): Result<Config, ConfigError> {
  if (options.file === undefined) return loadConfigFromText({ text: undefined, env: options.env });
  const text = readConfigText(options.file);
  if (!text.ok) return text;
  return loadConfigFromText({ text: text.value, file: options.file, env: options.env });
}
