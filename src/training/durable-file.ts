import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes a file and flushes it to disk before resolving, so a rename after it publishes complete data. */
export async function writeDurably(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
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
 * only atomic within one file system), flushes it, and renames it over `path`. A reader sees the
 * old content or the new, never a mix; a crash leaves at most a `.<name>.tmp-*` file beside it.
 */
export async function replaceAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `${temporaryPrefix(path)}${randomBytes(4).toString('hex')}`);
  try {
    await writeDurably(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
