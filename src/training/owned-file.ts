/**
 * Reading files from the folders Foresight owns (the model store, the optimizer's observations)
 * without trusting what is in them: a plain file name (no `/`, no `..`), no symbolic link (each
 * folder between the owned root and the file is checked with `lstat`; the file itself is read by
 * core's readSmallFile, which refuses a link, anything but a regular file, and a file over its
 * cap). Errors name the path and what is wrong, never the file's content.
 */
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { readSmallFile, SmallFileError } from '../core/index.js';

/** A file name we accept inside an owned folder: letters, digits, `.`, `_`, `-`; not `.` or `..`. */
const plainName = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;

/** True when `name` is a plain file name (no path). */
export function isPlainName(name: string): boolean {
  return plainName.test(name);
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

/**
 * Checks that every folder from `root` (excluded: the operator chose it, and a mounted volume may
 * be a link) down to `dir` is a real folder, not a link.
 *
 * @throws SmallFileError (`missing` when a folder does not exist).
 */
export async function checkOwnedDir(root: string, dir: string): Promise<void> {
  const rest = relative(root, dir);
  if (rest.startsWith('..') || rest.split(sep).some((part) => part === '..')) throw new SmallFileError(`${dir} is outside ${root}`);
  let current = root;
  for (const part of rest === '' ? [] : rest.split(sep)) {
    current = join(current, part);
    let info: Stats;
    try {
      info = await lstat(current);
    } catch (error) {
      if (isMissing(error)) throw new SmallFileError(`${current} does not exist`, true);
      throw error;
    }
    if (info.isSymbolicLink()) throw new SmallFileError(`${current} is a symbolic link; Foresight reads only the folders it wrote`);
    if (!info.isDirectory()) throw new SmallFileError(`${current} is not a folder`);
  }
}

/**
 * Reads `dir/name` (see the module comment) into a buffer of at most `maxBytes`; `what` says what
 * the file is, for errors. `dir` must already be checked with {@link checkOwnedDir}.
 *
 * @throws SmallFileError (`missing` when the file does not exist).
 */
export async function readOwnedFile(dir: string, name: string, maxBytes: number, what: string): Promise<Buffer> {
  if (!isPlainName(name)) throw new SmallFileError(`${join(dir, '…')}: ${JSON.stringify(name.slice(0, 60))} is not a plain file name`);
  return readSmallFile(join(dir, name), { maxBytes, what, symlinks: 'refuse' });
}
