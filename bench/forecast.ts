/**
 * `npm run bench:forecast`: rolling-origin 15-minute backtests of every baseline model, and of
 * `auto`, on the development traces in ../shared/data/dev (DESIGN.md "Quality bars"). Prints a
 * markdown table (or JSON with --json) of MASE per series and model, geometric means, WAPE,
 * p10–p90 coverage and the best single baseline chosen on validation.
 *
 * Usage: tsx bench/forecast.ts [--json] [--data DIR]
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { runBacktest } from '../src/cli/backtest.js';
import type { BacktestRun } from '../src/cli/backtest.js';
import { inferStepSeconds, parseTimestampValueCsv } from '../src/cli/csv.js';
import { formatDuration } from '../src/core/index.js';
import { forecasterNames, geometricMean } from '../src/forecast/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const horizonSeconds = 900;
/** The learned single models, shown beside the baselines (they are candidates of auto, not baselines). */
const learnedNames = ['lag_regression', 'random_forest'] as const;
/** Synthetic NAB series: listed, but kept out of every aggregate (they are not workloads). */
const syntheticPattern = /(^|\/)nab\/artificial/;

interface SeriesResult {
  readonly series: string;
  readonly synthetic: boolean;
  readonly rows: number;
  readonly badLines: number;
  readonly stepSeconds: number;
  readonly horizonSeconds: number;
  readonly horizonSteps: number;
  readonly horizonNote: string;
  /** Test MASE / WAPE / coverage per model name and 'auto'. */
  readonly mase: Readonly<Record<string, number>>;
  readonly wape: Readonly<Record<string, number>>;
  readonly coverage: Readonly<Record<string, number>>;
  /** Validation MASE per model (inside the training rows), from the auto run. */
  readonly validationMase: Readonly<Record<string, number>>;
  readonly autoChoice: string;
  readonly seconds: number;
}

function listCsv(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listCsv(path));
    else if (name.endsWith('.csv')) out.push(path);
  }
  return out;
}

function parseArgs(argv: readonly string[]): { json: boolean; dataDir: string } {
  let json = false;
  let dataDir = resolve(repoRoot, '../shared/data/dev');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--data' && argv[i + 1] !== undefined) dataDir = resolve(argv[++i]!);
    else {
      process.stderr.write(`bench:forecast: unknown argument "${arg}" (usage: tsx bench/forecast.ts [--json] [--data DIR])\n`);
      process.exit(2);
    }
  }
  return { json, dataDir };
}

async function benchSeries(path: string, dataDir: string): Promise<SeriesResult | undefined> {
  const began = performance.now();
  const series = relative(dataDir, path);
  const csv = parseTimestampValueCsv(await readFile(path, 'utf8'), path);
  const step = inferStepSeconds(csv.rows.timestampsSeconds);
  if (step === undefined) {
    process.stderr.write(`${series}: fewer than two usable rows, skipped\n`);
    return undefined;
  }
  // Steps longer than the horizon forecast one step ahead (the shortest horizon they allow).
  const horizon = step > horizonSeconds ? step : horizonSeconds;
  const runs = new Map<string, BacktestRun>();
  for (const model of ['auto', ...forecasterNames, ...learnedNames]) {
    const run = runBacktest(csv.rows, { horizonSeconds: horizon, model });
    if (!run.ok) throw new Error(`${series} ${model}: ${run.error}`);
    runs.set(model, run.value);
  }
  const auto = runs.get('auto')!;
  const pick = (f: (run: BacktestRun) => number): Record<string, number> =>
    Object.fromEntries([...runs].map(([model, run]) => [model, f(run)]));
  const effective = auto.horizon.effectiveSeconds;
  return {
    series,
    synthetic: syntheticPattern.test(series),
    rows: csv.rows.values.length,
    badLines: csv.badLines.length,
    stepSeconds: step,
    horizonSeconds: effective,
    horizonSteps: auto.horizon.steps,
    horizonNote:
      step > horizonSeconds ? 'one step (step > 15m)' : effective !== horizonSeconds ? `rounded to ${auto.horizon.steps} steps` : '',
    mase: pick((run) => run.accuracy.mase),
    wape: pick((run) => run.accuracy.wape),
    coverage: pick((run) => run.accuracy.coverage80),
    validationMase: Object.fromEntries((auto.selection?.scores ?? []).map((s) => [s.model, s.accuracy.mase])),
    autoChoice: auto.model,
    seconds: (performance.now() - began) / 1000,
  };
}

