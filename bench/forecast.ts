/**
 * `npm run bench:forecast`: rolling-origin 15-minute backtests of every baseline model, the learned
 * models, and `auto`, on the development traces in ../shared/data/dev (DESIGN.md "Quality bars").
 * Prints a markdown table (or JSON with --json) of MASE per series and model, geometric means,
 * WAPE, p10–p90 coverage, the best single baseline chosen on validation, and whether `auto` meets
 * the bar. With --lstm the service's global LSTM joins auto's candidates (and gets its own column):
 * one network per grid across the real series, settings chosen leave-one-dataset-out
 * (bench/support/global-lstm-columns.ts). --only REGEX keeps the series whose path matches.
 *
 * Usage: tsx bench/forecast.ts [--json] [--lstm] [--data DIR] [--only REGEX] [--lstm-variants NAME,...] [--lstm-epochs N] [--lstm-windows N]
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { runBacktest } from '../src/cli/backtest.js';
import type { BacktestRun } from '../src/cli/backtest.js';
import { inferStepSeconds, parseInputCsv } from '../src/cli/csv.js';
import { formatDuration } from '../src/core/index.js';
import { forecasterNames, geometricMean } from '../src/forecast/index.js';
import { type LstmColumnArgs, type LstmColumns, lstmColumns, lstmColumnUsage, lstmReport, parseLstmColumnArg } from './support/global-lstm-columns.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const horizonSeconds = 900;
/** The learned single models, shown beside the baselines (they are candidates of auto, not baselines). */
const learnedNames = ['lag_regression', 'random_forest'] as const;
/** Synthetic NAB series: listed, but kept out of every aggregate (they are not workloads). */
const syntheticPattern = /(^|\/)nab\/artificial/;
const short: Readonly<Record<string, string>> = {
  naive: 'naive',
  seasonal_naive: 'snaive',
  seasonal_mean: 'smean',
  linear_trend: 'lt',
  holt_winters: 'hw',
  lag_regression: 'lag',
  random_forest: 'rf',
  lstm: 'lstm',
};

interface SeriesResult {
  readonly series: string;
  readonly synthetic: boolean;
  readonly rows: number;
  readonly badLines: number;
  readonly stepSeconds: number;
  readonly horizonSeconds: number;
  readonly horizonSteps: number;
  readonly horizonNote: string;
  /** Test MASE / WAPE / coverage per model name, 'auto' and (with --lstm) 'lstm' and 'auto_lstm'. */
  readonly mase: Readonly<Record<string, number>>;
  readonly wape: Readonly<Record<string, number>>;
  readonly coverage: Readonly<Record<string, number>>;
  /** Validation MASE per candidate (inside the training rows), from the auto run. */
  readonly validationMase: Readonly<Record<string, number>>;
  readonly autoChoice: string;
  readonly autoLstmChoice?: string;
  readonly seconds: number;
}

interface Args {
  readonly json: boolean;
  readonly lstm: boolean;
  readonly dataDir: string;
  readonly only: RegExp | undefined;
  readonly lstmArgs: LstmColumnArgs;
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

function parseArgs(argv: readonly string[]): Args {
  let json = false;
  let lstm = false;
  let dataDir = resolve(repoRoot, '../shared/data/dev');
  let only: RegExp | undefined;
  const lstmArgs: { -readonly [K in keyof LstmColumnArgs]: LstmColumnArgs[K] } = { variants: ['default'] };
  const usage = `usage: tsx bench/forecast.ts [--json] [--lstm] [--data DIR] [--only REGEX] ${lstmColumnUsage}`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let consumed: number | undefined;
    try {
      consumed = parseLstmColumnArg(argv, i, lstmArgs);
      if (arg === '--only' && argv[i + 1] !== undefined) only = new RegExp(argv[i + 1]!);
    } catch (error) {
      process.stderr.write(`bench:forecast: ${error instanceof Error ? error.message : String(error)} (${usage})\n`);
      process.exit(2);
    }
    if (consumed !== undefined) i = consumed;
    else if (arg === '--json') json = true;
    else if (arg === '--lstm') lstm = true;
    else if (arg === '--data' && argv[i + 1] !== undefined) dataDir = resolve(argv[++i]!);
    else if (arg === '--only' && argv[i + 1] !== undefined) i++;
    else {
      process.stderr.write(`bench:forecast: unknown argument "${arg}" (${usage})\n`);
      process.exit(2);
    }
  }
  return { json, lstm, dataDir, only, lstmArgs };
}

