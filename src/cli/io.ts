/** Where a command writes. Injected so that commands can be tested without a process. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A subcommand: takes its own arguments, returns the process exit code (-1: keeps running, as `serve`). */
export type Command = (args: readonly string[], io: CliIo) => Promise<number>;

/** The command did what it was asked. */
export const exitOk = 0;
/** A run-time or configuration failure: an invalid configuration, a file that cannot be read or written, a failed run. */
export const exitFailure = 1;
/** Bad usage: an unknown command, an unknown, repeated or missing flag, or a flag value of the wrong form (sysexits' EX_USAGE). */
export const exitUsage = 2;

/** The "Exit codes" paragraph of a command's --help; `failure` says what makes that command exit 1. */
export function exitCodesHelp(failure: string): string {
  return `Exit codes:
  0  success
  1  ${failure}
  2  bad usage: an unknown, repeated or missing flag, or a flag value of the wrong form
`;
}
