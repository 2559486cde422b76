/**
 * `npm run bench:anomaly`: every registered detector over every labelled series in
 * ../shared/data (the NAB series of labels.json and the NASA-HTTP outage of windows_unix.json),
 * scored the NAB way (reference/prediction-and-evaluation.md §4.1) under the standard,
 * reward_low_FP_rate and reward_low_FN_rate profiles, normalised 0–100 between the null detector
 * and the perfect one. Prints markdown tables (or JSON with --json):
 *
 * - at NAB's threshold: the one threshold per detector and profile that maximises the corpus
 *   score, as NAB's optimiser does (tuned on the corpus it scores, so optimistic);
 * - at the detector's own fixed operating threshold (what `foresight detect` and the service use),
 *   with false alerts per series per day.
 *
 * Headline: the adaptive detector's settings chosen leaving one category out (the NAB categories
 * and the NASA trace; bench/support/anomaly-selection.ts), its pooled held-out NAB standard score
 * beside the in-sample one, its false-positive rate and its alerts per series-day on the NAB
 * anomaly-free series. Corpus: the real series (NAB real* and NASA). The synthetic NAB series are
 * scored in a second table only: the data README forbids them in accuracy claims.
 *
 * With --ablation it also scores variants of the default detector with one part removed or
 * changed (real series, standard profile), which is how each part earned its place.
 *
 * Usage: tsx bench/anomaly.ts [--json] [--per-series] [--ablation] [--data DIR] [--detector NAME]...
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import {
  adaptiveDefaults,
  adaptiveOperatingThreshold,
  createAdaptiveDetector,
  createDetector,
  defaultDetectorName,
  detectorNames,
  nabProbationLength,
  nabProfileNames,
  nabProfiles,
  nabWindowsFromLabels,
  nabWindowsFromTimes,
  optimiseNabThreshold,
  scoreNabCorpus,
  scoreNabFile,
} from '../src/anomaly/index.js';
import type { AdaptiveParameters, AnomalyDetector, NabCorpusScore, NabFile, NabProfileName, NabScoredFile, NabWindow } from '../src/anomaly/index.js';
import { parseInputCsv } from '../src/cli/csv.js';
import { parameterDifferences, selectAdaptiveSettings } from './support/anomaly-selection.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dayMs = 86_400_000;

interface Args {
  readonly json: boolean;
  readonly perSeries: boolean;
  readonly ablation: boolean;
  readonly dataDir: string;
  readonly detectors: readonly string[];
}

function parseArgs(argv: readonly string[]): Args {
  let json = false;
  let perSeries = false;
  let ablation = false;
  let dataDir = resolve(repoRoot, '../shared/data');
  const detectors: string[] = [];
  const fail = (message: string): never => {
    process.stderr.write(`bench:anomaly: ${message} (usage: tsx bench/anomaly.ts [--json] [--per-series] [--ablation] [--data DIR] [--detector NAME]...)\n`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--per-series') perSeries = true;
    else if (arg === '--ablation') ablation = true;
    else if (arg === '--data') dataDir = resolve(argv[++i] ?? fail('--data needs a folder'));
    else if (arg === '--detector') {
      const name = argv[++i] ?? fail('--detector needs a name');
      if (createDetector(name) === undefined) fail(`unknown detector "${name}"; known: ${detectorNames.join(', ')}`);
      detectors.push(name);
    } else fail(`unknown argument "${arg}"`);
  }
  return { json, perSeries, ablation, dataDir, detectors: detectors.length > 0 ? detectors : [...detectorNames] };
}

/** One labelled series, ready to score. */
interface LabelledSeries {
  /** Path relative to the data folder, as in windows_unix.json. */
  readonly key: string;
  /** Its folder: the NAB category (realTweets, ...) or the dataset (web). */
  readonly category: string;
  readonly synthetic: boolean;
  readonly values: Float64Array;
  readonly timestampsMs: Float64Array;
  readonly file: NabFile;
  readonly badLines: number;
}

