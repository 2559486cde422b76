import type { Logger } from 'pino';
import type { HistoryState } from '../engine/index.js';

/**
 * Log lines of the history windows (engine/history-window.ts): one when their older part starts to
 * be read in slices, one when every window is complete, and a warning when an older slice failed
 * (once per distinct error, not once per cycle; the slice is asked again next cycle).
 * `foresight_history_backfill_pending_series` shows the progress all along.
 */
export class HistoryLog {
  readonly #logger: Logger;
  #pendingSeries = 0;
  #lastError: string | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  report(state: HistoryState | undefined): void {
    if (state === undefined) return;
    const { pendingSeries, pendingPoints, failedSeries, error } = state;
    if (pendingSeries > 0 && this.#pendingSeries === 0) {
      this.#logger.info({ pendingSeries, pendingPoints }, 'forecasting from the recent past; reading the rest of the history windows (forecast.history) in slices, one per cycle');
    }
    if (pendingSeries === 0 && this.#pendingSeries > 0) this.#logger.info({}, 'history windows complete: every series holds forecast.history');
    if (error !== undefined && error !== this.#lastError) this.#logger.warn({ failedSeries, error }, 'reading an older history slice failed; it is asked again next cycle');
    this.#pendingSeries = pendingSeries;
    this.#lastError = error;
  }
}
