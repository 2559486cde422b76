import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ForesightError, inputKey, type InputRef, type Sample } from '../../../src/core/index.js';
import { defaultReplayDir, loadReplayDir, maxProblemsPerFile, parseReplayCsv, replayFileName, ReplaySource } from '../../../src/source/index.js';
import { ManualClock } from '../../support/manual-clock.js';

const minuteMs = 60_000;
const dayMs = 86_400_000;
/** Monday 2024-01-01 00:00 UTC, where the test traces start. */
const traceStartMs = Date.UTC(2024, 0, 1);

const depth: InputRef = { kind: 'queue', queue: 'q1', metric: 'depth' };
const cpu: InputRef = { kind: 'system', metric: 'cpu_percent' };
const load1: InputRef = { kind: 'system', metric: 'load1' };

/** `count` samples one minute apart from the trace start, valued by `value(index)`. */
function minutes(count: number, value: (index: number) => number = (i) => i): Sample[] {
  return Array.from({ length: count }, (_, i) => ({ timestampMs: traceStartMs + i * minuteMs, value: value(i) }));
}

function replay(traces: Readonly<Record<string, readonly Sample[]>>, clock: ManualClock, speed?: number): ReplaySource {
  return new ReplaySource({ traces: new Map(Object.entries(traces)), clock, ...(speed === undefined ? {} : { speed }) });
}