async function loadCorpus(dataDir: string): Promise<LabelledSeries[]> {
  const windowsPath = join(dataDir, 'windows_unix.json');
  if (!existsSync(windowsPath)) {
    process.stderr.write(`bench:anomaly: ${windowsPath} not found; the benchmark needs ../shared/data (see its README)\n`);
    process.exit(2);
  }
  const windows = JSON.parse(await readFile(windowsPath, 'utf8')) as Record<string, [number, number][]>;
  const out: LabelledSeries[] = [];
  for (const [key, limits] of Object.entries(windows).sort(([a], [b]) => a.localeCompare(b))) {
    const csv = parseInputCsv(await readFile(join(dataDir, key), 'utf8'), key);
    const timestampsMs = csv.rows.timestampsSeconds.map((t) => t * 1000);
    const rowCount = timestampsMs.length;
    const nabWindows = nabWindowsFromTimes(
      timestampsMs,
      limits.map(([start, end]) => ({ startMs: start * 1000, endMs: end * 1000 })),
    );
    const probationLength = nabProbationLength(rowCount);
    const folders = key.split('/');
    out.push({
      key,
      category: folders[folders.length - 2] ?? '.',
      synthetic: /(^|\/)nab\/artificial/.test(key),
      values: csv.rows.values,
      timestampsMs,
      file: { name: key, rowCount, probationLength, windows: nabWindows },
      badLines: csv.badLines.length,
    });
  }
  return out;
}

/** NAB's own timestamps ("2015-03-03 21:07:53[.000000]") are UTC wall-clock times. */
function nabTimeMs(text: string): number {
  return Date.parse(`${text.trim().replace(' ', 'T')}Z`);
}

/**
 * A check of the window arithmetic: rebuild every NAB file's windows from its point labels
 * (labels_points.json) with nabWindowsFromLabels and compare with NAB's published windows
 * (labels.json). Differences come from files whose row count differs from NAB's original.
 */
