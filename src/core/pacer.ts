import { performance } from 'node:perf_hooks';

/**
 * Lets the event loop serve between slices of a long loop. A cycle at 1,000 queues runs seconds of
 * synchronous work per series (guards, merges, forecasts, anomaly scores); run in one piece, it
 * holds up every external-metrics request that arrives meanwhile. With a pacer the loop checks
 * `due()` per item and awaits `pause()` when its slice is used up.
 *
 * The slice is measured on the monotonic clock: it decides only when the loop lets others run,
 * never what the loop computes, so results do not depend on timing.
 */
export class Pacer {
  readonly #sliceMs: number;
  #sliceStartMs = performance.now();

  /** `sliceMs`: the longest the loop runs before letting the event loop serve (default 4 ms). */
  constructor(sliceMs = 4) {
    this.#sliceMs = sliceMs;
  }

  /** Whether the slice is used up. */
  due(): boolean {
    return performance.now() - this.#sliceStartMs >= this.#sliceMs;
  }

  /** Resolves on a later turn of the event loop, after the I/O waiting now; the next slice starts then. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#sliceStartMs = performance.now();
  }
}
