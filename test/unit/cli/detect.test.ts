import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectCommand, parseDetectArgs } from '../../../src/cli/detect.js';
import type { CliIo } from '../../../src/cli/io.js';
import { main } from '../../../src/cli/main.js';

function fakeIo(): { io: CliIo; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (err += text) }, env: {} },
    stdout: () => out,
    stderr: () => err,
  };
}

async function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = fakeIo();
  const code = await detectCommand(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

const start = 1_700_006_400;
const days = 10;
const spikeRow = 9 * 288 + 30;

/** Ten days of a 5-minute daily cycle with a deterministic wiggle, one spike and one bad line. */
function traceCsv(): string {
  const lines = ['timestamp,value'];
  for (let i = 0; i < days * 288; i++) {
    const base = 500 + 200 * Math.sin((2 * Math.PI * i) / 288) + 15 * Math.sin(i * 1.7);
    lines.push(`${start + i * 300},${(i === spikeRow ? base + 2000 : base).toFixed(3)}`);
    if (i === 100) lines.push('not,a number');
  }
  return `${lines.join('\n')}\n`;
}

let dir = '';
let input = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foresight-detect-'));
  input = join(dir, 'trace.csv');
  await writeFile(input, traceCsv());
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function parseOutput(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((line) => line.split(','));
}

describe('foresight detect: usage', () => {
  it('prints usage for --help and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: foresight detect --input F.csv --out O.csv \[--detector NAME\] \[--metric METRIC\]/);
    expect(result.stdout).toMatch(/zscore, mad, seasonal, adaptive/);
  });

  it.each([
    [['--input', 'a.csv'], /--out is required/],
    [['--out', 'o.csv'], /--input is required/],
    [['--input', 'a.csv', '--out', 'o.csv', '--frobnicate'], /unknown option "--frobnicate"/],
    [['--input', 'a.csv', '--out', 'o.csv', '--detector', 'prophet'], /--detector "prophet" is not a detector; use one of: zscore, mad, seasonal, adaptive/],
    [['--input', 'a.csv', '--out', 'o.csv', '--metric', 'disk'], /--metric "disk" is not a monitored metric; use one of: cpu, memory, queue_depth, response_time, error_rate/],
    [['--input', 'a.csv', '--out', 'o.csv', '--metric'], /--metric needs a value/],
    [['--input', 'a.csv', '--input', 'b.csv', '--out', 'o.csv'], /--input is given twice/],
  ])('rejects %j with exit code 2 and a clear message', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/Usage: foresight detect/);
  });

  it('accepts --flag=value and defaults to the service detector', () => {
    const parsed = parseDetectArgs(['--input=a.csv', '--out=o.csv', '--metric=memory']);
    expect(parsed).toEqual({ ok: true, value: { input: 'a.csv', out: 'o.csv', detector: 'adaptive', metric: 'memory' } });
  });

  it('exits 1 naming the file when the input cannot be read or has no rows', async () => {
    const missing = await run(['--input', join(dir, 'missing.csv'), '--out', join(dir, 'o.csv')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read --input .*missing\.csv/);
    const empty = join(dir, 'empty.csv');
    await writeFile(empty, 'timestamp,value\nfoo,bar\n');
    const none = await run(['--input', empty, '--out', join(dir, 'o.csv')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/has no usable timestamp,value rows/);
  });

  it('is reachable as "foresight detect"', async () => {
    const captured = fakeIo();
    expect(await main(['detect', '--help'], captured.io)).toBe(0);
    expect(captured.stdout()).toMatch(/Usage: foresight detect/);
  });
});

describe('foresight detect: end to end on a CSV file', () => {
  it('writes timestamp,score,anomaly for every usable row, flags the spike, and reports skipped lines', async () => {
    const out = join(dir, 'scores.csv');
    const result = await run(['--input', input, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/trace\.csv:\d+: expected 2 fields|trace\.csv:\d+: timestamp "[^"]*" is not a number/);
    expect(result.stderr).toMatch(/skipped 1 bad line/);
    expect(result.stderr).toMatch(/detector adaptive, operating threshold 0\.5122/);
    const rows = parseOutput(await readFile(out, 'utf8'));
    expect(rows[0]).toEqual(['timestamp', 'score', 'anomaly']);
    expect(rows.length - 1).toBe(days * 288);
    for (const [timestamp, score, anomaly] of rows.slice(1)) {
      expect(Number(timestamp)).toBeGreaterThanOrEqual(start);
      expect(Number(score)).toBeGreaterThanOrEqual(0);
      expect(Number(score)).toBeLessThanOrEqual(1);
      expect(['0', '1']).toContain(anomaly);
      expect(anomaly === '1').toBe(Number(score) >= 1.05 / 2.05);
    }
    const spike = rows[1 + spikeRow]!;
    expect(spike[0]).toBe(String(start + spikeRow * 300));
    expect(spike[2]).toBe('1');
  });

  it('uses the named detector and metric threshold', async () => {
    const out = join(dir, 'zscore.csv');
    const result = await run(['--input', input, '--out', out, '--detector', 'zscore', '--metric', 'error_rate']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/detector zscore, operating threshold 0\.5; metric error_rate, threshold 4 standard deviations/);
    expect(result.stderr).toMatch(/row\(s\) without a verdict \(score 0\); the first because: baseline not full/);
    const rows = parseOutput(await readFile(out, 'utf8'));
    // No verdict for the first day: the design's 24 h baseline.
    expect(rows.slice(1, 288).every(([, score]) => score === '0')).toBe(true);
    expect(rows[1 + spikeRow]![2]).toBe('1');
  });

  it('is deterministic and causal: the same file gives the same bytes, a prefix gives the same first rows', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    await run(['--input', input, '--out', a]);
    await run(['--input', input, '--out', b]);
    const full = await readFile(a, 'utf8');
    expect(await readFile(b, 'utf8')).toBe(full);

    const prefixLines = traceCsv()
      .trim()
      .split('\n')
      .slice(0, 8 * 288);
    const prefixInput = join(dir, 'prefix.csv');
    await writeFile(prefixInput, `${prefixLines.join('\n')}\n`);
    const prefixOut = join(dir, 'prefix-out.csv');
    expect((await run(['--input', prefixInput, '--out', prefixOut])).code).toBe(0);
    const prefixRows = (await readFile(prefixOut, 'utf8')).trim().split('\n');
    expect(prefixRows).toEqual(full.trim().split('\n').slice(0, prefixRows.length));
  });
});
