// The one reader of `timestamp,value` CSV files: the replay source's traces and every CLI command's
// --input (and the benchmarks) read the same rows from the same text.

/** A line of a CSV file that was skipped, and why. */
export interface BadLine {
  readonly file: string;
  /** 1-based line number, as editors show it. */
  readonly line: number;
  readonly reason: string;
  /** The line, cut to 80 characters. */
  readonly text: string;
}

/** The rows of a `timestamp,value` file, in time order (timestamps strictly increasing). */
export interface TimestampValueRows {
  readonly timestampsSeconds: Float64Array;
  /** Finite, or NaN/±Inf where the file says so (Prometheus' spellings; NaN is a recorded gap). */
  readonly values: Float64Array;
}

/** A parsed `timestamp,value` file. */
export interface ParsedTimestampValueCsv {
  readonly rows: TimestampValueRows;
  /** Every skipped line (blank lines, `#` comments and the header are not bad lines). */
  readonly badLines: readonly BadLine[];
  /** True when the first line with content was a header. */
  readonly hasHeader: boolean;
  /** Rows whose timestamp is before the previous row's in the file (they were sorted into place). */
  readonly reorderedRows: number;
}

// A plain decimal number; Number() alone would also accept "", "0x1f" and "Infinity".
const decimalPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

// Prometheus' spellings of the special values, as its API and promtool write them.
const specialValues: ReadonlyMap<string, number> = new Map([
  ['NaN', Number.NaN],
  ['+Inf', Infinity],
  ['Inf', Infinity],
  ['-Inf', -Infinity],
]);

function unquote(field: string): string {
  const text = field.trim();
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1).trim() : text;
}

function parseDecimal(text: string): number | undefined {
  if (!decimalPattern.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Parses a `timestamp,value` CSV: unix seconds (fractions allowed) and a decimal value, or `NaN`,
 * `+Inf`, `Inf`, `-Inf`. CRLF is tolerated; blank lines and lines starting with `#` are ignored;
 * the first line with content is a header when its first field is not a number. Lines that are not
 * two such fields are skipped and reported with file and line number. Rows out of time order are
 * sorted (and counted in `reorderedRows`), because "rows at or before t" is about timestamps, not
 * file order; of rows with the same timestamp the first in the file is kept and the others are
 * reported as bad lines. Never throws: a file of bad lines parses to zero rows.
 */
export function parseTimestampValueCsv(text: string, file: string): ParsedTimestampValueCsv {
  const lines = text.split('\n');
  let timestamps = new Float64Array(lines.length);
  let values = new Float64Array(lines.length);
  let lineNumbers = new Int32Array(lines.length);
  const badLines: BadLine[] = [];
  const bad = (index: number, reason: string): void => {
    const raw = lines[index]!.replace(/\r$/, '');
    badLines.push({ file, line: index + 1, reason, text: raw.length > 80 ? `${raw.slice(0, 77)}...` : raw });
  };
  let count = 0;
  let hasHeader = false;
  let seenContent = false;
  let sorted = true;
  let reorderedRows = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    // Split by hand: the bundled demo has a million rows, and split() allocates per row.
    const comma = line.indexOf(',');
    const fieldCount = comma < 0 ? 1 : line.indexOf(',', comma + 1) < 0 ? 2 : line.split(',').length;
    const timeText = unquote(comma < 0 ? line : line.slice(0, comma));
    const first = !seenContent;
    seenContent = true;
    const timestamp = parseDecimal(timeText);
    if (first && timestamp === undefined) {
      hasHeader = true;
      continue;
    }
    if (fieldCount !== 2) {
      bad(index, `expected 2 fields (timestamp,value), found ${fieldCount}`);
      continue;
    }
    if (timestamp === undefined) {
      bad(index, `timestamp ${JSON.stringify(timeText)} is not a number of unix seconds`);
      continue;
    }
    const valueText = unquote(line.slice(comma + 1));
    const value = specialValues.get(valueText) ?? parseDecimal(valueText);
    if (value === undefined) {
      bad(index, `value ${JSON.stringify(valueText)} is not a finite number, NaN or ±Inf`);
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

/** The rows whose value is finite: a NaN or ±Inf row is a gap, which a command leaves out. */
export function finiteRows(rows: TimestampValueRows): { readonly rows: TimestampValueRows; readonly gapRows: number } {
  let finite = 0;
  for (const value of rows.values) if (Number.isFinite(value)) finite++;
  if (finite === rows.values.length) return { rows, gapRows: 0 };
  const timestampsSeconds = new Float64Array(finite);
  const values = new Float64Array(finite);
  let k = 0;
  rows.values.forEach((value, i) => {
    if (!Number.isFinite(value)) return;
    timestampsSeconds[k] = rows.timestampsSeconds[i]!;
    values[k++] = value;
  });
  return { rows: { timestampsSeconds, values }, gapRows: rows.values.length - finite };
}
