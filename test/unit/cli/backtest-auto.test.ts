import { describe, expect, it } from 'vitest';
import { backtestModelNames, parseBacktestArgs, runBacktest } from '../../../src/cli/backtest.js';
import type { TimestampValueRows } from '../../../src/cli/csv.js';
import { normals } from '../forecast/series-helpers.js';

/** Five days of 5-minute rows: a daily cycle, AR noise, spikes, a gap and a few off-step rows. */
function rows(): TimestampValueRows {
  const noise = normals(21);
  const t: number[] = [];
  const v: number[] = [];
  let ar = 0;
  for (let i = 0; i < 5 * 288; i++) {
    if (i >= 700 && i < 720) continue;
    ar = 0.7 * ar + 3 * noise();
    t.push(1_700_000_000 + i * 300 + (i % 101 === 0 ? 60 : 0));
    v.push(300 + 100 * Math.sin((2 * Math.PI * i) / 288) + ar + (i % 89 === 0 ? 50 : 0));
  }
  return { timestampsSeconds: Float64Array.from(t), values: Float64Array.from(v) };
}

const all = rows();
const trainUntil = all.timestampsSeconds[Math.floor(0.6 * all.values.length)]!;
const cut = (n: number): TimestampValueRows => ({ timestampsSeconds: all.timestampsSeconds.subarray(0, n), values: all.values.subarray(0, n) });

describe('foresight backtest --model auto', () => {
  it('accepts auto and the learned models by name', () => {
    for (const model of ['auto', ...backtestModelNames]) {
      const parsed = parseBacktestArgs(['--input', 'a.csv', '--out', 'b.csv', '--model', model]);
      expect(parsed.ok).toBe(true);
    }
    expect(parseBacktestArgs(['--input', 'a.csv', '--out', 'b.csv', '--model', 'prophet']).ok).toBe(false);
  });

  it('has no look-ahead: removing later rows leaves every earlier forecast unchanged', () => {
    const full = runBacktest(all, { horizonSeconds: 900, trainUntilSeconds: trainUntil, model: 'auto' });
    const n = Math.floor(0.85 * all.values.length);
    const shorter = runBacktest(cut(n), { horizonSeconds: 900, trainUntilSeconds: trainUntil, model: 'auto' });
    if (!full.ok || !shorter.ok) throw new Error('backtest failed');
    expect(shorter.value.model).toBe(full.value.model);
    for (let r = 0; r < n; r++) {
      expect(shorter.value.forecast[r], `row ${r}`).toBe(full.value.forecast[r]);
      expect(shorter.value.p10[r]).toBe(full.value.p10[r]);
      expect(shorter.value.p90[r]).toBe(full.value.p90[r]);
    }
  });

  it('is deterministic and reports what it chose from validation', () => {
    const a = runBacktest(all, { horizonSeconds: 900, model: 'auto' });
    const b = runBacktest(all, { horizonSeconds: 900, model: 'auto' });
    if (!a.ok || !b.ok) throw new Error('backtest failed');
    expect(Array.from(b.value.forecast)).toEqual(Array.from(a.value.forecast));
    expect(a.value.model).toMatch(/^auto: /);
    expect(a.value.autoSelection?.candidates.map((c) => c.model)).toEqual(expect.arrayContaining(['holt_winters', 'lag_regression', 'random_forest']));
    // The test rows (after train-until) are scored; the choice was made on validation rows before it.
    expect(a.value.accuracy.count).toBeGreaterThan(300);
    expect(a.value.autoSelection!.splitIndex).toBeLessThan(a.value.trainRows);
  });
});
