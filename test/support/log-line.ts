/**
 * Waiting for a server to come up by an event, not a deadline: the line it logs once it listens.
 * The log file is watched (inotify), read from `fromByte` on every change, and the wait ends when
 * the line appears or the process exits, whichever comes first. Nothing here is timed: a server
 * that never logs the line is ended by vitest's test/hook timeout (docs/testing.md).
 */
import { watch } from 'node:fs';
import { readFrom } from './log-file.js';

/**
 * Resolves `'logged'` once `pattern` matches the text written to `path` after `fromByte`, or
 * `'exited'` when `exited` settles first (the log is checked once more then, so a line written just
 * before the exit still counts).
 */
export function waitForLogLine(path: string, pattern: RegExp, fromByte: number, exited: Promise<unknown>): Promise<'logged' | 'exited'> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: 'logged' | 'exited'): void => {
      if (settled) return;
      settled = true;
      watcher.close();
      resolve(outcome);
    };
    const check = (): void => {
      if (!settled && pattern.test(readFrom(path, fromByte))) finish('logged');
    };
    // Persistent: outside vitest (bench/scale.ts) the watch is what keeps the process alive while it waits.
    const watcher = watch(path, check);
    watcher.on('error', (error) => {
      if (settled) return;
      settled = true;
      watcher.close();
      reject(error);
    });
    void exited.then(() => {
      check();
      finish('exited');
    });
    // The line may have been written before the watch began.
    check();
  });
}
