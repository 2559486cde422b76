import { writeFile } from 'node:fs/promises';
import { createDetector, defaultDetectorName, detectorNames, detectorSettings, isDetectorName, isMonitoredMetric, monitoredMetrics } from '../anomaly/index.js';
import type { AnomalyDetector, AnomalyPoint, DetectorName, MonitoredMetric } from '../anomaly/index.js';
import { messageOf, type Result } from '../core/index.js';
import { formatCsv, readInputCsv } from './csv.js';
import { parseFlags } from './flags.js';
import type { TimestampValueRows } from './csv.js';
import { exitCodesHelp, exitFailure, exitOk, exitUsage } from './io.js';
import type { CliIo, Command } from './io.js';

const usage = `Usage: foresight detect --input F.csv --out O.csv [--detector NAME] [--metric METRIC]

Causal anomaly scores of a CSV trace. For every input row t writes a score in [0, 1] made from
rows with timestamp <= t only, and whether it is an anomaly at the detector's operating threshold
(the one the service uses).

Options:
  --input F.csv      timestamp,value rows (unix seconds; header optional; gaps and irregular steps allowed)
  --out O.csv        output: timestamp,score,anomaly (one row per usable input row; anomaly is 0 or 1)
  --detector NAME    ${defaultDetectorName} (default, the service's default) or one of: ${detectorNames.join(', ')}
  --metric METRIC    use that metric's threshold (${monitoredMetrics.join(', ')});
                     default: the reference threshold 2.5 standard deviations
  --help             this text

Rows before a detector has a baseline (24 h of history for zscore and mad) get score 0. A summary
goes to stderr. The output is the same for the same input.

${exitCodesHelp('the input cannot be read or has no usable rows, or the output cannot be written')}`;

/** What `foresight detect` was asked to do. */
export interface DetectArgs {
  readonly input: string;
  readonly out: string;
  readonly detector: DetectorName;
  readonly metric: MonitoredMetric | undefined;
}

/** Parses the command's arguments; 'help' when help was asked for, an error message for bad usage. */
export function parseDetectArgs(args: readonly string[]): Result<DetectArgs | 'help', string> {
  const flags = parseFlags(args, { input: { type: 'string' }, out: { type: 'string' }, detector: { type: 'string' }, metric: { type: 'string' } });
  if (!flags.ok) return flags;
  if (flags.value === 'help') return { ok: true, value: 'help' };
  const { input, out, metric: metricText } = flags.value;
  if (input === undefined || input === '') return { ok: false, error: '--input is required' };
  if (out === undefined || out === '') return { ok: false, error: '--out is required' };
  const detector = flags.value.detector ?? defaultDetectorName;
  if (!isDetectorName(detector)) return { ok: false, error: `--detector "${detector}" is not a detector; use one of: ${detectorNames.join(', ')}` };
  if (metricText !== undefined && !isMonitoredMetric(metricText)) {
    return { ok: false, error: `--metric "${metricText}" is not a monitored metric; use one of: ${monitoredMetrics.join(', ')}` };
  }
  return { ok: true, value: { input, out, detector, metric: metricText as MonitoredMetric | undefined } };
}

/** The outcome of scoring CSV rows. */
export interface DetectRun {
  readonly detector: AnomalyDetector;
  /** One verdict per row, in row order. */
  readonly points: readonly AnomalyPoint[];
}

/** Scores CSV rows (in time order) with the named detector; no I/O. Deterministic. */
export function runDetect(rows: TimestampValueRows, detector: DetectorName, metric?: MonitoredMetric): DetectRun {
  const chosen = createDetector(detector, detectorSettings(metric));
  const timestampsMs = rows.timestampsSeconds.map((t) => t * 1000);
  return { detector: chosen, points: chosen.scoreSeries(rows.values, timestampsMs) };
}

/** The output CSV: timestamp,score,anomaly. */
export function formatDetectCsv(rows: TimestampValueRows, points: readonly AnomalyPoint[]): string {
  return formatCsv(['timestamp', 'score', 'anomaly'], [rows.timestampsSeconds, Float64Array.from(points, (p) => p.score), Uint8Array.from(points, (p) => (p.isAnomaly ? 1 : 0))]);
}

/** The stderr summary of a run. */
export function formatDetectSummary(run: DetectRun, input: string, metric: MonitoredMetric | undefined): string {
  const { detector, points } = run;
  const anomalies = points.filter((p) => p.isAnomaly);
  const critical = anomalies.filter((p) => p.severity === 'critical').length;
  const unscored = points.filter((p) => p.reason !== undefined && p.score === 0);
  const lines = [
    `foresight detect: ${points.length} rows from ${input}; detector ${detector.name}, operating threshold ${Number(detector.operatingThreshold.toFixed(4))}; ` +
      `${metric === undefined ? 'reference threshold' : `metric ${metric}, threshold`} ${detector.settings.thresholdSigmas} standard deviations`,
    `${anomalies.length} anomalous row(s): ${anomalies.length - critical} warning, ${critical} critical`,
  ];
  if (unscored.length > 0) lines.push(`${unscored.length} row(s) without a verdict (score 0); the first because: ${unscored[0]!.reason}`);
  return `${lines.join('\n')}\n`;
}

/** `foresight detect`: see the usage text and DESIGN.md "Command-line contracts". */
export const detectCommand: Command = async (args: readonly string[], io: CliIo): Promise<number> => {
  const parsed = parseDetectArgs(args);
  if (!parsed.ok) {
    io.stderr.write(`foresight detect: ${parsed.error}\n\n${usage}`);
    return exitUsage;
  }
  if (parsed.value === 'help') {
    io.stdout.write(usage);
    return exitOk;
  }
  const options = parsed.value;
  const csv = await readInputCsv('detect', options.input, io.stderr);
  if (csv === undefined) return exitFailure;
  const rowCount = csv.rows.values.length;
  const run = runDetect(csv.rows, options.detector, options.metric);
  try {
    await writeFile(options.out, formatDetectCsv(csv.rows, run.points));
  } catch (error) {
    io.stderr.write(`foresight detect: cannot write --out ${options.out}: ${messageOf(error)}\n`);
    return exitFailure;
  }
  io.stderr.write(formatDetectSummary(run, options.input, options.metric));
  io.stderr.write(`wrote ${rowCount} rows to ${options.out}\n`);
  return exitOk;
};