describe('ReplaySource', () => {
  test('plays the trace shifted by whole periods, so it keeps its time of day', async () => {
    // Two days, so the period is two days: 100 days later is the same phase.
    const clock = new ManualClock(traceStartMs + 100 * dayMs + 3 * 3_600_000 + 30_000);
    const src = replay({ [inputKey(depth)]: minutes(2 * 1440) }, clock);

    const { readings, problems } = await src.readLatest([depth], clock.nowMs());

    expect(problems).toEqual([]);
    // 03:00:30 reads the 03:00 sample, which is reported with its own time (30 s ago).
    expect(readings).toEqual([{ input: depth, timestampMs: clock.nowMs() - 30_000, value: 180 }]);
  });

  test('keeps the day of week when the trace spans whole weeks', async () => {
    // Value = day of week (0 = Monday) * 100 + hour.
    const twoWeeks = minutes(14 * 1440, (i) => (Math.floor(i / 1440) % 7) * 100 + Math.floor((i % 1440) / 60));
    const clock = new ManualClock(Date.UTC(2026, 10, 4, 10, 15)); // A Wednesday.
    const src = replay({ [inputKey(depth)]: twoWeeks }, clock);
    const { readings } = await src.readLatest([depth], clock.nowMs());
    expect(new Date(clock.nowMs()).getUTCDay()).toBe(3);
    expect(readings[0]!.value).toBe(2 * 100 + 10);
  });

  test('loops: after the last sample comes the first', async () => {
    const trace = minutes(10); // Period 10 minutes.
    const clock = new ManualClock(traceStartMs + 50 * 10 * minuteMs + 9 * minuteMs);
    const src = replay({ [inputKey(depth)]: trace }, clock);

    expect((await src.readLatest([depth], clock.nowMs())).readings[0]!.value).toBe(9);
    clock.advance(60);
    expect((await src.readLatest([depth], clock.nowMs())).readings[0]!.value).toBe(0);
    clock.advance(60);
    expect((await src.readLatest([depth], clock.nowMs())).readings[0]!.value).toBe(1);
  });

  test('plays `speed` trace seconds per clock second from the moment it is built', async () => {
    const clock = new ManualClock(traceStartMs + 7 * dayMs + 60 * minuteMs);
    const src = replay({ [inputKey(depth)]: minutes(1440) }, clock, 60);
    expect((await src.readLatest([depth], clock.nowMs())).readings[0]!.value).toBe(60);
    clock.advance(60); // One clock minute is one trace hour.
    expect((await src.readLatest([depth], clock.nowMs())).readings[0]!.value).toBe(120);
  });

  for (const speed of [1, 60]) {
    test(`never returns a point later than now (speed ${speed})`, async () => {
      const clock = new ManualClock(traceStartMs + 3 * dayMs + 12 * 3_600_000 + 20_000);
      const src = replay({ [inputKey(depth)]: minutes(1440, () => 5) }, clock, speed);
      const startMs = Math.floor(clock.nowMs() / minuteMs) * minuteMs - 10 * minuteMs;
      const range = { startMs, endMs: startMs + 20 * minuteMs, stepSeconds: 60 };

      const { history } = await src.readHistory([depth], range);

      const { values } = history[0]!.series;
      expect(values.length).toBe(21);
      values.forEach((value, i) => {
        const timeMs = startMs + i * minuteMs;
        if (timeMs <= clock.nowMs()) expect(value).toBe(5);
        else expect(value).toBeNaN();
      });
      const latest = await src.readLatest([depth], clock.nowMs() + dayMs);
      expect(latest.readings[0]!.timestampMs).toBeLessThanOrEqual(clock.nowMs());
    });
  }

  test('history follows the trace, step by step', async () => {
    const clock = new ManualClock(traceStartMs + 14 * dayMs + 10 * minuteMs);
    const src = replay({ [inputKey(depth)]: minutes(1440) }, clock);
    const { history } = await src.readHistory([depth], { startMs: clock.nowMs() - 4 * minuteMs, endMs: clock.nowMs(), stepSeconds: 120 });
    expect([...history[0]!.series.values]).toEqual([6, 8, 10]);
  });

  test('a gap longer than the 5-minute lookback reads as no value', async () => {
    // Samples at minutes 0-4, then nothing until minute 30.
    const trace = [...minutes(5, () => 1), { timestampMs: traceStartMs + 30 * minuteMs, value: 2 }, ...minutes(60, () => 3).slice(31)];
    const clock = new ManualClock(traceStartMs + 7 * 60 * minuteMs + 20 * minuteMs); // Phase: minute 20 of a 60-minute loop.
    const src = replay({ [inputKey(depth)]: trace }, clock);

    const latest = await src.readLatest([depth], clock.nowMs());
    expect(latest.readings).toEqual([]);
    expect(latest.problems).toMatchObject([{ input: depth, reason: 'empty' }]);

    const { history } = await src.readHistory([depth], { startMs: clock.nowMs() - 20 * minuteMs, endMs: clock.nowMs(), stepSeconds: 60 });
    const values = [...history[0]!.series.values];
    expect(values.slice(0, 5)).toEqual([1, 1, 1, 1, 1]);
    expect(values.slice(5, 10)).toEqual([1, 1, 1, 1, 1]); // Minutes 5-9: within the lookback of minute 4.
    expect(values.slice(10).every(Number.isNaN)).toBe(true);
  });

  test('reports a NaN in the trace as not_finite, an empty trace as empty, and leaves unknown inputs out', async () => {
    const clock = new ManualClock(traceStartMs + 7 * dayMs);
    const src = replay({ [inputKey(depth)]: minutes(10, () => Number.NaN), [inputKey(cpu)]: [] }, clock);
    const { readings, problems } = await src.readLatest([depth, cpu, load1], clock.nowMs());
    expect(readings).toEqual([]);
    expect(problems.map((p) => [p.input, p.reason])).toEqual([
      [depth, 'not_finite'],
      [cpu, 'empty'],
    ]);
  });

  test('a one-sample trace is a constant', async () => {
    const clock = new ManualClock(traceStartMs + 30 * dayMs);
    const src = replay({ [inputKey(depth)]: [{ timestampMs: traceStartMs, value: 4 }] }, clock);
    expect((await src.readLatest([depth], clock.nowMs())).readings[0]!.value).toBe(4);
  });

  test('rejects when aborted', async () => {
    const src = replay({}, new ManualClock());
    await expect(src.readLatest([depth], 0, AbortSignal.abort(new Error('stop')))).rejects.toThrow('stop');
  });

  test('refuses a speed that is not positive', () => {
    expect(() => replay({}, new ManualClock(), 0)).toThrow(ForesightError);
  });
});

