import { readFile } from 'node:fs/promises';
import { finiteRows, messageOf, parseTimestampValueCsv, toRegularSeries } from '../core/index.js';
import type { ParsedTimestampValueCsv, RegularSeries, Sample, TimestampValueRows } from '../core/index.js';

export type { BadLine, TimestampValueRows } from '../core/index.js';

/** What a command reads from a `timestamp,value` file: the shared reader's rows, gaps left out. */
export interface InputCsv extends ParsedTimestampValueCsv {
  /** Rows whose value is NaN or ±Inf (a recorded gap): read, and left out of `rows`. */
  readonly gapRows: number;
}

/**
 * Parses a command's `timestamp,value` input with the reader the replay source uses
 * ({@link parseTimestampValueCsv}: same header, comment, NaN and bad-line rules). A NaN or ±Inf row
 * is a gap: it is counted in `gapRows` and left out, so every value a command sees is finite.
 */
export function parseInputCsv(text: string, file: string): InputCsv {
  const parsed = parseTimestampValueCsv(text, file);
  const { rows, gapRows } = finiteRows(parsed.rows);
  return { ...parsed, rows, gapRows };
}

/** Reads and parses a command's `timestamp,value` file (see {@link parseInputCsv}). Rejects when the file cannot be read. */
export async function readInputCsvFile(path: string): Promise<InputCsv> {
  return parseInputCsv(await readFile(path, 'utf8'), path);
}

/**
 * The dominant sampling step: the median of the positive intervals between rows (the lower median
 * for an even count, so it is always an interval that occurs). Robust to gaps and to a minority of
 * off-step intervals. Undefined with fewer than two rows.
 */
export function inferStepSeconds(timestampsSeconds: Float64Array): number | undefined {
  if (timestampsSeconds.length < 2) return undefined;
  const intervals = new Float64Array(timestampsSeconds.length - 1);
  let count = 0;
  for (let i = 1; i < timestampsSeconds.length; i++) {
    const interval = timestampsSeconds[i]! - timestampsSeconds[i - 1]!;
    if (interval > 0) intervals[count++] = interval;
  }
  if (count === 0) return undefined;
  const sorted = intervals.subarray(0, count).sort();
  return sorted[Math.floor((count - 1) / 2)]!;
}

/** Rows on a regular grid, and where each row landed. */
export interface GriddedRows {
  /** The grid: starts at the first row, ends at the cell of the last row included. */
  readonly series: RegularSeries;
  /** `gridIndex[r]`: the grid point of row r (the grid point at or before its timestamp). */
  readonly gridIndex: Int32Array;
}

/**
 * Puts the first `rowCount` rows (all by default) on a regular grid at `stepSeconds` starting at the
 * first row, with `toRegularSeries` (a row goes to the grid point at or before it; the latest row
 * in a cell wins; empty cells are NaN).
 */
export function rowsToRegularSeries(rows: TimestampValueRows, stepSeconds: number, rowCount: number = rows.values.length): GriddedRows {
  const count = Math.max(0, Math.min(rowCount, rows.values.length));
  const startMs = count > 0 ? rows.timestampsSeconds[0]! * 1000 : 0;
  const stepMs = stepSeconds * 1000;
  const samples: Sample[] = new Array<Sample>(count);
  const gridIndex = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const timestampMs = rows.timestampsSeconds[r]! * 1000;
    samples[r] = { timestampMs, value: rows.values[r]! };
    // The same arithmetic as toRegularSeries, so both agree on every row's cell.
    gridIndex[r] = Math.floor((timestampMs - startMs) / stepMs);
  }
  const endMs = count > 0 ? rows.timestampsSeconds[count - 1]! * 1000 : -1;
  return { series: toRegularSeries(samples, stepSeconds, startMs, endMs), gridIndex };
}

/** A number for CSV output: empty for NaN, integers as they are, others to 12 significant digits. */
export function formatCsvNumber(value: number): string {
  if (!Number.isFinite(value)) return '';
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(12)));
}

/** CSV text with a header line and one line per index of the (equally long) columns. */
export function formatCsv(header: readonly string[], columns: readonly ArrayLike<number>[]): string {
  const length = columns[0]?.length ?? 0;
  const lines: string[] = [header.join(',')];
  for (let i = 0; i < length; i++) lines.push(columns.map((column) => formatCsvNumber(column[i]!)).join(','));
  return `${lines.join('\n')}\n`;
}

/** How many bad lines a command lists one by one before it only counts the rest. */
const badLinesShown = 10;

/**
 * Reads a command's `--input` CSV the way every command reports it: bad lines listed (the first
 * ten) and counted on stderr, reordered rows noted. Undefined, after saying why on stderr, when the
 * file cannot be read or holds no usable row: the caller then exits with the usage code.
 */
export async function readInputCsv(command: string, input: string, stderr: { write(text: string): unknown }): Promise<InputCsv | undefined> {
  let csv: InputCsv;
  try {
    csv = await readInputCsvFile(input);
  } catch (error) {
    stderr.write(`foresight ${command}: cannot read --input ${input}: ${messageOf(error)}\n`);
    return undefined;
  }
  for (const bad of csv.badLines.slice(0, badLinesShown)) stderr.write(`${bad.file}:${bad.line}: ${bad.reason}: ${bad.text}\n`);
  if (csv.badLines.length > badLinesShown) stderr.write(`... and ${csv.badLines.length - badLinesShown} more bad line(s)\n`);
  if (csv.badLines.length > 0) stderr.write(`${input}: skipped ${csv.badLines.length} bad line(s)\n`);
  if (csv.gapRows > 0) stderr.write(`${input}: ${csv.gapRows} row(s) are NaN or ±Inf (gaps) and are left out\n`);
  if (csv.reorderedRows > 0) stderr.write(`${input}: ${csv.reorderedRows} row(s) were out of time order; rows are used (and written) in time order\n`);
  if (csv.rows.values.length === 0) {
    stderr.write(`foresight ${command}: ${input} has no usable timestamp,value rows\n`);
    return undefined;
  }
  return csv;
}