const fmt = (value: number | undefined, digits = 3): string => (value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const pct = (value: number | undefined): string => (value !== undefined && Number.isFinite(value) ? `${(100 * value).toFixed(1)} %` : 'n/a');

function mean(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}

interface Summary {
  readonly geomeanMase: Readonly<Record<string, number>>;
  readonly geomeanWape: Readonly<Record<string, number>>;
  readonly meanCoverage: Readonly<Record<string, number>>;
  readonly geomeanValidationMase: Readonly<Record<string, number>>;
  readonly bestOnValidation: string;
  readonly bestOnValidationTestMase: number;
}

function summarise(results: readonly SeriesResult[]): Summary {
  const models = [...forecasterNames, ...learnedNames, 'auto'];
  const per = (f: (r: SeriesResult, m: string) => number, agg: (v: number[]) => number): Record<string, number> =>
    Object.fromEntries(models.map((m) => [m, agg(results.map((r) => f(r, m)))]));
  const geomeanValidationMase = Object.fromEntries(
    forecasterNames.map((m) => [m, geometricMean(results.map((r) => r.validationMase[m] ?? Number.NaN))]),
  );
  // The one baseline a user would pick for every series from validation scores alone.
  let bestOnValidation: string = forecasterNames[0]!;
  for (const m of forecasterNames) if (geomeanValidationMase[m]! < geomeanValidationMase[bestOnValidation]!) bestOnValidation = m;
  const geomeanMase = per((r, m) => r.mase[m] ?? Number.NaN, geometricMean);
  return {
    geomeanMase,
    geomeanWape: per((r, m) => r.wape[m] ?? Number.NaN, geometricMean),
    meanCoverage: per((r, m) => r.coverage[m] ?? Number.NaN, mean),
    geomeanValidationMase,
    bestOnValidation,
    bestOnValidationTestMase: geomeanMase[bestOnValidation]!,
  };
}

function table(results: readonly SeriesResult[], summary: Summary | undefined): string {
  const models = [...forecasterNames, ...learnedNames];
  const lines: string[] = [];
  lines.push(`| series | rows | step | horizon | ${models.join(' | ')} | auto (choice) |`);
  lines.push(`|---|---:|---:|---|${models.map(() => '---:').join('|')}|---|`);
  for (const r of results) {
    const best = Math.min(...models.map((m) => r.mase[m] ?? Number.POSITIVE_INFINITY).filter(Number.isFinite));
    const cells = models.map((m) => (r.mase[m] === best ? `**${fmt(r.mase[m])}**` : fmt(r.mase[m])));
    const horizon = `${formatDuration(r.horizonSeconds)}${r.horizonNote !== '' ? ` (${r.horizonNote})` : ''}`;
    lines.push(`| ${r.series} | ${r.rows} | ${formatDuration(r.stepSeconds)} | ${horizon} | ${cells.join(' | ')} | ${fmt(r.mase.auto)} (${r.autoChoice}) |`);
  }
  if (summary !== undefined) {
    const row = (label: string, values: Readonly<Record<string, number>>, f: (v: number | undefined) => string, autoCell = true): string =>
      `| ${label} | | | | ${models.map((m) => f(values[m])).join(' | ')} | ${autoCell ? f(values.auto) : ''} |`;
    const lowest = Math.min(...models.map((m) => summary.geomeanMase[m] ?? Number.POSITIVE_INFINITY));
    lines.push(row('**geomean MASE (test)**', summary.geomeanMase, (v) => (v === lowest ? `**${fmt(v)}**` : fmt(v))));
    lines.push(row('geomean WAPE (test)', summary.geomeanWape, pct));
    lines.push(row('mean p10–p90 coverage (test)', summary.meanCoverage, pct));
    lines.push(row('geomean MASE (validation)', summary.geomeanValidationMase, fmt, false));
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { json, dataDir } = parseArgs(process.argv.slice(2));
  if (!existsSync(dataDir)) {
    process.stderr.write(
      `bench:forecast: data folder ${dataDir} not found. The benchmark needs the development traces ` +
        `(../shared/data/dev from the project root, see DESIGN.md "Data for benchmarks"), or pass --data DIR.\n`,
    );
    process.exit(2);
  }
  const began = performance.now();
  const results: SeriesResult[] = [];
  for (const path of listCsv(dataDir)) {
    const result = await benchSeries(path, dataDir);
    if (result === undefined) continue;
    results.push(result);
    process.stderr.write(`${result.series}: ${result.seconds.toFixed(1)} s\n`);
  }
  const real = results.filter((r) => !r.synthetic);
  const synthetic = results.filter((r) => r.synthetic);
  const summary = summarise(real);
  const seconds = (performance.now() - began) / 1000;
  if (json) {
    process.stdout.write(`${JSON.stringify({ command: 'npm run bench:forecast -- --json', dataDir, horizonSeconds, real, synthetic, summary }, null, 2)}\n`);
  } else {
    const out: string[] = [];
    out.push('## Forecast benchmark: rolling-origin MASE at a 15-minute horizon');
    out.push('');
    out.push(`Produced by \`npm run bench:forecast\` (\`tsx bench/forecast.ts\`) on \`${relative(repoRoot, dataDir) || dataDir}\`.`);
    out.push(
      'Each cell: MASE over the rows after the default train-until (70 % of rows), parameters fitted on the rows before, ' +
        'scale = in-sample seasonal-naive MAE (daily season) of the training rows. Lower is better; bold = best baseline of the row. ' +
        '`auto` = the baseline with the lowest MASE on a validation split inside the training rows, per series.',
    );
    out.push('');
    out.push(`### Real series (${real.length}): used for the quality bar`);
    out.push('');
    out.push(table(real, summary));
    out.push('');
    out.push(
      `**Best single baseline chosen on validation** (lowest geomean validation MASE over the real series): ` +
        `**${summary.bestOnValidation}**, test geomean MASE **${fmt(summary.bestOnValidationTestMase)}**. ` +
        `The quality bar (DESIGN.md) asks for a model at least 15 % below it: geomean MASE ≤ ${fmt(0.85 * summary.bestOnValidationTestMase)}. ` +
        `Per-series auto selection: ${fmt(summary.geomeanMase.auto)}.`,
    );
    out.push('');
    out.push(`### Synthetic series (${synthetic.length}, nab/artificial*): listed only, not in any aggregate`);
    out.push('');
    out.push(table(synthetic, undefined));
    out.push('');
    process.stdout.write(`${out.join('\n')}\n`);
  }
  process.stderr.write(`bench:forecast: ${results.length} series in ${seconds.toFixed(1)} s\n`);
}

await main();
