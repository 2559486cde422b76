/** Where a command writes. Injected so that commands can be tested without a process. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A subcommand: takes its own arguments, returns the process exit code. */
export type Command = (args: readonly string[], io: CliIo) => Promise<number>;

/** The exit code for bad usage (wrong flags, unreadable input), as in sysexits' EX_USAGE. */
export const exitUsage = 2;
