import type { Result } from '../core/index.js';

/** Flags as given: each `--flag value` or `--flag=value` once, and the boolean switches present. */
export interface GivenFlags {
  readonly values: ReadonlyMap<string, string>;
  readonly switches: ReadonlySet<string>;
}

/**
 * The flag grammar every file-processing command shares: `--flag value` or `--flag=value`, each at
 * most once; the `switches` take no value; `--help`/`-h` anywhere asks for help. Unknown arguments
 * and a flag without its value are errors that name the argument.
 */
export function parseFlags(args: readonly string[], valued: readonly string[], switches: readonly string[] = []): Result<GivenFlags | 'help', string> {
  const values = new Map<string, string>();
  const present = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') return { ok: true, value: 'help' };
    if (switches.includes(arg)) {
      present.add(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const flag = arg.startsWith('--') && equals > 0 ? arg.slice(0, equals) : arg;
    if (!valued.includes(flag)) return { ok: false, error: `unknown argument "${arg}"` };
    let value: string | undefined;
    if (flag !== arg) value = arg.slice(equals + 1);
    else {
      value = args[i + 1];
      if (value === undefined || value.startsWith('--')) return { ok: false, error: `${flag} needs a value` };
      i++;
    }
    if (values.has(flag)) return { ok: false, error: `${flag} is given twice` };
    values.set(flag, value);
  }
  return { ok: true, value: { values, switches: present } };
}
