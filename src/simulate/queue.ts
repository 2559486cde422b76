/**
 * A first-in first-out queue of fluid work: arrivals are added in chunks stamped with their
 * arrival time, and service takes work from the oldest chunk first. This gives the age of the
 * oldest waiting message and the average wait exactly at chunk granularity, in O(1) amortised.
 */
export class FluidQueue {
  #times: Float64Array;
  #amounts: Float64Array;
  #head = 0;
  #tail = 0;
  #depth = 0;
  /** Σ amount × arrival time over the waiting chunks (relative to #originMs), for the average wait in O(1). */
  #weightedTime = 0;
  #originMs: number | undefined;

  constructor(capacityHint = 1024) {
    this.#times = new Float64Array(capacityHint);
    this.#amounts = new Float64Array(capacityHint);
  }

  /** Work waiting. */
  get depth(): number {
    return this.#depth;
  }

  /** Adds `amount` units that arrived at `atMs`. */
  push(atMs: number, amount: number): void {
    if (!(amount > 0)) return;
    if (this.#tail === this.#times.length) this.#grow();
    this.#times[this.#tail] = atMs;
    this.#amounts[this.#tail] = amount;
    this.#tail++;
    this.#depth += amount;
    this.#originMs ??= atMs;
    this.#weightedTime += amount * (atMs - this.#originMs);
  }

  /** Serves up to `amount` units, oldest first; returns what was served. */
  serve(amount: number): number {
    let left = amount;
    while (left > 0 && this.#head < this.#tail) {
      const chunk = this.#amounts[this.#head]!;
      const time = this.#times[this.#head]! - (this.#originMs ?? 0);
      if (chunk <= left) {
        left -= chunk;
        this.#weightedTime -= chunk * time;
        this.#head++;
      } else {
        this.#amounts[this.#head] = chunk - left;
        this.#weightedTime -= left * time;
        left = 0;
      }
    }
    const served = amount - left;
    if (this.#head === this.#tail) {
      this.#depth = 0;
      this.#weightedTime = 0;
    } else {
      this.#depth = Math.max(0, this.#depth - served);
    }
    return served;
  }

  /** Age of the oldest waiting work at `nowMs`, in seconds (0 when empty). */
  oldestWaitSeconds(nowMs: number): number {
    return this.#head < this.#tail ? Math.max(0, (nowMs - this.#times[this.#head]!) / 1000) : 0;
  }

  /** Average age of the waiting work at `nowMs`, in seconds (0 when empty). */
  averageWaitSeconds(nowMs: number): number {
    if (this.#head >= this.#tail || this.#depth <= 0) return 0;
    const meanArrivalMs = (this.#originMs ?? 0) + this.#weightedTime / this.#depth;
    return Math.max(0, (nowMs - meanArrivalMs) / 1000);
  }

  #grow(): void {
    // Compact first; grow only when the live part really fills the buffer.
    const live = this.#tail - this.#head;
    const size = live * 2 > this.#times.length ? this.#times.length * 2 : this.#times.length;
    const times = new Float64Array(size);
    const amounts = new Float64Array(size);
    times.set(this.#times.subarray(this.#head, this.#tail));
    amounts.set(this.#amounts.subarray(this.#head, this.#tail));
    this.#times = times;
    this.#amounts = amounts;
    this.#head = 0;
    this.#tail = live;
  }
}