/** "median_top3(rf, lag, hw)" from "auto: median_top3(random_forest, lag_regression, holt_winters)". */
function shortChoice(model: string): string {
  return model.replace(/^auto: /, '').replace(/[a-z_]+/g, (name) => short[name] ?? name);
}

/** An argument as it must be typed in a shell (the printed command is copied and re-run). */
function shellWord(arg: string): string {
  return /^[\w.,/=:@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** The step of a CSV's rows and the horizon it is benchmarked at (steps longer than the horizon forecast one step ahead). */
function horizonFor(step: number): number {
  return Math.max(step, horizonSeconds);
}

/** The LSTM columns of every real series (one training across them per grid). */
async function lstmColumnsOf(paths: readonly string[], args: Args): Promise<LstmColumns> {
  const inputs = [];
  for (const path of paths) {
    const series = relative(args.dataDir, path);
    if (syntheticPattern.test(series)) continue;
    const csv = parseInputCsv(await readFile(path, 'utf8'), path);
    const step = inferStepSeconds(csv.rows.timestampsSeconds);
    if (step !== undefined) inputs.push({ series, rows: csv.rows, horizonSeconds: horizonFor(step) });
  }
  return lstmColumns(inputs, args.lstmArgs, (line) => process.stderr.write(`bench:forecast: ${line}\n`));
}

async function benchSeries(path: string, args: Args, lstm: LstmColumns | undefined): Promise<SeriesResult | undefined> {
  const began = performance.now();
  const series = relative(args.dataDir, path);
  const csv = parseInputCsv(await readFile(path, 'utf8'), path);
  const step = inferStepSeconds(csv.rows.timestampsSeconds);
  if (step === undefined) {
    process.stderr.write(`${series}: fewer than two usable rows, skipped\n`);
    return undefined;
  }
  const horizon = horizonFor(step);
  const runs = new Map<string, BacktestRun>();
  for (const model of ['auto', ...forecasterNames, ...learnedNames]) {
    const run = runBacktest(csv.rows, { horizonSeconds: horizon, model });
    if (!run.ok) throw new Error(`${series} ${model}: ${run.error}`);
    runs.set(model, run.value);
  }
  const lstmRuns = lstm?.runs.get(series);
  if (lstmRuns !== undefined) {
    runs.set('lstm', lstmRuns.lstm);
    runs.set('auto_lstm', lstmRuns.autoLstm);
  }
  const auto = runs.get('auto')!;
  const pick = (f: (run: BacktestRun) => number): Record<string, number> => Object.fromEntries([...runs].map(([model, run]) => [model, f(run)]));
  const effective = auto.horizon.effectiveSeconds;
  const validationSource = runs.get('auto_lstm') ?? auto;
  return {
    series,
    synthetic: syntheticPattern.test(series),
    rows: csv.rows.values.length,
    badLines: csv.badLines.length,
    stepSeconds: step,
    horizonSeconds: effective,
    horizonSteps: auto.horizon.steps,
    horizonNote: step > horizonSeconds ? 'one step (step > 15m)' : effective !== horizonSeconds ? `rounded to ${auto.horizon.steps} steps` : '',
    mase: pick((run) => run.accuracy.mase),
    wape: pick((run) => run.accuracy.wape),
    coverage: pick((run) => run.accuracy.coverage80),
    validationMase: Object.fromEntries((validationSource.selection?.scores ?? []).map((s) => [s.model, s.fitted ? s.accuracy.mase : Number.NaN])),
    autoChoice: shortChoice(auto.model),
    ...(runs.has('auto_lstm') ? { autoLstmChoice: shortChoice(runs.get('auto_lstm')!.model) } : {}),
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
  readonly bar: number;
}

function columnsOf(lstm: boolean): { singles: string[]; autos: string[] } {
  return { singles: [...forecasterNames, ...learnedNames, ...(lstm ? ['lstm'] : [])], autos: ['auto', ...(lstm ? ['auto_lstm'] : [])] };
}

function summarise(results: readonly SeriesResult[], lstm: boolean): Summary {
  const { singles, autos } = columnsOf(lstm);
  const models = [...singles, ...autos];
  const per = (f: (r: SeriesResult, m: string) => number, agg: (v: number[]) => number): Record<string, number> => Object.fromEntries(models.map((m) => [m, agg(results.map((r) => f(r, m)))]));
  const geomeanValidationMase = Object.fromEntries(singles.map((m) => [m, geometricMean(results.map((r) => r.validationMase[m] ?? Number.NaN))]));
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
    bar: 0.85 * geomeanMase[bestOnValidation]!,
  };
}

function table(results: readonly SeriesResult[], summary: Summary | undefined, lstm: boolean): string {
  const { singles, autos } = columnsOf(lstm);
  const autoHeader = autos.map((a) => (a === 'auto' ? 'auto (choice)' : 'auto + lstm (choice)'));
  const lines: string[] = [];
  lines.push(`| series | rows | step | horizon | ${singles.join(' | ')} | ${autoHeader.join(' | ')} |`);
  lines.push(`|---|---:|---:|---|${singles.map(() => '---:').join('|')}|${autos.map(() => '---').join('|')}|`);
  for (const r of results) {
    const best = Math.min(...forecasterNames.map((m) => r.mase[m] ?? Number.POSITIVE_INFINITY).filter(Number.isFinite));
    const cells = singles.map((m) => (r.mase[m] === best ? `**${fmt(r.mase[m])}**` : fmt(r.mase[m])));
    const autoCells = autos.map((a) => `${fmt(r.mase[a])} (${a === 'auto' ? r.autoChoice : (r.autoLstmChoice ?? '')})`);
    const horizon = `${formatDuration(r.horizonSeconds)}${r.horizonNote !== '' ? ` (${r.horizonNote})` : ''}`;
    lines.push(`| ${r.series} | ${r.rows} | ${formatDuration(r.stepSeconds)} | ${horizon} | ${cells.join(' | ')} | ${autoCells.join(' | ')} |`);
  }
  if (summary !== undefined) {
    const row = (label: string, values: Readonly<Record<string, number>>, f: (v: number | undefined) => string, withAutos = true): string =>
      `| ${label} | | | | ${singles.map((m) => f(values[m])).join(' | ')} | ${autos.map((a) => (withAutos ? f(values[a]) : '')).join(' | ')} |`;
    lines.push(row('**geomean MASE (test)**', summary.geomeanMase, (v) => fmt(v)));
    lines.push(row('geomean WAPE (test)', summary.geomeanWape, pct));
    lines.push(row('mean p10–p90 coverage (test)', summary.meanCoverage, pct));
    lines.push(row('geomean MASE (validation)', summary.geomeanValidationMase, fmt, false));
  }
  return lines.join('\n');
}

function verdict(summary: Summary, model: string, label: string): string {
  const mase = summary.geomeanMase[model]!;
  const coverage = summary.meanCoverage[model]!;
  const improvement = 1 - mase / summary.bestOnValidationTestMase;
  const maseOk = mase <= summary.bar;
  const coverageOk = coverage >= 0.75 && coverage <= 0.85;
  return (
    `**${label}**: geomean MASE **${fmt(mase)}** (${(100 * improvement).toFixed(1)} % below ${summary.bestOnValidation}; bar ≤ ${fmt(summary.bar)}: ` +
    `${maseOk ? 'met' : 'NOT met'}), mean p10–p90 coverage **${pct(coverage)}** (bar 75–85 %: ${coverageOk ? 'met' : 'NOT met'}).`
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(args.dataDir)) {
    process.stderr.write(
      `bench:forecast: data folder ${args.dataDir} not found. The benchmark needs the development traces ` +
        `(../shared/data/dev from the project root, see DESIGN.md "Data for benchmarks"), or pass --data DIR.\n`,
    );
    process.exit(2);
  }
  const began = performance.now();
  const results: SeriesResult[] = [];
  const paths = listCsv(args.dataDir).filter((path) => args.only === undefined || args.only.test(relative(args.dataDir, path)));
  const lstm = args.lstm ? await lstmColumnsOf(paths, args) : undefined;
  for (const path of paths) {
    const result = await benchSeries(path, args, lstm);
    if (result === undefined) continue;
    results.push(result);
    process.stderr.write(`${result.series}: ${result.seconds.toFixed(1)} s\n`);
  }
  const real = results.filter((r) => !r.synthetic);
  const synthetic = results.filter((r) => r.synthetic);
  const summary = summarise(real, args.lstm);
  const seconds = (performance.now() - began) / 1000;
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ command: `npm run bench:forecast -- ${process.argv.slice(2).map(shellWord).join(' ')}`, dataDir: args.dataDir, horizonSeconds, seconds, real, synthetic, summary, ...(lstm !== undefined ? { lstm: { choices: lstm.choices, options: lstm.options, report: lstmReport(real, lstm) } } : {}) }, null, 2)}\n`,
    );
  } else {
    const out: string[] = [];
    out.push('## Forecast benchmark: rolling-origin MASE at a 15-minute horizon');
    out.push('');
    out.push(
      `Produced by \`npm run bench:forecast${process.argv.length > 2 ? ` -- ${process.argv.slice(2).map(shellWord).join(' ')}` : ''}\` (\`tsx bench/forecast.ts\`) on \`${relative(repoRoot, args.dataDir) || args.dataDir}\` in ${seconds.toFixed(0)} s.`,
    );
    out.push(
      'Each cell: MASE over the rows after the default train-until (70 % of rows), parameters fitted on the rows before, ' +
        'scale = in-sample seasonal-naive MAE (daily season) of the training rows. Lower is better; bold = best baseline of the row. ' +
        '`auto` = per series, the combination of candidates (best alone, median or mean of the best few) with the lowest error on a validation split inside the training rows ' +
        `(${Object.entries(short)
          .map(([k, v]) => `${v} = ${k}`)
          .join(', ')}).`,
    );
    out.push('');
    out.push(`### Real series (${real.length}): used for the quality bar`);
    out.push('');
    out.push(table(real, summary, args.lstm));
    out.push('');
    out.push(
      `**Best single baseline chosen on validation** (lowest geomean validation MASE over the real series): ` +
        `**${summary.bestOnValidation}**, test geomean MASE **${fmt(summary.bestOnValidationTestMase)}**. ` +
        `The quality bar (DESIGN.md) asks for at least 15 % below it: geomean MASE ≤ ${fmt(summary.bar)}, with p10–p90 coverage 75–85 %.`,
    );
    out.push('');
    out.push(`- ${verdict(summary, 'auto', 'auto')}`);
    if (args.lstm) out.push(`- ${verdict(summary, 'auto_lstm', 'auto with the LSTM')}`);
    out.push('');
    if (lstm !== undefined) {
      out.push(...lstmReport(real, lstm));
      out.push('');
    }
    out.push(`### Synthetic series (${synthetic.length}, nab/artificial*): listed only, not in any aggregate`);
    out.push('');
    out.push(table(synthetic, undefined, args.lstm));
    out.push('');
    process.stdout.write(`${out.join('\n')}\n`);
  }
  process.stderr.write(`bench:forecast: ${results.length} series in ${seconds.toFixed(1)} s\n`);
}

await main();
