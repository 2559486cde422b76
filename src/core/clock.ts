/**
 * The source of "now". Only this file reads the system clock, so that every time-dependent part of
 * Foresight can be driven by a manual clock in tests.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

/** The wall clock. */
export const systemClock: Clock = { nowMs: () => Date.now() };
