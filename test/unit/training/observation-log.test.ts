import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Resource } from '../../../src/core/index.js';
import type { ResourceObservation } from '../../../src/forecast/index.js';
import { createFileObservationLog } from '../../../src/training/index.js';
import type { ObservationLogProblem } from '../../../src/training/index.js';

let root = '';
let folders = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'foresight-observations-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh folder per test, and the problems reported for it. */
function fresh(): { dir: string; problems: ObservationLogProblem[]; log: ReturnType<typeof createFileObservationLog> } {
  const dir = join(root, `log-${folders++}`);
  const problems: ObservationLogProblem[] = [];
  return { dir, problems, log: createFileObservationLog(dir, (p) => problems.push(p)) };
}

const resource: Resource = 'worker_processes';
const startMs = 1_700_000_000_000;
const observation = (i: number, extra: Partial<ResourceObservation> = {}): ResourceObservation => ({
  timestampMs: startMs + i * 30_000,
  replicas: 2 + (i % 5),
  load: 10 + i * 0.25,
  throughput: 9.5 + i * 0.125,
  backlog: i % 7,
  ...extra,
});
const fileLines = async (dir: string, name = `${resource}.jsonl`): Promise<string[]> => (await readFile(join(dir, name), 'utf8')).split('\n').filter((l) => l !== '');

