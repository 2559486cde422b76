/** Timers, injected so that tests can fire them by hand instead of waiting. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's own timers. The handle is unref'd so a pending tick never keeps a stopping process alive. */
export const nodeTimers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What the scheduler needs to know. */
export interface SchedulerOptions {
  /** Runs one cycle; a rejection is already recorded by the cycle itself and only logged here. */
  readonly runCycle: () => Promise<unknown>;
  /** The interval in seconds, read before each wait so that a reloaded configuration applies. */
  readonly intervalSeconds: () => number;
  readonly timers: Timers;
  readonly onError?: (error: unknown) => void;
}

/**
 * Runs cycles forever at a fixed interval, measured start to start: a slow cycle shortens the
 * next wait rather than stacking cycles, and a cycle never starts while the previous one runs.
 * The constructor starts nothing; `start()` runs the first cycle at once.
 */
export class Scheduler {
  readonly #options: SchedulerOptions;
  #handle: unknown;
  #running = false;
  #current: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    this.#options = options;
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#tick();
  }

  /** Stops scheduling and waits for a running cycle to finish. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#handle !== undefined) this.#options.timers.clearTimeout(this.#handle);
    this.#handle = undefined;
    await this.#current;
  }

  #tick(): void {
    if (!this.#running) return;
    const began = performance.now();
    this.#current = this.#options
      .runCycle()
      .then(
        () => undefined,
        (error: unknown) => this.#options.onError?.(error),
      )
      .finally(() => {
        if (!this.#running) return;
        const elapsedMs = performance.now() - began;
        const delayMs = Math.max(0, this.#options.intervalSeconds() * 1000 - elapsedMs);
        this.#handle = this.#options.timers.setTimeout(() => this.#tick(), delayMs);
      });
  }
}
