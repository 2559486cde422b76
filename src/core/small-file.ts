import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, stat } from 'node:fs/promises';
import { ForesightError, messageOf } from './errors.js';

// The one way Foresight reads a small file it does not trust: a token or password, a certificate,
// key or CA bundle, a model file, the optimizer's log. Refused unread: anything but a regular file
// (a FIFO would block the read forever, a device never ends), a file over its cap (it would be
// loaded whole, often on every request), and, where the caller asks, a symbolic link. The cap is
// checked before opening, again on the open file, and while reading, so a file swapped or grown
// in between is refused too. Errors name what the file is for and its path, never its content.

/** How {@link readSmallFile} treats a file. */
export interface SmallFileOptions {
  /** The largest size accepted, in bytes. */
  readonly maxBytes: number;
  /** What the file is for, named first in every error: `server.auth.bearerTokenFile`, `the model pointer`. */
  readonly what: string;
  /**
   * `refuse` (the default): a symbolic link is refused (`lstat`, then O_NOFOLLOW on open), for the
   * files Foresight wrote itself. `follow`: the link's target is checked instead, for files an
   * operator mounts: Kubernetes mounts a Secret's or ConfigMap's files as links into its `..data/`.
   */
  readonly symlinks?: 'refuse' | 'follow';
}

/** A small file that cannot be read or is refused; the message names what it is for and its path. */
export class SmallFileError extends ForesightError {
  override readonly name: string = 'SmallFileError';
  /** True when the file (or a folder on its way) does not exist; false when it exists and is refused or unreadable. */
  readonly missing: boolean;

  constructor(message: string, missing = false, options?: { cause?: unknown }) {
    super(missing ? 'FORESIGHT_ERR_FILE_MISSING' : 'FORESIGHT_ERR_FILE_REFUSED', message, options);
    this.missing = missing;
  }
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

function unreadable(error: unknown, path: string, options: SmallFileOptions): SmallFileError {
  if (errorCode(error) === 'ELOOP' && options.symlinks !== 'follow') return symbolicLink(path, options);
  return new SmallFileError(`cannot read ${options.what} ${path}: ${messageOf(error)}`, errorCode(error) === 'ENOENT', { cause: error });
}

function symbolicLink(path: string, options: SmallFileOptions): SmallFileError {
  return new SmallFileError(`${options.what} ${path} is a symbolic link, which Foresight does not follow here`);
}

/** Refuses `info` unless it is a regular file within the cap. */
function checkStats(info: Stats, path: string, options: SmallFileOptions): Stats {
  if (info.isSymbolicLink()) throw symbolicLink(path, options);
  if (!info.isFile()) throw new SmallFileError(`${options.what} ${path} is not a regular file`);
  if (info.size > options.maxBytes) throw new SmallFileError(`${options.what} ${path} is ${info.size} bytes, more than the ${options.maxBytes} allowed`);
  return info;
}

/**
 * The checks of {@link readSmallFile} without reading: the file's `Stats` (of the link's target
 * with `symlinks: 'follow'`), for a caller that reads again only when the file changed.
 *
 * @throws SmallFileError naming `options.what` and the path.
 */
export async function checkSmallFile(path: string, options: SmallFileOptions): Promise<Stats> {
  let info: Stats;
  try {
    info = options.symlinks === 'follow' ? await stat(path) : await lstat(path);
  } catch (error) {
    throw unreadable(error, path, options);
  }
  return checkStats(info, path, options);
}

/**
 * Reads a small file whole (see the module comment): at most `options.maxBytes` bytes.
 *
 * @throws SmallFileError naming `options.what` and the path; `missing` is true when it does not exist.
 */
export async function readSmallFile(path: string, options: SmallFileOptions): Promise<Buffer> {
  await checkSmallFile(path, options);
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO swapped in since the check must not block the open.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | (options.symlinks === 'follow' ? 0 : constants.O_NOFOLLOW));
  } catch (error) {
    throw unreadable(error, path, options);
  }
  try {
    // Checked again on the open file: it may have been swapped since the first check.
    const info = checkStats(await handle.stat(), path, options);
    // One byte more than the file had is asked for, so that a file growing while read is caught.
    const buffer = Buffer.alloc(info.size + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buffer.length) throw new SmallFileError(`${options.what} ${path} grew while being read, past the ${info.size} bytes it had`);
    }
    return buffer.subarray(0, filled);
  } catch (error) {
    throw error instanceof SmallFileError ? error : unreadable(error, path, options);
  } finally {
    await handle.close();
  }
}

/** A certificate chain, private key or CA bundle is a few KB; a file over 1 MiB is not one. */
export const maxPemFileBytes = 1 << 20;

/**
 * Reads a PEM file (certificate, key, CA bundle) of at most {@link maxPemFileBytes}. Links are
 * followed: these files are mounted from Secrets, whose files are links into the `..data` folder.
 *
 * @throws SmallFileError naming `what` and the path.
 */
export function readPemFile(path: string, what: string): Promise<Buffer> {
  return readSmallFile(path, { maxBytes: maxPemFileBytes, what, symlinks: 'follow' });
}