describe('parseReplayCsv', () => {
  const cases: readonly { name: string; text: string; values: number[]; badLines: number[] }[] = [
    { name: 'reads rows after a header', text: 'timestamp,value\n1,2\n3,4\n', values: [2, 4], badLines: [] },
    { name: 'reads a file without a header', text: '1,2\n3,4', values: [2, 4], badLines: [] },
    { name: 'tolerates CRLF, blank lines, comments and spaces', text: '# trace\r\ntimestamp,value\r\n\r\n 1 , 2 \r\n', values: [2], badLines: [] },
    { name: 'reads Prometheus special values', text: '1,NaN\n2,+Inf\n3,-Inf\n4,1e3', values: [Number.NaN, Infinity, -Infinity, 1000], badLines: [] },
    { name: 'skips a row with a bad value', text: 'timestamp,value\n1,x\n2,3', values: [3], badLines: [2] },
    { name: 'skips rows with the wrong number of fields', text: '1\n2,3,4\n5,6', values: [6], badLines: [1, 2] },
    { name: 'skips a row with an empty value or timestamp', text: 'timestamp,value\n1,\n,2\n3,4', values: [4], badLines: [2, 3] },
    { name: 'treats a second header as a bad row', text: 'timestamp,value\ntimestamp,value\n1,2', values: [2], badLines: [2] },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const parsed = parseReplayCsv(tc.text, 'f.csv');
      expect(parsed.samples.map((s) => s.value)).toEqual(tc.values);
      expect(parsed.problems.map((p) => p.line)).toEqual(tc.badLines);
      expect(parsed.badRows).toBe(tc.badLines.length);
    });
  }

  test('converts unix seconds to milliseconds', () => {
    expect(parseReplayCsv('1704067200.5,1', 'f').samples).toEqual([{ timestampMs: 1_704_067_200_500, value: 1 }]);
  });

  test(`lists at most ${maxProblemsPerFile} bad rows per file but counts them all`, () => {
    const parsed = parseReplayCsv(['timestamp,value', ...Array.from({ length: 50 }, () => 'bad,row')].join('\n'), 'f.csv');
    expect(parsed.problems).toHaveLength(maxProblemsPerFile);
    expect(parsed.badRows).toBe(50);
  });
});

describe('loadReplayDir', () => {
  const fixtures = join(import.meta.dirname, '../../fixtures/source/replay');

  test('reads the files named after input keys and reports bad rows with file and line', () => {
    const loaded = loadReplayDir(fixtures, [depth, cpu, load1]);

    expect([...loaded.traces.keys()]).toEqual(['queue/q1/depth', 'system/cpu_percent']);
    expect(loaded.traces.get('queue/q1/depth')!.map((s) => s.value)).toEqual([1, 2, 3]);
    expect(loaded.traces.get('system/cpu_percent')!.map((s) => s.value)).toEqual([10, Number.NaN, Infinity, 15]);
    expect(loaded.missing).toEqual(['system/load1']);
    expect(loaded.badRows).toBe(5);
    expect(loaded.problems.map((p) => [p.file, p.line])).toEqual([3, 6, 7, 8, 12].map((line) => [join(fixtures, 'system__cpu_percent.csv'), line]));
    expect(loaded.problems[0]!.message).toBe('value "not-a-number" is not a finite number, NaN or ±Inf');
  });

  describe('in a temporary folder', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'foresight-replay-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test('reads gzipped traces', async () => {
      await writeFile(join(dir, `${replayFileName(depth)}.gz`), gzipSync('timestamp,value\n1704067200,7\n'));
      const loaded = loadReplayDir(dir, [depth]);
      expect(loaded.traces.get(inputKey(depth))).toEqual([{ timestampMs: 1_704_067_200_000, value: 7 }]);
    });

    test('reports a file it cannot read, and goes on with the others', async () => {
      await writeFile(join(dir, `${replayFileName(depth)}.gz`), 'this is not gzip');
      await writeFile(join(dir, replayFileName(cpu)), '1,2\n');
      const loaded = loadReplayDir(dir, [depth, cpu]);
      expect([...loaded.traces.keys()]).toEqual([inputKey(cpu)]);
      expect(loaded.problems).toMatchObject([{ file: join(dir, `${replayFileName(depth)}.gz`), line: 0 }]);
    });
  });

  test('throws a config error for a folder that does not exist', () => {
    expect(() => loadReplayDir('/nonexistent/foresight-replay', [depth])).toThrow(/replay folder \/nonexistent\/foresight-replay does not exist/);
  });

  test('names files after the input key with "/" replaced by "__"', () => {
    expect(replayFileName({ kind: 'queue', queue: 'batch_processing', metric: 'depth' })).toBe('queue__batch_processing__depth.csv');
    expect(replayFileName({ kind: 'system', metric: 'cpu_percent' })).toBe('system__cpu_percent.csv');
    expect(replayFileName({ kind: 'replicas', resource: 'ml_workers' })).toBe('replicas__ml_workers.csv');
  });
});

describe('defaultReplayDir', () => {
  test('is the demo folder at the package root', () => {
    const dir = defaultReplayDir();
    expect(dir).toBe(join(import.meta.dirname, '../../../demo'));
    expect(existsSync(join(dir, 'README.md'))).toBe(true);
  });
});
