import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtestCommand, parseBacktestArgs, runBacktest } from '../../../src/cli/backtest.js';
import type { CliIo } from '../../../src/cli/io.js';

interface Captured {
  readonly io: CliIo;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

function fakeIo(): Captured {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (err += text) }, env: {} },
    stdout: () => out,
    stderr: () => err,
  };
}

/** A 5-minute trace over `days` days: a daily cycle plus deterministic wiggle, with a gap and off-step rows. */
function traceCsv(days: number, start = 1_700_000_000): { text: string; timestamps: number[] } {
  const lines = ['timestamp,value'];
  const timestamps: number[] = [];
  const steps = days * 288;
  for (let i = 0; i < steps; i++) {
    if (i >= 600 && i < 630) continue; // a 2.5-hour gap
    // Every 97th row is 2 minutes late, so some cells hold two rows of the irregular trace.
    const t = start + i * 300 + (i % 97 === 0 ? 120 : 0);
    if (i % 89 === 0) {
      timestamps.push(t - 150);
      lines.push(`${t - 150},${(500 + 200 * Math.sin((2 * Math.PI * (i - 0.5)) / 288)).toFixed(3)}`);
    }
    timestamps.push(t);
    lines.push(`${t},${(500 + 200 * Math.sin((2 * Math.PI * i) / 288) + 20 * Math.sin(i * 1.7)).toFixed(3)}`);
  }
  return { text: `${lines.join('\n')}\n`, timestamps };
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foresight-backtest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = fakeIo();
  const code = await backtestCommand(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

function parseOutput(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((line) => line.split(','));
}

describe('foresight backtest: usage', () => {
  it('prints usage for --help and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: foresight backtest --input F.csv --out O.csv/);
  });

  it.each([
    [['--input', 'a.csv'], /--out is required/],
    [['--out', 'o.csv'], /--input is required/],
    [['--input', 'a.csv', '--out', 'o.csv', '--frobnicate'], /unknown option "--frobnicate"/],
    [['--input', 'a.csv', '--out', 'o.csv', '--horizon', 'soon'], /--horizon "soon" is not a positive duration/],
    [['--input', 'a.csv', '--out', 'o.csv', '--horizon', '0s'], /--horizon "0s"/],
    [['--input', 'a.csv', '--out', 'o.csv', '--train-until', 'yesterday'], /--train-until "yesterday"/],
    [['--input', 'a.csv', '--out', 'o.csv', '--model', 'prophet'], /--model "prophet" is not a model; use auto or one of: naive, seasonal_naive/],
    [['--input', 'a.csv', '--out', 'o.csv', '--model'], /--model needs a value/],
  ])('rejects %j with exit code 2', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('accepts --flag=value and plain seconds for the horizon', () => {
    const parsed = parseBacktestArgs(['--input=a.csv', '--out=o.csv', '--horizon=1800', '--model=naive', '--train-until', '1700000000']);
    expect(parsed).toEqual({
      ok: true,
      value: { input: 'a.csv', out: 'o.csv', horizonSeconds: 1800, trainUntilSeconds: 1700000000, model: 'naive', lstm: false, seed: 1 },
    });
  });

  it('exits 1 when the input cannot be read or has no usable rows', async () => {
    const missing = await run(['--input', join(dir, 'nope.csv'), '--out', join(dir, 'o.csv')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read --input/);
    const empty = join(dir, 'empty.csv');
    await writeFile(empty, 'timestamp,value\nfoo,bar\n');
    const none = await run(['--input', empty, '--out', join(dir, 'o.csv')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/empty\.csv:2: /);
    expect(none.stderr).toMatch(/no usable timestamp,value rows/);
  });
});

describe('foresight backtest: end to end', () => {
  it('writes timestamp,forecast,p10,p90 for every row and a summary on stderr', async () => {
    const { text, timestamps } = traceCsv(5);
    const input = join(dir, 'trace.csv');
    const out = join(dir, 'trace.out.csv');
    await writeFile(input, `${text}not,a,row\n`);
    const result = await run(['--input', input, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/trace\.csv:\d+: expected 2 fields/);
    expect(result.stderr).toMatch(/model: auto: \S+ \(the combination with the lowest validation error/);
    expect(result.stderr).toMatch(/MASE \d+\.\d+, WAPE \d+\.\d %, p10-p90 coverage \d+\.\d %/);
    const rows = parseOutput(await readFile(out, 'utf8'));
    expect(rows[0]).toEqual(['timestamp', 'forecast', 'p10', 'p90']);
    expect(rows.length - 1).toBe(timestamps.length);
    expect(rows.slice(1).map((r) => Number(r[0]))).toEqual(timestamps);
    for (const row of rows.slice(1)) {
      const [, forecast, p10, p90] = row.map(Number) as [number, number, number, number];
      expect(Number.isFinite(forecast)).toBe(true);
      expect(p10).toBeLessThanOrEqual(p90);
    }
  });

  it('is deterministic', async () => {
    const input = join(dir, 'det.csv');
    await writeFile(input, traceCsv(4).text);
    await run(['--input', input, '--out', join(dir, 'det1.csv')]);
    await run(['--input', input, '--out', join(dir, 'det2.csv')]);
    expect(await readFile(join(dir, 'det1.csv'), 'utf8')).toBe(await readFile(join(dir, 'det2.csv'), 'utf8'));
  });

  it.each(['auto', 'naive', 'seasonal_naive', 'seasonal_mean', 'linear_trend', 'holt_winters'])(
    'never looks ahead (%s): forecasts for early rows are unchanged when later rows are removed',
    async (model) => {
      const { text, timestamps } = traceCsv(5);
      const lines = text.trim().split('\n');
      const keep = 1200; // data rows kept in the short file
      const trainUntil = String(timestamps[1000]);
      const full = join(dir, `full-${model}.csv`);
      const short = join(dir, `short-${model}.csv`);
      await writeFile(full, text);
      await writeFile(short, `${lines.slice(0, keep + 1).join('\n')}\n`);
      for (const [input, out] of [
        [full, `${full}.out`],
        [short, `${short}.out`],
      ] as const) {
        const result = await run(['--input', input, '--out', out, '--model', model, '--train-until', trainUntil]);
        expect(result.code, result.stderr).toBe(0);
      }
      const fullRows = (await readFile(`${full}.out`, 'utf8')).split('\n');
      const shortRows = (await readFile(`${short}.out`, 'utf8')).trim().split('\n');
      expect(shortRows).toHaveLength(keep + 1);
      expect(shortRows).toEqual(fullRows.slice(0, keep + 1));
    },
  );

  it('fits only on rows up to --train-until: changing later rows does not change the chosen model', () => {
    const { text } = traceCsv(6);
    const rows = text
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',').map(Number) as [number, number]);
    const toRows = (values: readonly (readonly [number, number])[]) => ({
      timestampsSeconds: new Float64Array(values.map((r) => r[0])),
      values: new Float64Array(values.map((r) => r[1])),
    });
    const trainUntil = rows[1100]![0];
    const a = runBacktest(toRows(rows), { horizonSeconds: 900, trainUntilSeconds: trainUntil, model: 'auto' });
    const scrambled = rows.map(([t, v], i): [number, number] => [t, i > 1100 ? (i % 7) * 1000 : v]);
    const b = runBacktest(toRows(scrambled), { horizonSeconds: 900, trainUntilSeconds: trainUntil, model: 'auto' });
    if (!a.ok || !b.ok) throw new Error('run failed');
    expect(b.value.model).toBe(a.value.model);
    expect(b.value.selection).toEqual(a.value.selection);
    expect(b.value.forecast.subarray(0, 1101)).toEqual(a.value.forecast.subarray(0, 1101));
  });

  it('rounds a horizon that is not a whole number of steps, and says so', async () => {
    const lines = ['timestamp,value'];
    for (let i = 0; i < 600; i++) lines.push(`${1_700_000_000 + i * 600},${100 + (i % 144)}`);
    const input = join(dir, 'ten-minutes.csv');
    await writeFile(input, `${lines.join('\n')}\n`);
    const result = await run(['--input', input, '--out', join(dir, 'ten.out'), '--horizon', '15m', '--model', 'naive']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/horizon 15m is not a whole number of 10m steps; forecasting 2 step\(s\) = 20m ahead/);
  });

  it('falls back to naive for a model that cannot be fitted, and says so', async () => {
    const lines = ['timestamp,value'];
    for (let i = 0; i < 300; i++) lines.push(`${1_700_000_000 + i * 300},${i}`);
    const input = join(dir, 'short.csv');
    await writeFile(input, `${lines.join('\n')}\n`);
    const out = join(dir, 'short.out');
    const result = await run(['--input', input, '--out', out, '--model', 'holt_winters']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/holt_winters needs two seasons of history.*naive forecasts are written instead/);
    const rows = parseOutput(await readFile(out, 'utf8'));
    expect(rows[10]![1]).toBe('9'); // the naive forecast at row 9 (value 9)
  });

  it('refuses a --train-until before the first row', async () => {
    const input = join(dir, 'tu.csv');
    await writeFile(input, '100,1\n200,2\n');
    const result = await run(['--input', input, '--out', join(dir, 'tu.out'), '--train-until', '50']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/before the first row/);
  });

  it('handles a single row', async () => {
    const input = join(dir, 'one.csv');
    const out = join(dir, 'one.out');
    await writeFile(input, '100,7\n');
    const result = await run(['--input', input, '--out', out]);
    expect(result.code).toBe(0);
    expect(await readFile(out, 'utf8')).toBe('timestamp,forecast,p10,p90\n100,7,7,7\n');
  });
});

describe('foresight backtest: forecasts respect the series domain', () => {
  // A mostly empty queue with rare bursts: the residual bands of every model reach below zero.
  const length = 3000;
  const timestamps = Array.from({ length }, (_, i) => 1_700_000_000 + 60 * i);
  const timestampsSeconds = Float64Array.from(timestamps);
  const depth = Array.from({ length }, (_, i) => (i % 97 < 3 ? 40 + (i % 7) : i % 5 === 0 ? 1 : 0));
  const rows = { timestampsSeconds: Float64Array.from(timestamps), values: Float64Array.from(depth) };

  it.each(['auto', 'holt_winters', 'linear_trend'])('writes no negative p10 for a queue depth (model %s)', (model) => {
    const run = runBacktest(rows, { horizonSeconds: 900, model });
    expect(run.ok).toBe(true);
    if (!run.ok) return;
    expect(run.value.notes).toContain('forecasts clamped into the nonnegative domain (--domain)');
    const finite = Array.from(run.value.p10).filter(Number.isFinite);
    expect(finite.length).toBeGreaterThan(1000);
    expect(Math.min(...finite)).toBeGreaterThanOrEqual(0);
    for (let r = 0; r < length; r++) if (Number.isFinite(run.value.forecast[r])) expect(run.value.p10[r]).toBeLessThanOrEqual(run.value.forecast[r]!);
  });

  it('keeps a percentage at or under 100 with --domain percent', () => {
    const utilisation = { timestampsSeconds, values: Float64Array.from({ length }, (_, i) => Math.min(100, 60 + 45 * Math.sin(i / 40))) };
    const run = runBacktest(utilisation, { horizonSeconds: 900, model: 'linear_trend', domain: 'percent' });
    expect(run.ok).toBe(true);
    if (!run.ok) return;
    expect(Math.max(...Array.from(run.value.p90).filter(Number.isFinite))).toBeLessThanOrEqual(100);
    expect(Math.max(...Array.from(run.value.p90).filter(Number.isFinite))).toBeGreaterThan(99);
  });

  it('refuses an unknown --domain, naming the choices', () => {
    const parsed = parseBacktestArgs(['--input', 'a.csv', '--out', 'b.csv', '--domain', 'positive']);
    expect(parsed).toEqual({ ok: false, error: '--domain "positive" is not a domain; use one of: nonnegative, percent, finite' });
  });
});
