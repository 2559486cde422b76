import { z } from 'zod';
import { formatDuration } from '../core/index.js';
import { environmentVariables } from './env.js';
import { configSchema, durationSchema } from './schema.js';

/**
 * One documented configuration key, read from the schema itself so that the reference in
 * docs/configuration.md cannot drift from what the loader accepts.
 */
export interface ConfigKeyReference {
  /** Dotted path; list items are written `queues[].name`. */
  readonly path: string;
  /** What the key takes: "string", "integer", "duration", "URL", "one of: a, b", "list of duration", "section"... */
  readonly type: string;
  /** The default as it would be written in the file ("15m", "info", 8000; list items one per line), or undefined when there is none. */
  readonly defaultText: string | undefined;
  /** True when the key has no default and must be written (only inside list items). */
  readonly required: boolean;
  /** The schema's `.describe()` text. */
  readonly description: string;
}

/** A schema with its wrappers (default, prefault, optional) peeled off, and what they said. */
interface Peeled {
  readonly core: z.core.$ZodType;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  readonly optional: boolean;
  readonly description: string | undefined;
}

function peel(schema: z.core.$ZodType): Peeled {
  let current: z.core.$ZodType = schema;
  let description: string | undefined;
  let hasDefault = false;
  let defaultValue: unknown;
  let optional = false;
  for (;;) {
    // The outermost description wins: `.describe()` is written after `.default()` in the schema.
    description ??= z.globalRegistry.get(current)?.description;
    if (current instanceof z.ZodDefault) {
      hasDefault = true;
      defaultValue = current.def.defaultValue;
      current = current.unwrap();
    } else if (current instanceof z.ZodPrefault || current instanceof z.ZodOptional) {
      // A prefault of {} on a section means "every key inside takes its own default", not a value.
      if (current instanceof z.ZodOptional) optional = true;
      current = current.unwrap();
    } else {
      return { core: current, hasDefault, defaultValue, optional, description };
    }
  }
}

function typeName(core: z.core.$ZodType): string {
  if (core === durationSchema) return 'duration';
  if (core instanceof z.ZodURL) return 'URL';
  if (core instanceof z.ZodString) return 'string';
  if (core instanceof z.ZodNumber) return core.isInt ? 'integer' : 'number';
  if (core instanceof z.ZodBoolean) return 'boolean';
  if (core instanceof z.ZodEnum) return `one of: ${core.options.join(', ')}`;
  if (core instanceof z.ZodRecord) return 'map of string to string';
  if (core instanceof z.ZodObject) return 'section';
  if (core instanceof z.ZodArray) {
    const element = peel(core.element).core;
    // A list of sections has its item keys in rows of their own (`queues[].name`).
    return element instanceof z.ZodObject ? 'list' : `list of ${typeName(element)}`;
  }
  return 'value';
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Writes a default value the way a user would write it in YAML (durations as "15m"). */
function defaultText(value: unknown, core: z.core.$ZodType): string {
  if (core === durationSchema && typeof value === 'number') return formatDuration(value);
  if (core instanceof z.ZodArray && Array.isArray(value)) {
    const element = peel(core.element).core;
    const items = value.map((item: unknown) => defaultText(item, element));
    // Sections one per line, so that a long default stays readable.
    return element instanceof z.ZodObject ? items.join('\n') : `[${items.join(', ')}]`;
  }
  if (isPlainObject(value)) {
    return `{${Object.entries(value)
      .map(([key, item]) => `${key}: ${defaultText(item, z.unknown())}`)
      .join(', ')}}`;
  }
  if (typeof value === 'string') return value === '' ? '""' : value;
  return String(value);
}

function walk(schema: z.core.$ZodType, path: string, out: ConfigKeyReference[]): void {
  const peeled = peel(schema);
  const { core } = peeled;
  const elementCore = core instanceof z.ZodArray ? peel(core.element).core : undefined;
  const isSection = core instanceof z.ZodObject;
  if (path !== '') {
    out.push({
      path,
      type: typeName(core),
      defaultText: peeled.hasDefault && !isSection ? defaultText(peeled.defaultValue, core) : undefined,
      required: !peeled.hasDefault && !peeled.optional && !isSection,
      description: peeled.description ?? '',
    });
  }
  if (core instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(core.shape as Record<string, z.core.$ZodType>)) walk(child, path === '' ? key : `${path}.${key}`, out);
  } else if (core instanceof z.ZodArray && elementCore instanceof z.ZodObject) {
    // The list's own row describes its items; their keys follow as `queues[].name`.
    for (const [key, child] of Object.entries(elementCore.shape as Record<string, z.core.$ZodType>)) walk(child, `${path}[].${key}`, out);
  }
}

let cachedReference: readonly ConfigKeyReference[] | undefined;

/** Every configuration key with its type, default and description, in schema order. */
export function configKeyReference(): readonly ConfigKeyReference[] {
  if (cachedReference === undefined) {
    const out: ConfigKeyReference[] = [];
    walk(configSchema, '', out);
    cachedReference = Object.freeze(out.map((row) => Object.freeze(row)));
  }
  return cachedReference;
}

/**
 * The keys a section accepts, for the section at `segments` (numbers step into list items).
 * Empty when the path does not lead to a section. Used to suggest a key for a typo.
 */
export function keysAt(segments: readonly PropertyKey[]): readonly string[] {
  let core = peel(configSchema).core;
  for (const segment of segments) {
    if (core instanceof z.ZodObject && typeof segment === 'string') {
      const child = (core.shape as Record<string, z.core.$ZodType | undefined>)[segment];
      if (child === undefined) return [];
      core = peel(child).core;
    } else if (core instanceof z.ZodArray && typeof segment === 'number') {
      core = peel(core.element).core;
    } else {
      return [];
    }
  }
  return core instanceof z.ZodObject ? Object.keys(core.shape) : [];
}

/** Makes text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** A code span that survives backticks in the text. */
function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** The key table of docs/configuration.md: key, type, default and description of every key. */
export function renderConfigKeysMarkdown(): string {
  const rows = configKeyReference().map((row) => {
    const defaultCell = row.defaultText === undefined ? (row.required ? 'required' : '') : row.defaultText.split('\n').map(code).join('<br>');
    return `| ${cell(code(row.path))} | ${cell(row.type)} | ${cell(defaultCell)} | ${cell(row.description)} |`;
  });
  return ['| Key | Type | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** The environment variable table of docs/configuration.md. */
export function renderEnvironmentMarkdown(): string {
  const rows = environmentVariables.map((v) => `| ${code(v.name)} | ${cell(v.configPaths.map(code).join(', '))} | ${cell(v.accepts)} | ${cell(v.meaning)} |`);
  return ['| Variable | Sets | Accepts | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}
