import type { Clock } from '../../src/core/index.js';

/** A clock that moves only when a test says so. */
export class ManualClock implements Clock {
  #nowMs: number;

  constructor(startMs = Date.UTC(2026, 10, 2, 12, 0, 0)) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  set(ms: number): void {
    this.#nowMs = ms;
  }

  advance(seconds: number): void {
    this.#nowMs += seconds * 1000;
  }
}
