/**
 * The one reader of small untrusted files (core/small-file.ts): each refusal, with the error's
 * code and a message naming what the file is for and its path, and the Kubernetes Secret layout
 * (files that are links into `..data/`) read when links are followed.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSmallFile, maxPemFileBytes, readPemFile, readSmallFile, SmallFileError, type SmallFileOptions } from '../../../src/core/index.js';

const what = 'the test token';
const refuse: SmallFileOptions = { maxBytes: 16, what };
const follow: SmallFileOptions = { maxBytes: 16, what, symlinks: 'follow' };

async function refusal(run: () => Promise<unknown>): Promise<SmallFileError> {
  const error = await run().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SmallFileError);
  return error as SmallFileError;
}

describe('readSmallFile', () => {
  let dir: string;
  const at = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-small-file-'));
    await writeFile(at('full'), 'x'.repeat(16));
    await writeFile(at('over'), 'x'.repeat(17));
    await mkdir(at('folder'));
    expect(spawnSync('mkfifo', [at('fifo')]).status).toBe(0);
    await symlink(at('full'), at('link'));
    await symlink(at('folder'), at('link-to-folder'));
    await symlink(at('absent'), at('dangling'));
    // A Secret as the kubelet mounts it: a timestamped folder, `..data` linking to it, each key linking through `..data`.
    await mkdir(at('secret/..2024_01_01_00_00_00.1'), { recursive: true });
    await writeFile(at('secret/..2024_01_01_00_00_00.1/token'), 'secret-token\n');
    await symlink('..2024_01_01_00_00_00.1', at('secret/..data'));
    await symlink('..data/token', at('secret/token'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a regular file of exactly the cap', async () => {
    expect((await readSmallFile(at('full'), refuse)).toString('utf8')).toBe('x'.repeat(16));
  });

  it('refuses a file over the cap unread, naming its size and the cap', async () => {
    const error = await refusal(() => readSmallFile(at('over'), refuse));
    expect(error).toMatchObject({ code: 'FORESIGHT_ERR_FILE_REFUSED', missing: false, message: `${what} ${at('over')} is 17 bytes, more than the 16 allowed` });
  });

  it('says a missing file is missing', async () => {
    const error = await refusal(() => readSmallFile(at('absent'), refuse));
    expect(error).toMatchObject({ code: 'FORESIGHT_ERR_FILE_MISSING', missing: true });
    expect(error.message).toContain(`cannot read ${what} ${at('absent')}: ENOENT`);
  });

  it('refuses a folder as not a regular file', async () => {
    const error = await refusal(() => readSmallFile(at('folder'), refuse));
    expect(error).toMatchObject({ code: 'FORESIGHT_ERR_FILE_REFUSED', message: `${what} ${at('folder')} is not a regular file` });
  });

  it('refuses a FIFO as not a regular file (reading it would block forever)', async () => {
    const error = await refusal(() => readSmallFile(at('fifo'), follow));
    expect(error).toMatchObject({ code: 'FORESIGHT_ERR_FILE_REFUSED', message: `${what} ${at('fifo')} is not a regular file` });
  });

  it('refuses a symbolic link by default, even to a good file', async () => {
    const error = await refusal(() => readSmallFile(at('link'), refuse));
    expect(error).toMatchObject({ code: 'FORESIGHT_ERR_FILE_REFUSED', message: `${what} ${at('link')} is a symbolic link, which Foresight does not follow here` });
  });

  it('follows a link when asked, and checks its target', async () => {
    expect((await readSmallFile(at('link'), follow)).toString('utf8')).toBe('x'.repeat(16));
    expect(await refusal(() => readSmallFile(at('link-to-folder'), follow))).toMatchObject({ message: `${what} ${at('link-to-folder')} is not a regular file` });
    expect(await refusal(() => readSmallFile(at('dangling'), follow))).toMatchObject({ code: 'FORESIGHT_ERR_FILE_MISSING', missing: true });
  });

  it('reads a file mounted from a Kubernetes Secret (a link through ..data) when links are followed', async () => {
    expect((await readSmallFile(at('secret/token'), follow)).toString('utf8')).toBe('secret-token\n');
    expect(await refusal(() => readSmallFile(at('secret/token'), refuse))).toMatchObject({ message: expect.stringContaining('is a symbolic link') });
  });

  it('checkSmallFile applies the same checks without reading, and gives the stats of a link target', async () => {
    expect((await checkSmallFile(at('secret/token'), follow)).size).toBe('secret-token\n'.length);
    expect(await refusal(() => checkSmallFile(at('over'), refuse))).toMatchObject({ message: expect.stringContaining('more than the 16 allowed') });
    expect(await refusal(() => checkSmallFile(at('link'), refuse))).toMatchObject({ message: expect.stringContaining('is a symbolic link') });
  });

  it('readPemFile follows links and caps at maxPemFileBytes', async () => {
    await writeFile(at('big.pem'), Buffer.alloc(maxPemFileBytes + 1, 0x41));
    await symlink('big.pem', at('big-link.pem'));
    expect(await refusal(() => readPemFile(at('big-link.pem'), 'server.tls.certFile'))).toMatchObject({
      message: `server.tls.certFile ${at('big-link.pem')} is ${maxPemFileBytes + 1} bytes, more than the ${maxPemFileBytes} allowed`,
    });
    expect((await readPemFile(at('secret/token'), 'server.tls.certFile')).toString('utf8')).toBe('secret-token\n');
  });
});
