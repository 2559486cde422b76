/**
 * A seeded pseudo-random source for the models that need randomness (bootstrap samples, window
 * subsampling, weight initialisation seeds). Forecast code never uses Math.random: the same seed
 * gives the same model, which is what makes backtests and tests reproducible.
 */
export type RandomSource = () => number;

/**
 * Mulberry32: a small, fast 32-bit generator with good statistical quality for sampling. Returns
 * numbers in [0, 1).
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n). */
export function randomIndex(random: RandomSource, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/**
 * `count` distinct items of `items` in their original order, chosen uniformly at random (all of
 * them when there are no more than `count`). Keeping the order keeps windows in time order.
 */
export function sampleInOrder(items: Int32Array, count: number, random: RandomSource): Int32Array {
  if (items.length <= count) return items;
  // Selection sampling (Knuth's algorithm S): one pass, order preserved, exactly `count` items.
  const out = new Int32Array(count);
  let chosen = 0;
  for (let i = 0; i < items.length && chosen < count; i++) {
    if (random() * (items.length - i) < count - chosen) out[chosen++] = items[i]!;
  }
  return out;
}
