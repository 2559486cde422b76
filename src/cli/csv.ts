import { readFile } from 'node:fs/promises';
import { toRegularSeries, messageOf } from '../core/index.js';
import type { RegularSeries, Sample } from '../core/index.js';

/** A line of a CSV file that was skipped, and why. */
export interface BadLine {
  readonly file: string;
  /** 1-based line number, as editors show it. */
  readonly line: number;
  readonly reason: string;
  readonly text: string;
}

/** The usable rows of a `timestamp,value` file, in time order (timestamps strictly increasing). */
export interface TimestampValueRows {
  readonly timestampsSeconds: Float64Array;
  readonly values: Float64Array;
}

/** A parsed `timestamp,value` file. */
export interface ParsedTimestampValueCsv {
  readonly rows: TimestampValueRows;
  /** Every skipped line (blank lines and the header are not bad lines). */
  readonly badLines: readonly BadLine[];
  /** True when the first line was a header. */
  readonly hasHeader: boolean;
  /** Rows whose timestamp is before the previous row's in the file (they were sorted into place). */
  readonly reorderedRows: number;
}

// A plain decimal number; Number() alone would also accept "", "0x1f" and "Infinity".
const decimalPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseDecimal(field: string): number | undefined {
  const text = field.trim().replace(/^"(.*)"$/, '$1').trim();
  if (!decimalPattern.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Parses a `timestamp,value` CSV (unix seconds, any decimal value). The header is optional: a
 * first line whose first field is not a number is taken as one. Lines that are not two numbers are
 * skipped and reported with file and line number. Rows out of time order are sorted (and counted
 * in `reorderedRows`), because "rows at or before t" is about timestamps, not file order; of rows
 * with the same timestamp the first in the file is kept and the others are reported as bad lines.
 * A file whose lines are all bad parses to zero rows.
 */
export function parseTimestampValueCsv(text: string, file: string): ParsedTimestampValueCsv {
  const lines = text.split(/\r?\n/);
  let timestamps = new Float64Array(lines.length);
  let values = new Float64Array(lines.length);
  let lineNumbers = new Int32Array(lines.length);
  const badLines: BadLine[] = [];
  const bad = (index: number, reason: string): void => {
    const raw = lines[index]!;
    badLines.push({ file, line: index + 1, reason, text: raw.length > 80 ? `${raw.slice(0, 77)}...` : raw });
  };
  let count = 0;
  let hasHeader = false;
  let seenContent = false;
  let sorted = true;
  let reorderedRows = 0;
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!;
    if (raw.trim() === '') continue;
    const fields = raw.split(',');
    const first = !seenContent;
    seenContent = true;
    if (first && parseDecimal(fields[0]!) === undefined) {
      hasHeader = true;
      continue;
    }
    if (fields.length !== 2) {
      bad(index, `expected 2 fields (timestamp,value), found ${fields.length}`);
      continue;
    }
    const timestamp = parseDecimal(fields[0]!);
    const value = parseDecimal(fields[1]!);
    if (timestamp === undefined) {
      bad(index, 'timestamp is not a number of unix seconds');
      continue;
    }
    if (value === undefined) {
      bad(index, 'value is not a finite number');
      continue;
    }
    if (count > 0 && timestamp <= timestamps[count - 1]!) sorted = false;
    if (count > 0 && timestamp < timestamps[count - 1]!) reorderedRows++;
    timestamps[count] = timestamp;
    values[count] = value;
    lineNumbers[count] = index;
    count++;
  }
  if (!sorted) {
    // Stable sort by timestamp (ties keep file order), then drop repeated timestamps.
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => timestamps[a]! - timestamps[b]! || a - b);
    const t2 = new Float64Array(count);
    const v2 = new Float64Array(count);
    const l2 = new Int32Array(count);
    let kept = 0;
    for (let k = 0; k < count; k++) {
      const i = order[k]!;
      if (kept > 0 && timestamps[i] === t2[kept - 1]) {
        bad(lineNumbers[i]!, `duplicate timestamp (line ${l2[kept - 1]! + 1} has the same one and is used)`);
        continue;
      }
      t2[kept] = timestamps[i]!;
      v2[kept] = values[i]!;
      l2[kept] = lineNumbers[i]!;
      kept++;
    }
    timestamps = t2;
    values = v2;
    lineNumbers = l2;
    count = kept;
    badLines.sort((a, b) => a.line - b.line);
  }
  return {
    rows: { timestampsSeconds: timestamps.slice(0, count), values: values.slice(0, count) },
    badLines,
    hasHeader,
    reorderedRows,
  };
}

/** Reads and parses a `timestamp,value` CSV file (see {@link parseTimestampValueCsv}). Rejects when the file cannot be read. */
export async function readTimestampValueCsv(path: string): Promise<ParsedTimestampValueCsv> {
  return parseTimestampValueCsv(await readFile(path, 'utf8'), path);
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
export async function readInputCsv(
  command: string,
  input: string,
  stderr: { write(text: string): unknown },
): Promise<ParsedTimestampValueCsv | undefined> {
  let csv: ParsedTimestampValueCsv;
  try {
    csv = await readTimestampValueCsv(input);
  } catch (error) {
    stderr.write(`foresight ${command}: cannot read --input ${input}: ${messageOf(error)}\n`);
    return undefined;
  }
  for (const bad of csv.badLines.slice(0, badLinesShown)) stderr.write(`${bad.file}:${bad.line}: ${bad.reason}: ${bad.text}\n`);
  if (csv.badLines.length > badLinesShown) stderr.write(`... and ${csv.badLines.length - badLinesShown} more bad line(s)\n`);
  if (csv.badLines.length > 0) stderr.write(`${input}: skipped ${csv.badLines.length} bad line(s)\n`);
  if (csv.reorderedRows > 0) stderr.write(`${input}: ${csv.reorderedRows} row(s) were out of time order; rows are used (and written) in time order\n`);
  if (csv.rows.values.length === 0) {
    stderr.write(`foresight ${command}: ${input} has no usable timestamp,value rows\n`);
    return undefined;
  }
  return csv;
}
