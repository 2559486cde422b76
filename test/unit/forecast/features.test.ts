import { describe, expect, it } from 'vitest';
import {
  applyNormalization,
  buildFeatureColumns,
  buildWindows,
  calendarPosition,
  carryForward,
  civilFromDays,
  defaultFeatureNames,
  featureNames,
  fitNormalization,
  lagFeatureCount,
  lagFeatureMatrix,
  lagFeatureNames,
  lagFeatureRow,
  lagged,
  targetScaleOf,
  trailingMean,
  windowOrigins,
  windowTargets,
} from '../../../src/forecast/index.js';
import type { FeatureName } from '../../../src/forecast/index.js';
import { configSchema } from '../../../src/config/index.js';

const hourMs = 3_600_000;
// 2024-01-01 00:00 UTC was a Monday.
const monday = Date.UTC(2024, 0, 1);

describe('calendar', () => {
  const cases = [
    { name: 'Monday midnight', at: monday, day: 0, week: 0, business: 0 },
    { name: 'Monday 09:00 (business hours start)', at: monday + 9 * hourMs, day: 9 / 24, week: 9 / 24 / 7, business: 1 },
    { name: 'Monday 17:00 (business hours are over)', at: monday + 17 * hourMs, day: 17 / 24, week: 17 / 24 / 7, business: 0 },
    { name: 'Saturday noon (weekend)', at: monday + 5 * 24 * hourMs + 12 * hourMs, day: 0.5, week: 5.5 / 7, business: 0 },
    { name: 'Sunday 23:00', at: monday + 6 * 24 * hourMs + 23 * hourMs, day: 23 / 24, week: (6 + 23 / 24) / 7, business: 0 },
  ];
  it.each(cases)('$name', ({ at, day, week, business }) => {
    const p = calendarPosition(at);
    expect(p.dayFraction).toBeCloseTo(day, 9);
    expect(p.weekFraction).toBeCloseTo(week, 9);
    expect(p.businessHours).toBe(business);
  });

  const dates = [
    ['1970-01-01', 0],
    ['2000-02-29', 11016],
    ['2024-12-31', 20088],
    ['1969-12-31', -1],
  ] as const;
  it.each(dates)('civilFromDays gives %s for day %i', (iso, days) => {
    const { year, month, day } = civilFromDays(days);
    expect(`${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`).toBe(iso);
  });

  it('day of month and month are fractions of their cycles', () => {
    const p = calendarPosition(Date.UTC(2024, 1, 15, 12)); // 15 Feb 2024, a leap year: 29 days
    expect(p.monthFraction).toBeCloseTo(14.5 / 29, 9);
    expect(p.yearFraction).toBeCloseTo(1 / 12, 9);
  });
});

describe('lag features', () => {
  const grid = { startMs: monday, stepSeconds: 300, horizonSteps: 3, seasonSteps: 12 };
  const values = Float64Array.from({ length: 200 }, (_, i) => i);
  it('are relative to the level: a ramp has known moving averages, changes and seasonal lags', () => {
    const row = new Float64Array(lagFeatureCount);
    const t = 120;
    expect(lagFeatureRow(values, t, grid, row)).toBe(120);
    const get = (name: (typeof lagFeatureNames)[number]) => row[lagFeatureNames.indexOf(name)]!;
    const table: [(typeof lagFeatureNames)[number], number][] = [
      ['mean_3_minus_level', -1],
      ['mean_6_minus_level', -2.5],
      ['mean_12_minus_level', -5.5],
      ['median_5_minus_level', -2],
      // season back = ceil(3/12)·12 = 12: value at t+3−12 = 111
      ['season_target_minus_level', -9],
      ['season_change', 3],
      ['season_change_avg7', 3],
      ['week_target_minus_level', 3 - 84],
      ['change_1', 1],
      ['change_h', 3],
    ];
    for (const [name, expected] of table) expect(get(name), name).toBeCloseTo(expected, 12);
  });

  it('read nothing after the origin (changing later values changes no earlier row)', () => {
    const base = lagFeatureMatrix(values, grid);
    const changed = Float64Array.from(values);
    for (let i = 150; i < changed.length; i++) changed[i] = -1000;
    const after = lagFeatureMatrix(changed, grid);
    expect(Array.from(after.rows.subarray(0, 150 * lagFeatureCount))).toEqual(Array.from(base.rows.subarray(0, 150 * lagFeatureCount)));
  });

  it('treat missing points as no information, and have no level before the first value', () => {
    const gappy = Float64Array.from({ length: 50 }, (_, i) => (i < 5 || i % 7 === 0 ? Number.NaN : 10));
    const { rows, levels } = lagFeatureMatrix(gappy, grid);
    expect(Number.isNaN(levels[3]!)).toBe(true);
    expect(levels[14]).toBe(10);
    for (let j = 0; j < 12; j++) expect(rows[20 * lagFeatureCount + j]).toBe(0);
  });
});

