import { randomBytes } from 'node:crypto';
import { chmod, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// The one way Foresight writes a file that must survive a crash whole: models, optimizer
// observations, and the local PKI's keys, certificates and kubeconfig.

/** Options of {@link writeDurably} and {@link replaceAtomically}. */
export interface DurableWriteOptions {
  /** File mode, set exactly (whatever the umask), e.g. 0o600 for a private key. */
  readonly mode?: number;
}

/** Writes a file and flushes it to disk before resolving, so a rename after it publishes complete data. */
export async function writeDurably(path: string, data: string | Uint8Array, options: DurableWriteOptions = {}): Promise<void> {
  const handle = await open(path, 'w', options.mode);
  try {
    // Before any byte is written: a private key is never readable by others, not even for a moment.
    if (options.mode !== undefined) await chmod(path, options.mode);
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The prefix of the temporary files {@link replaceAtomically} writes next to `path` (left behind only by a crash). */
export function temporaryPrefix(path: string): string {
  return `.${basename(path)}.tmp-`;
}

/**
 * Replaces a file's content atomically: writes a temporary file in the same folder (a rename is
 * only atomic within one file system), flushes it, renames it over `path`, and flushes the folder
 * so the rename itself survives a crash. A reader sees the old content or the new, never a mix; a
 * crash leaves at most a `.<name>.tmp-*` file beside it.
 */
export async function replaceAtomically(path: string, data: string | Uint8Array, options: DurableWriteOptions = {}): Promise<void> {
  const temporary = join(dirname(path), `${temporaryPrefix(path)}${randomBytes(4).toString('hex')}`);
  try {
    await writeDurably(temporary, data, options);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncFolder(dirname(path));
}

/**
 * Flushes a folder's entries (the rename above) to disk. Without it a crash shortly after the
 * rename can bring the old content back. File systems that cannot fsync a folder (EINVAL, EISDIR on
 * some platforms) are left as they are: the data file itself is already on disk.
 */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await handle.close();
  }
}
