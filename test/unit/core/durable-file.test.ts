import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaceAtomically } from '../../../src/core/index.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foresight-durable-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('replaceAtomically', () => {
  it('replaces the content whole, with the mode asked for, and leaves no temporary file', async () => {
    const path = join(dir, 'ca.key');
    await writeFile(path, 'old', { mode: 0o644 });
    await replaceAtomically(path, 'new key', { mode: 0o600 });
    expect(await readFile(path, 'utf8')).toBe('new key');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['ca.key']);
  });

  it('leaves the old file and no temporary file when the write fails', async () => {
    const path = join(dir, 'missing-folder', 'file');
    await expect(replaceAtomically(path, 'x')).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});