describe('feature catalog', () => {
  const step = 300;
  const n = 3 * 288;
  const target = { startMs: monday, stepSeconds: step, values: Float64Array.from({ length: n }, (_, i) => (i % 50 === 0 ? Number.NaN : i)) };

  it('lists the same features as the configuration accepts', () => {
    const configured = configSchema.shape.ml.unwrap().shape.lstm.unwrap().shape.features.unwrap().element.options;
    expect([...configured]).toEqual([...featureNames]);
    expect(defaultFeatureNames).toHaveLength(8);
  });

  const table: { name: FeatureName; at: number; expected: number }[] = [
    { name: 'value', at: 100, expected: 99 }, // index 100 is missing: carried forward
    { name: 'growth', at: 101, expected: 2 },
    { name: 'value_1h_ago', at: 200, expected: 188 },
    { name: 'value_24h_ago', at: 300, expected: 12 },
    { name: 'hour_sin', at: 72, expected: Math.sin((2 * Math.PI * 6) / 24) }, // 06:00
    { name: 'business_hours', at: 108, expected: 1 }, // Monday 09:00
    { name: 'business_hours', at: 6, expected: 0 },
  ];
  it.each(table)('$name at $at', ({ name, at, expected }) => {
    const [column] = buildFeatureColumns({ target }, [name]);
    expect(column![at]).toBeCloseTo(expected, 9);
  });

  it('uses covariates on the same grid and leaves absent ones as NaN', () => {
    const cpu = { startMs: monday + 10 * step * 1000, stepSeconds: step, values: Float64Array.from({ length: 20 }, (_, i) => 50 + i) };
    const [withCpu, processing] = buildFeatureColumns({ target, covariates: { cpu_percent: cpu } }, ['cpu_percent', 'processing_rate']);
    expect(withCpu![12]).toBe(52);
    expect(withCpu![40]).toBe(69); // carried forward past the covariate's end
    expect(Number.isNaN(withCpu![5]!)).toBe(true);
    expect(processing!.every(Number.isNaN)).toBe(true);
  });

  it('is causal for every feature: truncating the series changes no earlier column value', () => {
    const full = buildFeatureColumns({ target }, featureNames);
    const cut = buildFeatureColumns({ target: { ...target, values: target.values.subarray(0, 500) } }, featureNames);
    full.forEach((column, f) => {
      for (let i = 0; i < 500; i++) {
        const a = column[i]!;
        const b = cut[f]![i]!;
        if (Number.isNaN(a)) expect(Number.isNaN(b), featureNames[f]).toBe(true);
        else expect(b, `${featureNames[f]} at ${i}`).toBe(a);
      }
    });
  });

  it('helpers: carryForward, lagged, trailingMean', () => {
    expect(Array.from(carryForward(Float64Array.of(Number.NaN, 1, Number.NaN, 3)))).toEqual([Number.NaN, 1, 1, 3]);
    expect(Array.from(lagged(Float64Array.of(1, 2, 3), 1))).toEqual([Number.NaN, 1, 2]);
    expect(Array.from(trailingMean(Float64Array.of(1, Number.NaN, 3, 5), 2))).toEqual([1, 1, 3, 4]);
  });
});

describe('normalisation', () => {
  it('scales to zero mean and unit variance on the chosen rows, maps NaN to 0 and constants to 0', () => {
    const columns = [Float64Array.of(1, 2, 3, 100), Float64Array.of(5, 5, 5, 5), Float64Array.of(Number.NaN, 2, 4, 6)];
    const norm = fitNormalization(['a', 'b', 'c'], columns, Int32Array.of(0, 1, 2));
    expect(norm.mean).toEqual([2, 5, 3]);
    expect(norm.std[0]).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(norm.std[1]).toBe(1);
    const [a, b, c] = applyNormalization(columns, norm);
    expect(a![1]).toBe(0);
    expect(Array.from(b!)).toEqual([0, 0, 0, 0]);
    expect(c![0]).toBe(0);
  });
});

describe('windowing', () => {
  const values = Float64Array.of(1, 2, 3, 4, 5, Number.NaN, 7, 8);
  const levels = carryForward(values);
  it('chooses origins with a full window, a level and a finite target', () => {
    expect(Array.from(windowOrigins(values, levels, 3, 2, 7))).toEqual([2, 4, 5]);
    expect(Array.from(windowOrigins(values, levels, 3, 2, 7, false))).toEqual([2, 3, 4, 5, 6, 7]);
  });
  it('lays windows out as [origin][step][feature]', () => {
    const columns = [Float32Array.of(0, 1, 2, 3), Float32Array.of(10, 11, 12, 13)];
    expect(Array.from(buildWindows(columns, Int32Array.of(1, 3), 2))).toEqual([0, 10, 1, 11, 2, 12, 3, 13]);
    expect(() => buildWindows(columns, Int32Array.of(0), 2)).toThrow(RangeError);
  });
  it('targets are scaled changes from the level', () => {
    const origins = Int32Array.of(2, 4);
    const scale = targetScaleOf(values, levels, origins, 2);
    expect(scale).toBe(1); // both changes are 2: std 0 → 1
    expect(Array.from(windowTargets(values, levels, origins, 2, 2))).toEqual([1, 1]);
  });
});
