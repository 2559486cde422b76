import { ForesightError } from '../core/index.js';

/**
 * What kind of problem a {@link ConfigIssue} is.
 * - `file_unreadable`: the file could not be read (missing, a folder, no permission).
 * - `yaml_syntax`: the file is not valid YAML (the issue carries line and column).
 * - `unknown_key`: a key the schema does not know, usually a typo.
 * - `invalid_value`: a value of the wrong type or out of range, or two keys that disagree.
 * - `invalid_environment`: an environment variable whose text does not parse (not a number, not a boolean).
 */
export type ConfigIssueCode = 'file_unreadable' | 'yaml_syntax' | 'unknown_key' | 'invalid_value' | 'invalid_environment';

/** The `source` of an issue that an environment variable caused. */
export const environmentSource = 'environment';

/**
 * One problem with the configuration. `path` is the dotted key path with array indices
 * (`queues[1].threshold`), or "" for the file as a whole; `message` says what was expected.
 */
export interface ConfigIssue {
  /** What kind of problem this is. */
  readonly code: ConfigIssueCode;
  /** Dotted key path with array indices, e.g. `scaling.resources.worker_processes.max`; "" for the whole file. */
  readonly path: string;
  /** What is wrong and what was expected, e.g. `expected number, received string "lots"`. */
  readonly message: string;
  /** The file name as given, "environment" when an environment variable caused it, or "defaults" without a file. */
  readonly source: string;
  /** The environment variable that caused the issue (only when `source` is "environment"). */
  readonly variable?: string;
  /** The variable's text as set (only when `variable` is set). */
  readonly value?: string;
  /** The config path the variable sets; the rendered line leaves out `path` when it is this one. */
  readonly variablePath?: string;
  /** 1-based line in the file where the offending key or value is, when known. */
  readonly line?: number;
  /** 1-based column in the file, when known. */
  readonly column?: number;
}

/** Hides the password of a URL with credentials (`http://user:secret@host` → `http://user:<redacted>@host`). */
export function maskUrlPassword(text: string): string {
  return text.replace(/(\/\/[^/@:\s]*):[^/@\s]+@/g, '$1:<redacted>@');
}

/**
 * Renders one issue as one line, naming where it comes from first:
 * `config.yaml: queues[1].threshold: expected number, received string "lots" (line 12, column 16)`,
 * `config.yaml: unknown key "foo" at source.prometheus (line 4, column 5)`,
 * `environment SCALING_WORKER_MAX=abc: expected a whole number`.
 */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.variable === undefined ? issue.source : `${environmentSource} ${issue.variable}=${maskUrlPassword(issue.value ?? '')}`;
  // These messages name their own place, and an environment variable already names its key.
  const selfLocated =
    issue.code === 'unknown_key' || issue.code === 'yaml_syntax' || issue.code === 'file_unreadable' || issue.path === '' || (issue.variable !== undefined && issue.path === issue.variablePath);
  const body = selfLocated ? issue.message : `${issue.path}: ${issue.message}`;
  const located = issue.code !== 'yaml_syntax' && issue.variable === undefined && issue.line !== undefined;
  const position = located ? ` (line ${issue.line}, column ${issue.column ?? 1})` : '';
  return `${where}: ${body}${position}`;
}

/**
 * The configuration (file, environment or both) is invalid. The message has one line per issue,
 * each naming the file or environment variable, the key path and what was expected; `issues`
 * has the same facts as data. Nothing was applied.
 */
export class ConfigError extends ForesightError {
  override readonly name: string = 'ConfigError';
  /** Every problem found, in file order, then environment problems. Never empty. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super('FORESIGHT_ERR_CONFIG_INVALID', issues.map(formatConfigIssue).join('\n'), options);
    this.issues = Object.freeze([...issues]);
  }
}

/** True for a {@link ConfigError} (works across module copies, like `isForesightError`). */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && error.name === 'ConfigError' && Array.isArray((error as Error & { issues?: unknown }).issues);
}

/**
 * A report of a configuration error for a person at a terminal or in a log: a heading with the
 * number of problems, one indented line per issue, and where to read about the keys.
 */
export function describeConfigError(error: ConfigError): string {
  const count = error.issues.length;
  const heading = `the configuration is invalid (${count} ${count === 1 ? 'problem' : 'problems'}):`;
  const lines = error.issues.map((issue) => `  ${formatConfigIssue(issue)}`);
  return [heading, ...lines, 'Every key and environment variable is described in docs/configuration.md.'].join('\n');
}