describe('file observation log', () => {
  it('round-trips observations, an unknown (NaN) backlog as null, and absent optional fields', async () => {
    const { dir, log, problems } = fresh();
    const written: ResourceObservation[] = [observation(0, { latencySeconds: 1.5, cpuPercent: 63.25 }), observation(1, { backlog: Number.NaN }), observation(2, { cpuPercent: 0 })];
    await log.append(resource, written, 100);
    const raw = await fileLines(dir);
    expect(raw).toHaveLength(3);
    expect(JSON.parse(raw[1]!)).toMatchObject({ backlog: null });
    expect(JSON.parse(raw[1]!)).not.toHaveProperty('latencySeconds');

    // A new log (a restart) reads back what the old one wrote.
    const loaded = await createFileObservationLog(dir).load(resource, 100);
    expect(loaded).toHaveLength(3);
    expect(loaded[0]).toEqual(written[0]);
    expect(Number.isNaN(loaded[1]!.backlog)).toBe(true);
    expect({ ...loaded[1]!, backlog: 0 }).toEqual({ ...written[1]!, backlog: 0 });
    expect(loaded[1]).not.toHaveProperty('latencySeconds');
    expect(loaded[1]).not.toHaveProperty('cpuPercent');
    expect(loaded[2]).toEqual(written[2]);
    expect(problems).toEqual([]);
  });

  it('keeps each resource in its own file', async () => {
    const { dir, log } = fresh();
    await log.append('worker_processes', [observation(1)], 10);
    await log.append('ml_workers', [observation(2), observation(3)], 10);
    expect((await readdir(dir)).sort()).toEqual(['ml_workers.jsonl', 'worker_processes.jsonl']);
    expect((await log.load('ml_workers', 10)).map((o) => o.timestampMs)).toEqual([observation(2).timestampMs, observation(3).timestampMs]);
    expect(await log.load('batch_processors', 10)).toEqual([]);
  });

  it('loads at most max observations, the newest, oldest first', async () => {
    const { log } = fresh();
    await log.append(
      resource,
      Array.from({ length: 10 }, (_, i) => observation(i)),
      100,
    );
    const loaded = await log.load(resource, 4);
    expect(loaded.map((o) => o.timestampMs)).toEqual([6, 7, 8, 9].map((i) => observation(i).timestampMs));
  });

  it('compacts to the newest max only once the file grows past 2 × max, atomically', async () => {
    const { dir, log } = fresh();
    const max = 3;
    for (let i = 0; i < 2 * max; i++) await log.append(resource, [observation(i)], max);
    // At 2 × max lines the file is left alone: compaction is not a rewrite per cycle.
    expect(await fileLines(dir)).toHaveLength(2 * max);
    await log.append(resource, [observation(2 * max)], max);
    const lines = await fileLines(dir);
    expect(lines.map((l) => (JSON.parse(l) as { timestampMs: number }).timestampMs)).toEqual([4, 5, 6].map((i) => observation(i).timestampMs));
    // No temporary file is left beside it.
    expect(await readdir(dir)).toEqual([`${resource}.jsonl`]);
    // And appending goes on after compaction, counting from the compacted size.
    for (let i = 7; i < 10; i++) await log.append(resource, [observation(i)], max);
    expect(await fileLines(dir)).toHaveLength(6);
    await log.append(resource, [observation(10)], max);
    expect(await fileLines(dir)).toHaveLength(3);
  });

  it('counts lines already on disk when the first call after a restart is an append', async () => {
    const { dir, log } = fresh();
    await log.append(
      resource,
      Array.from({ length: 6 }, (_, i) => observation(i)),
      3,
    );
    expect(await fileLines(dir)).toHaveLength(6);
    const restarted = createFileObservationLog(dir);
    await restarted.append(resource, [observation(6)], 3);
    expect(await fileLines(dir)).toHaveLength(3);
  });

  it('skips and reports corrupt lines and a cut-short last line by line number, keeping the others', async () => {
    const { dir, log, problems } = fresh();
    await mkdir(dir, { recursive: true });
    const good = (i: number) => JSON.stringify({ ...observation(i) });
    const text = [
      good(0),
      'not json at all',
      good(1),
      JSON.stringify({ ...observation(2), timestampMs: 1.5 }),
      JSON.stringify({ ...observation(3), replicas: -1 }),
      '',
      good(4),
      good(5).slice(0, 25), // a crash in the middle of an append
    ].join('\n');
    await writeFile(join(dir, `${resource}.jsonl`), text);

    const loaded = await log.load(resource, 100);
    expect(loaded.map((o) => o.timestampMs)).toEqual([0, 1, 4].map((i) => observation(i).timestampMs));
    expect(problems.map((p) => p.line)).toEqual([2, 4, 5, 8]);
    expect(problems.every((p) => p.resource === resource && p.path === join(dir, `${resource}.jsonl`))).toBe(true);
    expect(problems[0]!.message).toMatch(/not JSON/);
    expect(problems[1]!.message).toMatch(/timestampMs/);
    expect(problems[2]!.message).toMatch(/replicas/);
    expect(problems[3]!.message).toMatch(/cut short/);

    // The next append ends the cut line first, so the new observation is not swallowed by it.
    await log.append(resource, [observation(6)], 100);
    problems.length = 0;
    const after = await log.load(resource, 100);
    expect(after.map((o) => o.timestampMs)).toEqual([0, 1, 4, 6].map((i) => observation(i).timestampMs));
    expect(problems.map((p) => p.line)).toEqual([2, 4, 5, 8]);
    expect(problems[3]!.message).toMatch(/not JSON/);
  });

  it('returns nothing and reports the problem when the folder or file cannot be read', async () => {
    const { dir, log, problems } = fresh();
    // The folder is a file: every read fails with ENOTDIR.
    await writeFile(dir, 'not a folder');
    expect(await log.load(resource, 10)).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ resource, path: join(dir, `${resource}.jsonl`) });
    expect(problems[0]!.line).toBeUndefined();
    expect(problems[0]!.message).toMatch(/cannot read/);
    // Appending to it is an error the caller sees.
    await expect(log.append(resource, [observation(0)], 10)).rejects.toThrow();

    // The file is a folder.
    const other = fresh();
    await mkdir(join(other.dir, `${resource}.jsonl`), { recursive: true });
    expect(await other.log.load(resource, 10)).toEqual([]);
    expect(other.problems.map((p) => p.message)).toEqual([expect.stringMatching(/cannot read/)]);
  });

  it('a missing file is no problem: nothing was observed yet', async () => {
    const { log, problems } = fresh();
    expect(await log.load(resource, 10)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('rejects an observation it could not read back, writing nothing of the call', async () => {
    const { dir, log } = fresh();
    await log.append(resource, [observation(0)], 10);
    await expect(log.append(resource, [observation(1), observation(2, { load: Number.NaN })], 10)).rejects.toThrow(/worker_processes observation 1 .*load/);
    await expect(log.append(resource, [observation(3, { timestampMs: startMs + 0.5 })], 10)).rejects.toThrow(/timestampMs/);
    await expect(log.append(resource, [observation(3, { cpuPercent: Number.POSITIVE_INFINITY })], 10)).rejects.toThrow(/cpuPercent/);
    expect(await fileLines(dir)).toHaveLength(1);
    await expect(log.append('nope' as Resource, [observation(0)], 10)).rejects.toThrow(/unknown resource/);
    await expect(log.append(resource, [observation(0)], 0)).rejects.toThrow(/max/);
  });

  it('serializes concurrent appends: every line is kept, whole, in call order', async () => {
    const { dir, log, problems } = fresh();
    const calls = 60;
    // Several observations per call, so an interleaving would show as mixed or broken lines.
    await Promise.all(Array.from({ length: calls }, (_, c) => log.append(resource, [observation(2 * c), observation(2 * c + 1)], 1000)));
    const loaded = await log.load(resource, 1000);
    expect(problems).toEqual([]);
    expect(loaded.map((o) => o.timestampMs)).toEqual(Array.from({ length: 2 * calls }, (_, i) => observation(i).timestampMs));
    expect(await fileLines(dir)).toHaveLength(2 * calls);
  });

  it('serializes concurrent appends across compactions too', async () => {
    const { dir, log } = fresh();
    const max = 5;
    await Promise.all(Array.from({ length: 23 }, (_, i) => log.append(resource, [observation(i)], max)));
    const loaded = await log.load(resource, 100);
    // 23 lines with compaction at > 10: 11 → 5, 16 → … the newest are always the last appended, in order.
    expect(loaded.at(-1)!.timestampMs).toBe(observation(22).timestampMs);
    const stamps = loaded.map((o) => o.timestampMs);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    expect(stamps).toEqual(Array.from({ length: stamps.length }, (_, i) => observation(23 - stamps.length + i).timestampMs));
    expect(stamps.length).toBeGreaterThanOrEqual(max);
    expect(stamps.length).toBeLessThanOrEqual(2 * max);
    expect(await readdir(dir)).toEqual([`${resource}.jsonl`]);
  });
});
