import type { Timers } from '../../src/engine/index.js';
import type { ManualClock } from './manual-clock.js';

interface Pending {
  readonly id: number;
  readonly dueMs: number;
  readonly callback: () => void;
}

/** Timers that fire when the test advances the manual clock past their due time. */
export class ManualTimers implements Timers {
  #pending: Pending[] = [];
  #nextId = 1;
  readonly #clock: ManualClock;

  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = this.#nextId++;
    this.#pending.push({ id, dueMs: this.#clock.nowMs() + delayMs, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending = this.#pending.filter((p) => p.id !== handle);
  }

  /** Timers waiting to fire. */
  get size(): number {
    return this.#pending.length;
  }

  /** Delay until the next timer, in ms (undefined when none). */
  nextDelayMs(): number | undefined {
    const next = Math.min(...this.#pending.map((p) => p.dueMs));
    return Number.isFinite(next) ? next - this.#clock.nowMs() : undefined;
  }

  /** Advances the clock by `seconds`, firing due timers in order. */
  advance(seconds: number): void {
    const targetMs = this.#clock.nowMs() + seconds * 1000;
    for (;;) {
      const due = this.#pending.filter((p) => p.dueMs <= targetMs).sort((a, b) => a.dueMs - b.dueMs)[0];
      if (due === undefined) break;
      this.#pending = this.#pending.filter((p) => p !== due);
      this.#clock.set(Math.max(this.#clock.nowMs(), due.dueMs));
      due.callback();
    }
    this.#clock.set(targetMs);
  }
}
