/**
 * The bundled demo workload: complete, readable, consistent with itself, and what the committed
 * generator writes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, test } from 'vitest';
import { allInputs, inputKey, type InputRef, type Sample } from '../../../src/core/index.js';
import { defaultReplayDir, loadReplayDir, replayFileName } from '../../../src/source/index.js';
import { demoQueues, demoStartMs, generateDemo, toCsv } from '../../../scripts/generate-demo.js';

const rowsPerTrace = 14 * 1440;
const hourMs = 3_600_000;

let traces: ReadonlyMap<string, readonly Sample[]>;
beforeAll(() => {
  const loaded = loadReplayDir(defaultReplayDir(), allInputs(demoQueues));
  expect(loaded.problems).toEqual([]);
  expect(loaded.missing).toEqual([]);
  traces = loaded.traces;
});

const values = (input: InputRef): number[] => traces.get(inputKey(input))!.map((s) => s.value);
const queue = (name: string, metric: 'depth' | 'enqueue_rate_per_second' | 'consumers'): InputRef => ({ kind: 'queue', queue: name, metric });

/** Mean of the samples selected by `where` (UTC weekday 0 = Sunday, hour 0-23). */
function meanWhere(input: InputRef, where: (weekday: number, hour: number) => boolean): number {
  const picked = traces.get(inputKey(input))!.filter((s) => {
    const date = new Date(s.timestampMs);
    return where(date.getUTCDay(), date.getUTCHours());
  });
  return picked.reduce((sum, s) => sum + s.value, 0) / picked.length;
}

describe('the bundled demo workload', () => {
  test('has every default input: 14 days at 60 s from Monday 2024-01-01', () => {
    expect(traces.size).toBe(50);
    for (const [key, samples] of traces) {
      expect(samples.length, key).toBe(rowsPerTrace);
      expect(samples[0]!.timestampMs, key).toBe(demoStartMs);
      expect(
        samples.every((s, i) => s.timestampMs === demoStartMs + i * 60_000 && Number.isFinite(s.value) && s.value >= 0),
        key,
      ).toBe(true);
    }
  });

  test('consumers never exceed the replicas of the pool that serves the queue', () => {
    const pools: Readonly<Record<string, InputRef>> = {
      batch_processing: { kind: 'replicas', resource: 'batch_processors' },
      ml_inference: { kind: 'replicas', resource: 'ml_workers' },
      validation: { kind: 'replicas', resource: 'worker_processes' },
      failed_claims: { kind: 'replicas', resource: 'worker_processes' },
      priority_claims: { kind: 'replicas', resource: 'worker_processes' },
    };
    for (const name of demoQueues) {
      const consumers = values(queue(name, 'consumers'));
      const replicas = values(pools[name]!);
      expect(
        consumers.every((c, i) => c <= replicas[i]!),
        name,
      ).toBe(true);
    }
  });

  test('has business hours and quiet weekends', () => {
    const input = queue('validation', 'enqueue_rate_per_second');
    const weekdayDay = meanWhere(input, (d, h) => d >= 1 && d <= 5 && h >= 10 && h < 16);
    const weekdayNight = meanWhere(input, (d, h) => d >= 1 && d <= 5 && h >= 0 && h < 5);
    const weekendDay = meanWhere(input, (d, h) => (d === 0 || d === 6) && h >= 10 && h < 16);
    expect(weekdayDay).toBeGreaterThan(5 * weekdayNight);
    expect(weekdayDay).toBeGreaterThan(2.5 * weekendDay);
  });

  test('has the nightly batch at 02:00, which pushes batch_processing above its 5,000 threshold', () => {
    const depth = traces.get(inputKey(queue('batch_processing', 'depth')))!;
    for (let day = 1; day <= 5; day++) {
      // Tuesday to Saturday nights follow a business day.
      const nightStartMs = demoStartMs + day * 24 * hourMs + 2 * hourMs;
      const peak = Math.max(...depth.filter((s) => s.timestampMs >= nightStartMs && s.timestampMs < nightStartMs + hourMs).map((s) => s.value));
      expect(peak, `night ${day}`).toBeGreaterThan(5000);
    }
    const replicas = values({ kind: 'replicas', resource: 'batch_processors' });
    expect(Math.max(...replicas)).toBe(8);
  });

  test('CPU follows the load average', () => {
    const cpu = values({ kind: 'system', metric: 'cpu_percent' });
    const load = values({ kind: 'system', metric: 'load5' });
    expect(correlation(cpu, load)).toBeGreaterThan(0.8);
  });

  test('is what scripts/generate-demo.ts writes (first two days compared)', () => {
    // A shorter run is an exact prefix of the full one, so two days check the committed files cheaply.
    const generated = generateDemo({ days: 2 });
    for (const input of allInputs(demoQueues)) {
      const file = join(defaultReplayDir(), `${replayFileName(input)}.gz`);
      const bundled = gunzipSync(readFileSync(file)).toString('utf8');
      const expected = toCsv(generated.get(inputKey(input))!);
      expect(bundled.startsWith(expected), file).toBe(true);
    }
  });

  test('generation is deterministic for a seed, and the seed matters', () => {
    const a = generateDemo({ days: 1, seed: 7 }).get('queue/validation/depth');
    const b = generateDemo({ days: 1, seed: 7 }).get('queue/validation/depth');
    const c = generateDemo({ days: 1, seed: 8 }).get('queue/validation/depth');
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});

function correlation(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
