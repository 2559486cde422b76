/** Deterministic synthetic series for the detector tests (no Math.random: a seeded generator). */

/** A linear congruential generator in [0, 1) (Numerical Recipes constants). */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Standard normal draws from a seeded generator (Box–Muller). */
export function normals(seed: number): () => number {
  const uniform = lcg(seed);
  return () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

export const minuteMs = 60_000;
export const hourMs = 60 * minuteMs;
export const dayMs = 24 * hourMs;

/** A series sampled every `stepMs` from `startMs`: values from `f(i, timestampMs)`. */
export function makeSeries(count: number, stepMs: number, f: (i: number, timestampMs: number) => number, startMs = 1_700_006_400_000): { values: Float64Array; timestampsMs: Float64Array } {
  const values = new Float64Array(count);
  const timestampsMs = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    timestampsMs[i] = startMs + i * stepMs;
    values[i] = f(i, timestampsMs[i]!);
  }
  return { values, timestampsMs };
}

/** A workload-like level: a daily cycle, quieter weekends, and noise (5-minute steps by default). */
export function workload(seed: number, noise = 4): (i: number, timestampMs: number) => number {
  const draw = normals(seed);
  return (_i, timestampMs) => {
    const dayPhase = (timestampMs % dayMs) / dayMs;
    const weekday = Math.floor(timestampMs / dayMs) % 7;
    const weekend = weekday === 2 || weekday === 3 ? 0.6 : 1; // 1970-01-01 was a Thursday
    return weekend * (100 + 60 * Math.sin(2 * Math.PI * dayPhase)) + noise * draw();
  };
}
