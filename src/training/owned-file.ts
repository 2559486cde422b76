/**
 * Reading files from the folders Foresight owns (the model store, the optimizer's observations)
 * without trusting what is in them: a plain file name (no `/`, no `..`), no symbolic link (the
 * file and each folder between the owned root and it are checked with `lstat`, and the file is
 * opened with O_NOFOLLOW, so a link swapped in between is refused too), a regular file (not a
 * device, FIFO or folder), and a size cap checked before reading and enforced while reading.
 * Errors name the path and what is wrong, never the file's content.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ForesightError } from '../core/index.js';

/** A file name we accept inside an owned folder: letters, digits, `.`, `_`, `-`; not `.` or `..`. */
const plainName = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;

/** True when `name` is a plain file name (no path). */
export function isPlainName(name: string): boolean {
  return plainName.test(name);
}

/** A refusal to read an owned file; the message names the path and the rule broken. */
export class OwnedFileError extends ForesightError {
  override readonly name: string = 'OwnedFileError';
  /** True when the file (or a folder on its way) does not exist; false when it exists and is refused. */
  readonly missing: boolean;

  constructor(message: string, missing = false) {
    super(missing ? 'FORESIGHT_ERR_FILE_MISSING' : 'FORESIGHT_ERR_FILE_REFUSED', message);
    this.missing = missing;
  }
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

/**
 * Checks that every folder from `root` (excluded: the operator chose it, and a mounted volume may
 * be a link) down to `dir` is a real folder, not a link.
 */
export async function checkOwnedDir(root: string, dir: string): Promise<void> {
  const rest = relative(root, dir);
  if (rest.startsWith('..') || rest.split(sep).some((part) => part === '..')) throw new OwnedFileError(`${dir} is outside ${root}`);
  let current = root;
  for (const part of rest === '' ? [] : rest.split(sep)) {
    current = join(current, part);
    let info: Stats;
    try {
      info = await lstat(current);
    } catch (error) {
      if (isMissing(error)) throw new OwnedFileError(`${current} does not exist`, true);
      throw error;
    }
    if (info.isSymbolicLink()) throw new OwnedFileError(`${current} is a symbolic link; Foresight reads only the folders it wrote`);
    if (!info.isDirectory()) throw new OwnedFileError(`${current} is not a folder`);
  }
}

/** The checks of a file before it is opened: plain name, not a link, regular, within the cap. */
export async function checkOwnedFile(dir: string, name: string, maxBytes: number): Promise<{ readonly path: string; readonly size: number }> {
  if (!isPlainName(name)) throw new OwnedFileError(`${join(dir, '…')}: ${JSON.stringify(name.slice(0, 60))} is not a plain file name`);
  const path = join(dir, name);
  let info: Stats;
  try {
    info = await lstat(path);
  } catch (error) {
    if (isMissing(error)) throw new OwnedFileError(`${path} does not exist`, true);
    throw error;
  }
  if (info.isSymbolicLink()) throw new OwnedFileError(`${path} is a symbolic link; Foresight reads only files it wrote`);
  if (!info.isFile()) throw new OwnedFileError(`${path} is not a regular file`);
  if (info.size > maxBytes) throw new OwnedFileError(`${path} is ${info.size} bytes, more than the ${maxBytes} allowed`);
  return { path, size: info.size };
}

/**
 * Reads `dir/name` (see the module comment) into a buffer of at most `maxBytes`. `dir` must
 * already be checked with {@link checkOwnedDir}.
 */
export async function readOwnedFile(dir: string, name: string, maxBytes: number): Promise<Buffer> {
  const { path } = await checkOwnedFile(dir, name, maxBytes);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ELOOP') throw new OwnedFileError(`${path} is a symbolic link; Foresight reads only files it wrote`);
    throw error;
  }
  try {
    // Checked again on the open file: it may have been swapped since the lstat.
    const info = await handle.stat();
    if (!info.isFile()) throw new OwnedFileError(`${path} is not a regular file`);
    if (info.size > maxBytes) throw new OwnedFileError(`${path} is ${info.size} bytes, more than the ${maxBytes} allowed`);
    // One byte more than allowed is asked for, so that a file growing while read is caught.
    const buffer = Buffer.alloc(Math.min(maxBytes, info.size) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buffer.length) throw new OwnedFileError(`${path} grew while being read, past the ${Math.min(maxBytes, info.size)} bytes it had`);
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
