import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { HistoryLog } from '../../../src/app/history-log.js';

/** A logger writing its JSON lines into an array. */
function capture() {
  const lines: { level: number; msg: string; [field: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as (typeof lines)[number]);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('HistoryLog', () => {
  it('says when the older history starts to be read in slices and when every window is complete, once each', async () => {
    const { lines, logger } = capture();
    const log = new HistoryLog(logger);
    log.report({ pendingSeries: 660, pendingPoints: 4_600_000, failedSeries: 0 });
    log.report({ pendingSeries: 660, pendingPoints: 3_600_000, failedSeries: 0 });
    log.report({ pendingSeries: 0, pendingPoints: 0, failedSeries: 0 });
    log.report({ pendingSeries: 0, pendingPoints: 0, failedSeries: 0 });
    log.report(undefined);
    await flush();
    expect(lines.map((l) => [l.msg, l['pendingSeries']])).toEqual([
      ['forecasting from the recent past; reading the rest of the history windows (forecast.history) in slices, one per cycle', 660],
      ['history windows complete: every series holds forecast.history', undefined],
    ]);
  });

  it('warns when an older slice fails, once per distinct error', async () => {
    const { lines, logger } = capture();
    const log = new HistoryLog(logger);
    const failing = { pendingSeries: 5, pendingPoints: 1000, failedSeries: 5, error: 'request timed out: sum(x)' };
    log.report(failing);
    log.report(failing);
    const { error: _gone, ...recovered } = failing;
    log.report({ ...recovered, failedSeries: 0 });
    log.report(failing);
    await flush();
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings.map((l) => [l.msg, l['failedSeries'], l['error']])).toEqual([
      ['reading an older history slice failed; it is asked again next cycle', 5, 'request timed out: sum(x)'],
      ['reading an older history slice failed; it is asked again next cycle', 5, 'request timed out: sum(x)'],
    ]);
  });
});
