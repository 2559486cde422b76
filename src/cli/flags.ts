import { parseArgs } from 'node:util';
import { messageOf, type Result } from '../core/index.js';

/** One flag of a command: `--name VALUE` (string) or `--name` (boolean); `multiple` may repeat. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
}

/** The values of the flags given, typed from their specs; a flag not given is absent. */
export type FlagValues<S extends Readonly<Record<string, FlagSpec>>> = {
  readonly [K in keyof S]?: S[K]['type'] extends 'boolean' ? (S[K]['multiple'] extends true ? boolean[] : boolean) : S[K]['multiple'] extends true ? string[] : string;
};

/** A Node parseArgs error, reworded to name the flag the way the rest of the messages do. */
function reword(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = messageOf(error);
  const flag = /'(-[^' ]*)/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option "${flag}"`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${/'([^']*)'/.exec(message)?.[1] ?? ''}": every argument is a --flag`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('does not take an argument')) return `${flag} takes no value`;
      if (message.includes('ambiguous')) return `${flag} needs a value (write a value that starts with "-" as ${flag}=-5)`;
      return `${flag} needs a value`;
    default:
      return message.split('\n')[0]!;
  }
}

/**
 * The flag grammar of every command, on Node's own `parseArgs` (strict): `--flag value` or
 * `--flag=value`; the boolean flags take no value; `--help`/`-h` anywhere asks for help. Unknown
 * flags, positional arguments, a flag without its value and a flag given twice (unless `multiple`)
 * are errors that name the flag. Checking the values is the command's job.
 */
export function parseFlags<const S extends Readonly<Record<string, FlagSpec>>>(args: readonly string[], spec: S): Result<FlagValues<S> | 'help', string> {
  const end = args.indexOf('--');
  if ((end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h')) return { ok: true, value: 'help' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: { ...spec }, strict: true, allowPositionals: false, tokens: true });
  } catch (error) {
    return { ok: false, error: reword(error) };
  }
  // parseArgs keeps the last of a repeated flag; a command line that says two things is a mistake.
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option' || spec[token.name]?.multiple === true) continue;
    if (seen.has(token.name)) return { ok: false, error: `${token.rawName} is given twice` };
    seen.add(token.name);
  }
  return { ok: true, value: parsed.values as FlagValues<S> };
}
