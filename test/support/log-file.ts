// The log file of a server a test started (its stdout and stderr): its size, to read only what a
// run wrote; what was written from a byte on, to wait for a line (log-line.ts); and its tail, for
// failure messages. Each returns an empty answer when the file cannot be read.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The text of `path` from byte `startOf(size)` to its current end ('' when it cannot be read). */
function readPart(path: string, startOf: (size: number) => number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = startOf(size);
    const length = Math.max(0, size - start);
    const buffer = Buffer.alloc(length);
    const read = length === 0 ? 0 : readSync(fd, buffer, 0, length, start);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The text of `path` from `fromByte` on. */
export function readFrom(path: string, fromByte: number): string {
  return readPart(path, () => fromByte);
}

/** The last `lines` lines of a file from byte `from` on; reads at most the final 64 KiB. */
export function readTail(path: string, lines: number, from = 0): string {
  return readPart(path, (size) => Math.max(from, size - 64 * 1024))
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .join('\n');
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
