/**
 * Issue 10 item 5, on real files: the model store and the optimizer's observation log refuse
 * symbolic links (files and folders), devices and FIFOs, paths in the weights manifest, and files
 * larger than their cap, without reading them, and never put file content in a message.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RegularSeries } from '../../../src/core/index.js';
import type { ResourceObservation } from '../../../src/forecast/index.js';
import { trainLstm } from '../../../src/forecast/index.js';
import { createFileObservationLog, type MetaToStore, ModelStore, type ObservationLogProblem } from '../../../src/training/index.js';

const key = 'queue/orders/depth';
const secret = 'root:x:0:0:TOP-SECRET-CONTENT';
let root = '';
let pristine = '';
let outside = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'foresight-hostile-'));
  outside = join(root, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'passwd'), `${secret}\n`);
  const values = Float64Array.from({ length: 480 }, (_, i) => 100 + 40 * Math.sin((2 * Math.PI * i) / 48));
  const series: RegularSeries = { startMs: 1_700_000_000_000, stepSeconds: 300, values };
  const trained = await trainLstm(
    { target: series },
    { stepSeconds: 300, seasonSteps: 48, horizonSteps: 3 },
    { lookbackSteps: 12, units: [4], denseUnits: 4, dropout: 0, epochs: 1, batchSize: 32, maxWindows: 64, seed: 3 },
  );
  if (!trained.ok) throw new Error(trained.error.message);
  pristine = join(root, 'pristine');
  const meta: MetaToStore = { ...trained.value.meta, seriesKey: key, createdAtMs: 1_700_000_000_000, trainingDurationSeconds: 1 };
  await new ModelStore(pristine).save(key, await trained.value.exportArtifacts(), meta);
  trained.value.dispose();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the model store refuses hostile files', () => {
  let models = '';
  let base = '';
  let version = '';
  let n = 0;
  beforeEach(async () => {
    models = join(root, `models-${++n}`);
    await cp(pristine, models, { recursive: true });
    const store = new ModelStore(models);
    base = store.seriesDir(key);
    version = (await readFile(join(base, 'current'), 'utf8')).trim();
    expect((await store.load(key)).ok).toBe(true);
  });
  const failure = async () => {
    const loaded = await new ModelStore(models).load(key);
    if (loaded.ok) throw new Error('a hostile model was loaded');
    expect(loaded.error.message).not.toContain('TOP-SECRET');
    expect(loaded.error.message).not.toContain('root:x');
    return loaded.error;
  };

  it('weights.bin → /dev/zero: refused as a link, nothing read', async () => {
    await rm(join(base, version, 'weights.bin'));
    await symlink('/dev/zero', join(base, version, 'weights.bin'));
    expect(await failure()).toMatchObject({ reason: 'corrupt', message: expect.stringMatching(/weights\.bin is a symbolic link/) });
  });

  it('weights.bin a FIFO: refused as not a regular file (reading it would block forever)', async () => {
    await rm(join(base, version, 'weights.bin'));
    expect(spawnSync('mkfifo', [join(base, version, 'weights.bin')]).status).toBe(0);
    expect(await failure()).toMatchObject({ reason: 'corrupt', message: expect.stringMatching(/weights\.bin is not a regular file/) });
  });

  it('weights.bin bigger than the manifest says: refused from its size, before reading', async () => {
    await writeFile(join(base, version, 'weights.bin'), Buffer.alloc(64 * 1024 * 1024));
    expect(await failure()).toMatchObject({ reason: 'corrupt', message: expect.stringMatching(/weights\.bin is 67108864 bytes, more than the \d+ allowed/) });
  });

  it('current → a file outside (/etc/passwd): refused as a link, content never quoted', async () => {
    await rm(join(base, 'current'));
    await symlink(join(outside, 'passwd'), join(base, 'current'));
    expect(await failure()).toMatchObject({ reason: 'corrupt', message: expect.stringMatching(/current is a symbolic link/) });
  });

  it('current holding something else than a version: refused, content never quoted', async () => {
    await writeFile(join(base, 'current'), `${secret}\n`);
    expect(await failure()).toMatchObject({ reason: 'corrupt', message: expect.stringMatching(/does not name a model version/) });
  });

  it('current too big to be a version name: refused from its size', async () => {
    await writeFile(join(base, 'current'), `${version}\n${'x'.repeat(10_000)}`);
    expect(await failure()).toMatchObject({ message: expect.stringMatching(/current is 10\d+ bytes, more than the 256 allowed/) });
  });

  it('a version folder symlinked outside models/: refused', async () => {
    await cp(join(base, version), join(outside, 'evil-version'), { recursive: true });
    await rm(join(base, version), { recursive: true });
    await symlink(join(outside, 'evil-version'), join(base, version));
    expect(await failure()).toMatchObject({ message: expect.stringMatching(/is a symbolic link; Foresight reads only the folders it wrote/) });
  });

  it('a series folder symlinked elsewhere: refused', async () => {
    const series = join(models, 'queue__orders__depth');
    await cp(series, join(outside, 'series'), { recursive: true });
    await rm(series, { recursive: true });
    await symlink(join(outside, 'series'), series);
    expect(await failure()).toMatchObject({ message: expect.stringMatching(/queue__orders__depth is a symbolic link/) });
  });

  it('weightsManifest.paths with ../ (or any path): refused, never followed', async () => {
    const file = join(base, version, 'model.json');
    const model = JSON.parse(await readFile(file, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    for (const path of ['../../../outside/passwd', '/etc/passwd', 'sub/weights.bin', '..']) {
      model.weightsManifest[0]!.paths = [path];
      await writeFile(file, JSON.stringify(model));
      expect(await failure()).toMatchObject({ message: expect.stringMatching(/weightsManifest\.paths must name a file in the version folder/) });
    }
  });

  it('a manifest describing absurd weights: refused before anything is read', async () => {
    const file = join(base, version, 'model.json');
    const model = JSON.parse(await readFile(file, 'utf8')) as { weightsManifest: { weights: { shape: number[] }[] }[] };
    model.weightsManifest[0]!.weights[0]!.shape = [1_000_000, 1_000_000];
    await writeFile(file, JSON.stringify(model));
    expect(await failure()).toMatchObject({ message: expect.stringMatching(/describes \d+ bytes of weights, more than the \d+ allowed/) });
  });

  it("meta.json that is not JSON: the parser's quote of the content is not passed on", async () => {
    await writeFile(join(base, version, 'meta.json'), secret);
    expect(await failure()).toMatchObject({ message: expect.stringMatching(/meta\.json: not valid JSON$/) });
  });
});

describe('the observation log (optimizer/*.jsonl) refuses hostile files', () => {
  const observation: ResourceObservation = { timestampMs: 1_700_000_000_000, replicas: 3, load: 10, throughput: 9, backlog: 1 };
  let dir = '';
  let problems: ObservationLogProblem[] = [];
  let n = 0;
  beforeEach(async () => {
    dir = join(root, `optimizer-${++n}`);
    await mkdir(dir);
    problems = [];
  });
  const log = () => createFileObservationLog(dir, (p) => problems.push(p));

  it('a link in place of the file: load refuses it, append never writes through it', async () => {
    await symlink(join(outside, 'passwd'), join(dir, 'worker_processes.jsonl'));
    expect(await log().load('worker_processes', 100)).toEqual([]);
    expect(problems).toEqual([expect.objectContaining({ message: expect.stringMatching(/worker_processes\.jsonl is a symbolic link/) })]);
    await expect(log().append('worker_processes', [observation], 100)).rejects.toThrow(/symbolic link/);
    expect(await readFile(join(outside, 'passwd'), 'utf8')).toBe(`${secret}\n`);
    expect(JSON.stringify(problems)).not.toContain('TOP-SECRET');
  });

  it('the optimizer folder a link: refused', async () => {
    const linked = join(root, `optimizer-link-${n}`);
    await symlink(outside, linked);
    const problemsHere: ObservationLogProblem[] = [];
    expect(await createFileObservationLog(linked, (p) => problemsHere.push(p)).load('worker_processes', 100)).toEqual([]);
    expect(problemsHere[0]?.message).toMatch(/is a symbolic link; Foresight reads only the folders it wrote/);
  });

  it('a file far larger than 2 × max lines can be: refused from its size, before reading', async () => {
    await writeFile(join(dir, 'worker_processes.jsonl'), Buffer.alloc(2 * 1024 * 1024, 0x61));
    expect(await log().load('worker_processes', 100)).toEqual([]);
    expect(problems[0]?.message).toMatch(/worker_processes\.jsonl is 2097152 bytes, more than the 270336 allowed/);
  });

  it('a line that is not JSON is reported by number, without its content', async () => {
    await writeFile(join(dir, 'worker_processes.jsonl'), `${secret}\n${JSON.stringify({ ...observation, backlog: 1 })}\n`);
    expect(await log().load('worker_processes', 100)).toHaveLength(1);
    expect(problems).toEqual([expect.objectContaining({ line: 1, message: 'not JSON' })]);
  });
});
