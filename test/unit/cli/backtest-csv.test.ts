import { describe, expect, it } from 'vitest';
import { formatCsv, formatCsvNumber, inferStepSeconds, parseInputCsv, rowsToRegularSeries } from '../../../src/cli/csv.js';

describe('parseInputCsv', () => {
  it('reads rows with or without a header, CRLF and blank lines included', () => {
    const withHeader = parseInputCsv('timestamp,value\r\n100,1.5\r\n\r\n160,2\r\n', 'a.csv');
    expect(withHeader.hasHeader).toBe(true);
    expect([...withHeader.rows.timestampsSeconds]).toEqual([100, 160]);
    expect([...withHeader.rows.values]).toEqual([1.5, 2]);
    expect(withHeader.badLines).toEqual([]);
    const bare = parseInputCsv('100,1\n160,-2e3\n', 'b.csv');
    expect(bare.hasHeader).toBe(false);
    expect([...bare.rows.values]).toEqual([1, -2000]);
  });

  it('skips bad lines and reports each with file, line number and reason', () => {
    const text = ['timestamp,value', '100,1', '160,abc', '220', 'x,3', '280,4,5', '340,', '400,0x10', '460,7'].join('\n');
    const parsed = parseInputCsv(text, 'trace.csv');
    expect([...parsed.rows.timestampsSeconds]).toEqual([100, 460]);
    expect(parsed.badLines.map((b) => [b.file, b.line])).toEqual([
      ['trace.csv', 3],
      ['trace.csv', 4],
      ['trace.csv', 5],
      ['trace.csv', 6],
      ['trace.csv', 7],
      ['trace.csv', 8],
    ]);
    expect(parsed.badLines[0]!.reason).toMatch(/value "abc" is not a finite number/);
    expect(parsed.badLines[1]!.reason).toMatch(/expected 2 fields/);
    expect(parsed.badLines[2]!.reason).toMatch(/timestamp/);
  });

  it('sorts rows that are out of time order and keeps the first of repeated timestamps', () => {
    const parsed = parseInputCsv('100,1\n300,3\n200,2\n300,9\n400,4\n', 'c.csv');
    expect([...parsed.rows.timestampsSeconds]).toEqual([100, 200, 300, 400]);
    expect([...parsed.rows.values]).toEqual([1, 2, 3, 4]);
    expect(parsed.reorderedRows).toBe(1);
    expect(parsed.badLines).toHaveLength(1);
    expect(parsed.badLines[0]).toMatchObject({ line: 4 });
    expect(parsed.badLines[0]!.reason).toMatch(/duplicate timestamp \(line 2/);
  });

  it('returns no rows (not an exception) for a file of bad lines', () => {
    const parsed = parseInputCsv('timestamp,value\nfoo,bar\n', 'd.csv');
    expect(parsed.rows.values.length).toBe(0);
    expect(parsed.badLines).toHaveLength(1);
  });
});

describe('steps and grids', () => {
  it('infers the dominant step as the median interval, ignoring gaps and off-step intervals', () => {
    expect(inferStepSeconds(new Float64Array([0, 300, 600, 900, 4500, 4800, 5000, 5400]))).toBe(300);
    expect(inferStepSeconds(new Float64Array([0, 60]))).toBe(60);
    expect(inferStepSeconds(new Float64Array([5]))).toBeUndefined();
  });

  it('puts irregular rows on the grid: the latest row in a cell wins, empty cells are NaN', () => {
    const rows = { timestampsSeconds: new Float64Array([0, 60, 90, 240]), values: new Float64Array([1, 2, 3, 4]) };
    const { series, gridIndex } = rowsToRegularSeries(rows, 60);
    expect([...gridIndex]).toEqual([0, 1, 1, 4]);
    expect([...series.values]).toEqual([1, 3, Number.NaN, Number.NaN, 4]);
    expect(series.startMs).toBe(0);
    const firstTwo = rowsToRegularSeries(rows, 60, 2);
    expect([...firstTwo.series.values]).toEqual([1, 2]);
  });
});

describe('CSV output', () => {
  it('writes NaN as an empty field and numbers compactly', () => {
    expect(formatCsvNumber(Number.NaN)).toBe('');
    expect(formatCsvNumber(1700000000)).toBe('1700000000');
    expect(formatCsvNumber(0.1 + 0.2)).toBe('0.3');
    expect(
      formatCsv(
        ['a', 'b'],
        [
          [1, 2],
          [0.5, Number.NaN],
        ],
      ),
    ).toBe('a,b\n1,0.5\n2,\n');
  });
});
