/**
 * The CLI's --input and the replay source read `timestamp,value` files with one reader: the same
 * file gives the same rows, the same skipped lines, and the same meaning for NaN (a recorded gap),
 * comments and blank lines.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readInputCsv } from '../../../src/cli/csv.js';
import { parseTimestampValueCsv } from '../../../src/core/index.js';
import { loadReplayDir, replayFileName } from '../../../src/source/index.js';

const input = { kind: 'system', metric: 'cpu_percent' } as const;

const text = ['# exported from Prometheus', 'timestamp,value', '', '100,1.5', '   ', '# a comment in the middle', '160,NaN', '220,abc', '280,+Inf', '340,2', '400', '\r', '460,-Inf', '520,3'].join(
  '\r\n',
);

let dir = '';
afterEach(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
  dir = '';
});

describe('one timestamp,value reader for the CLI and the replay source', () => {
  it('the replay source and the CLI read the same rows, gaps and bad lines from one file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-csv-'));
    const file = join(dir, replayFileName(input));
    await writeFile(file, text);

    const shared = parseTimestampValueCsv(text, file);
    expect(shared.hasHeader).toBe(true);
    expect([...shared.rows.timestampsSeconds]).toEqual([100, 160, 280, 340, 460, 520]);
    expect([...shared.rows.values]).toEqual([1.5, Number.NaN, Infinity, 2, -Infinity, 3]);
    expect(shared.badLines.map((b) => b.line)).toEqual([8, 11]);

    // The replay source keeps NaN (a gap its readings report) and ±Inf, as Prometheus would answer them.
    const replay = loadReplayDir(dir, [input]);
    const samples = replay.traces.get('system/cpu_percent')!;
    expect(samples.map((s) => s.timestampMs / 1000)).toEqual([...shared.rows.timestampsSeconds]);
    expect(samples.map((s) => s.value)).toEqual([...shared.rows.values]);
    expect(replay.problems.map((p) => p.line)).toEqual([8, 11]);
    expect(replay.badRows).toBe(2);

    // A command reads the same rows and bad lines, and leaves the gaps (NaN, ±Inf) out, saying so.
    let stderr = '';
    const cli = await readInputCsv('backtest', file, { write: (t: string) => (stderr += t) });
    expect(cli).toBeDefined();
    expect(cli!.badLines).toEqual(shared.badLines);
    expect(cli!.gapRows).toBe(3);
    expect([...cli!.rows.timestampsSeconds]).toEqual([100, 340, 520]);
    expect([...cli!.rows.values]).toEqual([1.5, 2, 3]);
    expect(stderr).toContain(`${file}:8: value "abc" is not a finite number, NaN or ±Inf`);
    expect(stderr).toContain(`${file}:11: expected 2 fields`);
    expect(stderr).toContain('3 row(s) are NaN or ±Inf (gaps) and are left out');
  });

  it('both take a first line that is not a number as a header, and a later one as a bad line', async () => {
    const parsed = parseTimestampValueCsv('# c\ntime,val\n1,2\ntime,val\n', 'f.csv');
    expect(parsed.hasHeader).toBe(true);
    expect(parsed.badLines.map((b) => b.line)).toEqual([4]);
    expect([...parsed.rows.values]).toEqual([2]);
  });
});