async function checkWindowConstruction(dataDir: string, corpus: readonly LabelledSeries[]): Promise<string> {
  const pointsPath = join(dataDir, 'labels_points.json');
  const windowsPath = join(dataDir, 'labels.json');
  if (!existsSync(pointsPath) || !existsSync(windowsPath)) return 'labels_points.json or labels.json missing: window construction not checked';
  const points = JSON.parse(await readFile(pointsPath, 'utf8')) as Record<string, string[]>;
  const published = JSON.parse(await readFile(windowsPath, 'utf8')) as Record<string, [string, string][]>;
  let files = 0;
  let identical = 0;
  const differing: string[] = [];
  for (const series of corpus) {
    const nabKey = series.key.replace(/^dev\/nab\//, '');
    const labels = points[nabKey];
    const windows = published[nabKey];
    if (labels === undefined || windows === undefined) continue;
    files++;
    const rows = labels.map((t) => series.timestampsMs.indexOf(nabTimeMs(t))).filter((row) => row >= 0);
    const built = nabWindowsFromLabels(rows, series.file.rowCount).windows;
    const expected: NabWindow[] = nabWindowsFromTimes(
      series.timestampsMs,
      windows.map(([a, b]) => ({ startMs: nabTimeMs(a), endMs: nabTimeMs(b) })),
    );
    const same = built.length === expected.length && built.every((w, i) => w.left === expected[i]!.left && w.right === expected[i]!.right);
    if (same) identical++;
    else differing.push(nabKey);
  }
  return `window construction check: ${identical}/${files} NAB files' windows rebuilt from labels_points.json equal labels.json` + (differing.length > 0 ? ` (differ: ${differing.join(', ')})` : '');
}

interface DetectorRun {
  readonly detector: string;
  readonly operatingThreshold: number;
  readonly seconds: number;
  readonly microsecondsPerPoint: number;
  /** Scores per series, in corpus order. */
  readonly scores: readonly Float64Array[];
}

function runDetector(name: string, corpus: readonly LabelledSeries[], detector: AnomalyDetector = createDetector(name)!): DetectorRun {
  const began = performance.now();
  let points = 0;
  const scores = corpus.map((series) => {
    const verdicts = detector.scoreSeries(series.values, series.timestampsMs);
    points += verdicts.length;
    return Float64Array.from(verdicts, (v) => v.score);
  });
  const seconds = (performance.now() - began) / 1000;
  return { detector: name, operatingThreshold: detector.operatingThreshold, seconds, microsecondsPerPoint: (seconds * 1e6) / points, scores };
}

interface FalseAlerts {
  /** Mean over series of flagged rows outside windows per scored day. */
  readonly rowsPerSeriesDay: number;
  /** Mean over series of alert episodes (runs of flagged rows) outside windows per scored day. */
  readonly episodesPerSeriesDay: number;
}

/** False alerts at a threshold, counted after the probationary period (the part NAB scores). */
function falseAlerts(corpus: readonly LabelledSeries[], scores: readonly Float64Array[], threshold: number): FalseAlerts {
  let rows = 0;
  let episodes = 0;
  corpus.forEach((series, s) => {
    const { file, timestampsMs } = series;
    const inWindow = new Uint8Array(file.rowCount);
    for (const w of file.windows) inWindow.fill(1, w.left, w.right + 1);
    let fpRows = 0;
    let fpEpisodes = 0;
    let previous = false;
    for (let i = file.probationLength; i < file.rowCount; i++) {
      const flagged = scores[s]![i]! >= threshold;
      if (flagged && inWindow[i] === 0) {
        fpRows++;
        if (!previous) fpEpisodes++;
      }
      previous = flagged;
    }
    const days = Math.max(1e-9, (timestampsMs[file.rowCount - 1]! - timestampsMs[Math.min(file.probationLength, file.rowCount - 1)]!) / dayMs);
    rows += fpRows / days;
    episodes += fpEpisodes / days;
  });
  return { rowsPerSeriesDay: rows / corpus.length, episodesPerSeriesDay: episodes / corpus.length };
}

interface CorpusResult {
  readonly detector: string;
  readonly optimised: Readonly<Record<NabProfileName, NabCorpusScore>>;
  readonly operating: Readonly<Record<NabProfileName, NabCorpusScore>>;
  readonly falseAlerts: FalseAlerts;
  readonly operatingThreshold: number;
  readonly seconds: number;
  readonly microsecondsPerPoint: number;
}

function scoreCorpus(run: DetectorRun, corpus: readonly LabelledSeries[], indices: readonly number[]): CorpusResult {
  const part = indices.map((i) => corpus[i]!);
  const scores = indices.map((i) => run.scores[i]!);
  const scored: NabScoredFile[] = part.map((series, k) => ({ file: series.file, scores: scores[k]! }));
  const byProfile = (f: (profile: (typeof nabProfiles)[NabProfileName]) => NabCorpusScore) =>
    Object.fromEntries(nabProfileNames.map((p) => [p, f(nabProfiles[p])])) as Record<NabProfileName, NabCorpusScore>;
  return {
    detector: run.detector,
    optimised: byProfile((profile) => optimiseNabThreshold(scored, profile)),
    operating: byProfile((profile) => scoreNabCorpus(scored, run.operatingThreshold, profile)),
    falseAlerts: falseAlerts(part, scores, run.operatingThreshold),
    operatingThreshold: run.operatingThreshold,
    seconds: run.seconds,
    microsecondsPerPoint: run.microsecondsPerPoint,
  };
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

function resultTable(results: readonly CorpusResult[]): string {
  const lines = [
    '| detector | standard | reward low FP | reward low FN | NAB thresholds (std / lowFP / lowFN) | windows found (std) | standard at operating threshold | windows found | false alerts / series / day (rows, episodes) | µs / point |',
    '|---|---:|---:|---:|---|---:|---:|---:|---|---:|',
  ];
  for (const r of results) {
    const o = r.optimised;
    const op = r.operating.standard;
    const mark = r.detector === defaultDetectorName ? ' (default)' : '';
    lines.push(
      `| ${r.detector}${mark} | ${f1(o.standard.normalised)} | ${f1(o.reward_low_FP_rate.normalised)} | ${f1(o.reward_low_FN_rate.normalised)} | ` +
        `${f4(o.standard.threshold)} / ${f4(o.reward_low_FP_rate.threshold)} / ${f4(o.reward_low_FN_rate.threshold)} | ` +
        `${o.standard.detectedWindows}/${o.standard.detectedWindows + o.standard.missedWindows} | ` +
        `${f1(op.normalised)} (at ${f4(r.operatingThreshold)}) | ${op.detectedWindows}/${op.detectedWindows + op.missedWindows} | ` +
        `${f2(r.falseAlerts.rowsPerSeriesDay)}, ${f2(r.falseAlerts.episodesPerSeriesDay)} | ${f1(r.microsecondsPerPoint)} |`,
    );
  }
  return lines.join('\n');
}

function perSeriesTable(corpus: readonly LabelledSeries[], run: DetectorRun, threshold: number): string {
  const lines = [
    `Per series, ${run.detector} at its NAB standard threshold ${f4(threshold)} (raw NAB score: +1 per window found at its start, −1 per window missed, −0.11 per false row at most):`,
    '',
    '| series | rows | windows found | false rows | raw standard score |',
    '|---|---:|---:|---:|---:|',
  ];
  corpus.forEach((series, i) => {
    const detected = Uint8Array.from(run.scores[i]!, (s) => (s >= threshold ? 1 : 0));
    const s = scoreNabFile(series.file, detected, nabProfiles.standard);
    lines.push(`| ${series.key} | ${series.file.rowCount} | ${s.detectedWindows}/${s.detectedWindows + s.missedWindows} | ${s.falsePositiveRows} | ${f2(s.score)} |`);
  });
  return lines.join('\n');
}

const dayMsValue = 86_400_000;
/** Variants of the default detector, each changing one part (see docs/anomaly-detection.md). */
const ablations: readonly { readonly name: string; readonly change: Partial<AdaptiveParameters> }[] = [
  { name: 'adaptive (as shipped)', change: {} },
  { name: 'without the local 6h baseline', change: { localMinPoints: Number.POSITIVE_INFINITY } },
  { name: 'without the weekly baseline', change: { seasonalLagsMs: [] } },
  { name: 'with daily lags too (1-7 days, 2-3 weeks)', change: { seasonalLagsMs: [1, 2, 3, 4, 5, 6, 7, 14, 21].map((d) => d * dayMsValue) } },
  { name: 'local baseline from 6 points (30-min series)', change: { localMinPoints: 6 } },
  { name: 'without the sustained-deviation feature', change: { smoothFloor: Number.POSITIVE_INFINITY } },
  { name: 'without the range check', change: { rangeTolerance: Number.POSITIVE_INFINITY } },
  { name: 'without the stuck-run check', change: { stuckFloorPoints: Number.POSITIVE_INFINITY } },
  { name: 'sustained deviation at two time scales (0.1 and 0.01)', change: { smoothingWeights: [0.1, 0.01] } },
  { name: 'without alert rest', change: { restMs: 0 } },
  { name: 'one rest for both directions', change: { restPerDirection: false } },
  { name: 'rest starts at the operating threshold (not 0.5)', change: { restLevel: adaptiveOperatingThreshold } },
  { name: 'record over 7 days (not 14)', change: { recordMs: 7 * dayMsValue } },
  { name: 'record over 28 days', change: { recordMs: 28 * dayMsValue } },
  { name: 'floors 6 / 4 (not 8 / 5)', change: { pointFloor: 6, smoothFloor: 4 } },
  { name: 'floors 10 / 6', change: { pointFloor: 10, smoothFloor: 6 } },
];

function ablationTable(corpus: readonly LabelledSeries[], real: readonly number[]): string {
  const lines = ['| variant | standard (NAB threshold) | windows found | false rows | standard at the operating threshold |', '|---|---:|---:|---:|---:|'];
  for (const { name, change } of ablations) {
    const detector = createAdaptiveDetector(undefined, { ...adaptiveDefaults, ...change });
    const result = scoreCorpus(runDetector(name, corpus, detector), corpus, real);
    const o = result.optimised.standard;
    lines.push(`| ${name} | ${f1(o.normalised)} | ${o.detectedWindows}/${o.detectedWindows + o.missedWindows} | ${o.falsePositiveRows} | ${f1(result.operating.standard.normalised)} |`);
  }
  return lines.join('\n');
}

/** Out-of-window rows flagged at a threshold, after probation: per out-of-window row and per flagged row. */
function falsePositiveRates(
  corpus: readonly LabelledSeries[],
  scores: readonly Float64Array[],
  threshold: number,
): { readonly ofNormalRows: number; readonly ofFlaggedRows: number; readonly flagged: number } {
  let normal = 0;
  let flagged = 0;
  let falseRows = 0;
  corpus.forEach((series, s) => {
    const inWindow = new Uint8Array(series.file.rowCount);
    for (const w of series.file.windows) inWindow.fill(1, w.left, w.right + 1);
    for (let i = series.file.probationLength; i < series.file.rowCount; i++) {
      const hit = scores[s]![i]! >= threshold;
      if (hit) flagged++;
      if (inWindow[i] === 0) {
        normal++;
        if (hit) falseRows++;
      }
    }
  });
  return { ofNormalRows: falseRows / Math.max(1, normal), ofFlaggedRows: falseRows / Math.max(1, flagged), flagged };
}

/** Alert episodes (runs of flagged rows) per series-day over whole series, warm-up included. */
function alertsPerSeriesDay(corpus: readonly LabelledSeries[], scores: readonly Float64Array[], threshold: number): number {
  let episodes = 0;
  let days = 0;
  corpus.forEach((series, s) => {
    let previous = false;
    for (const score of scores[s]!) {
      const hit = score >= threshold;
      if (hit && !previous) episodes++;
      previous = hit;
    }
    days += (series.timestampsMs[series.timestampsMs.length - 1]! - series.timestampsMs[0]!) / dayMs;
  });
  return episodes / Math.max(1e-9, days);
}

/** The headline: settings chosen leaving one category out, and the default's false alerts. */
function selectionSection(corpus: readonly LabelledSeries[], real: readonly number[], adaptive: DetectorRun | undefined): string {
  const series = real.map((i) => corpus[i]!);
  const result = selectAdaptiveSettings(series);
  const differences = parameterDifferences(result.chosenOnAll.parameters, adaptiveDefaults);
  const lines = [
    `Each of ${result.candidates} candidate settings of \`adaptive\` (${result.runs} detector runs; a setting is one change of the grid's centre and an alert margin, bench/support/anomaly-selection.ts) is scored on the real series. ` +
      'For each category, the candidate with the best NAB standard score on the other categories is scored on the one left out.',
    '',
    '| category left out | windows | chosen on the other categories | their score | held-out score | best on the category itself (optimistic) |',
    '|---|---:|---|---:|---:|---:|',
    ...result.folds.map(
      (f) =>
        `| ${f.category} | ${f.heldOut.windows} | ${f.chosen} | ${f1(f.trainingScore)} | ${f1(f.heldOut.normalised)} (${f.heldOut.detectedWindows}/${f.heldOut.windows}) | ${f1(f.bestOnCategory)} |`,
    ),
    '',
    `**Leave-one-category-out NAB standard: ${f1(result.leaveOneOut.normalised)}** (held-out folds pooled, ${result.leaveOneOut.detectedWindows}/${result.leaveOneOut.windows} windows). ` +
      `**In-sample: ${f1(result.inSample.normalised)}** (${result.inSample.detectedWindows}/${result.inSample.windows}), with the choice on all categories: ${result.chosenOnAll.label}.`,
    differences.length === 0
      ? 'The shipped defaults (adaptiveDefaults) are exactly the choice on all categories.'
      : `WARNING: the shipped defaults differ from the choice on all categories: ${differences.join('; ')}.`,
  ];
  if (adaptive !== undefined) {
    const threshold = adaptive.operatingThreshold;
    const realScores = real.map((i) => adaptive.scores[i]!);
    const fp = falsePositiveRates(series, realScores, threshold);
    const clean = corpus.flatMap((s, i) => (/artificialNoAnomaly/.test(s.key) ? [i] : []));
    const cleanAlerts = alertsPerSeriesDay(
      clean.map((i) => corpus[i]!),
      clean.map((i) => adaptive.scores[i]!),
      threshold,
    );
    lines.push(
      '',
      `The default detector at its operating threshold ${f4(threshold)}, real series after probation: ` +
        `**false-positive rate ${(100 * fp.ofNormalRows).toFixed(3)} %** of the rows outside every window are flagged; ` +
        `${(100 * fp.ofFlaggedRows).toFixed(1)} % of the ${fp.flagged} flagged rows lie outside every window. ` +
        `Anomaly-free data (the ${clean.length} NAB artificialNoAnomaly series, whole series): **${f4(cleanAlerts)} alerts per series-day**.`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const corpus = await loadCorpus(args.dataDir);
  const real = corpus.flatMap((s, i) => (s.synthetic ? [] : [i]));
  const all = corpus.map((_, i) => i);
  const runs = args.detectors.map((name) => runDetector(name, corpus));
  const realResults = runs.map((run) => scoreCorpus(run, corpus, real));
  const allResults = runs.map((run) => scoreCorpus(run, corpus, all));
  const windowCheck = await checkWindowConstruction(args.dataDir, corpus);

  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ series: corpus.map((s) => ({ key: s.key, synthetic: s.synthetic, rows: s.file.rowCount, windows: s.file.windows.length })), windowCheck, real: realResults, all: allResults }, null, 2)}\n`,
    );
    return;
  }
  const windows = (indices: readonly number[]) => indices.reduce((n, i) => n + corpus[i]!.file.windows.length, 0);
  const out: string[] = [];
  out.push('# Anomaly detection benchmark (NAB scoring)', '');
  out.push(
    `Data: ${args.dataDir}. ${corpus.length} labelled series: ${real.length} real (${windows(real)} windows) and ` +
      `${corpus.length - real.length} synthetic NAB series (${windows(all) - windows(real)} windows). Nothing else is excluded.`,
  );
  out.push(`Real series scored: ${real.map((i) => corpus[i]!.key.replace(/^dev\//, '')).join(', ')}.`);
  out.push(windowCheck, '');
  out.push(
    'Scores are NAB-normalised (100 = perfect, 0 = never fire). "NAB thresholds": one threshold per detector and profile, ' +
      'optimised over the corpus as NAB does (optimistic). "At operating threshold": the fixed threshold the detector uses in ' +
      '`foresight detect` and the service. False alerts: flagged rows and alert episodes outside the windows, after the ' +
      'probationary period, per series per day.',
    '',
  );
  out.push(
    '## Settings chosen leaving one category out (the headline)',
    '',
    selectionSection(
      corpus,
      real,
      runs.find((r) => r.detector === 'adaptive'),
    ),
    '',
  );
  out.push('## Real series, every detector', '', resultTable(realResults), '');
  out.push('## All labelled series (real + synthetic)', '', resultTable(allResults), '');
  if (args.ablation) out.push('## Ablation of the default detector (real series, standard profile)', '', ablationTable(corpus, real), '');
  if (args.perSeries) {
    for (const run of runs) {
      const threshold = realResults.find((r) => r.detector === run.detector)!.optimised.standard.threshold;
      out.push(perSeriesTable(corpus, run, threshold), '');
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
