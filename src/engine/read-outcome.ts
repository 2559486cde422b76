import { ForesightError } from '../core/index.js';
import type { HistoryReadings, LatestReadings, SourceProblem } from '../source/index.js';

/**
 * Fails a cycle in which every read failed. The source rejects only when Prometheus cannot be
 * reached at all; a Prometheus that answers every query with HTTP 500, malformed JSON or NaN gives
 * a problem per input instead. A cycle that got not one value from such a source must not publish
 * a "fresh" snapshot of forecasts rolled forward on no new data: it fails like an outage, so the
 * previous snapshot ages and is reported stale and `foresight_source_up` drops to 0.
 *
 * Partial failure (at least one value read) is not a failed cycle: the problems are reported per
 * input in the snapshot, `/scaling/status` and `foresight_source_input_up{input}`.
 */
export function failIfNothingRead(latest: LatestReadings, histories: readonly HistoryReadings[]): void {
  const problems = [...latest.problems, ...histories.flatMap((h) => h.problems)];
  const gotValue = latest.readings.length > 0 || histories.some((h) => h.history.length > 0);
  // No problem and no value: nothing was asked (every query is turned off), which is not a failure.
  if (gotValue || problems.length === 0) return;
  throw new ForesightError('FORESIGHT_ERR_SOURCE_QUERY', `every read of this cycle failed (${summarise(problems)}); first: ${problems[0]!.message}`);
}

/** "12 query_failed, 3 not_finite" */
function summarise(problems: readonly SourceProblem[]): string {
  const counts = new Map<string, number>();
  for (const problem of problems) counts.set(problem.reason, (counts.get(problem.reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => `${count} ${reason}`).join(', ');
}
