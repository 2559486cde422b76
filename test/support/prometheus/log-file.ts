// The log file of a test Prometheus (its stdout and stderr): its size, to read only what a run
// wrote, and its tail, for failure messages.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The last `lines` lines of a file from byte `from` on; reads at most the final 64 KiB. */
export function readTail(path: string, lines: number, from = 0): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - 64 * 1024);
    const length = Math.max(0, size - start);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, start);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

/** The size of a file, 0 when it does not exist yet. */
export function fileSize(path: string): number {
  try {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}
