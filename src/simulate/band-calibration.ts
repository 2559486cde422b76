import { quantileOfSorted } from '../forecast/index.js';

/** Where the calibration reads forecasts, their bands and what happened. */
export interface CalibrationSource {
  /** The median forecast made at `origin` for `origin + h`, or NaN. */
  value(origin: number, h: number): number;
  /** The width of the forecast band at `origin` for `origin + h` (positive), or NaN. */
  band(origin: number, h: number): number;
  /** What happened at step `index` (known once `index` ≤ the current origin), or NaN. */
  actual(index: number): number;
}

/** How the calibration is set up. */
export interface BandCalibrationOptions {
  /** Forecast errors are gathered for 1..maxHorizonSteps. */
  readonly maxHorizonSteps: number;
  /** The latest matured errors used, per horizon (a week of steps, say). */
  readonly windowSteps: number;
  /** The quantile is recomputed every this many steps (an hour of steps, say). */
  readonly recomputeEverySteps: number;
  /** Fewest matured errors before a multiplier is given. */
  readonly minErrors: number;
}

/**
 * A calibrated upper quantile for a forecast: the reserve above the median that covered the
 * requested share of recent outcomes, as a multiple of the forecast band. At origin o, for a
 * forecast h steps ahead, the errors (actual − median) / band of every origin o' ≤ o − h (whose
 * outcome is known at o) in the latest window are sorted, and their `quantile` is the multiplier
 * c_h: the forecast's upper quantile is median + c_h · band. Normalising by the band makes the
 * reserve follow it: a wider band (a noisier period, a less certain model) gives more reserve,
 * while the multiplier keeps the coverage honest whatever the model's own band says (split
 * conformal prediction with a band-scaled score). Causal: nothing at o reads a step after o.
 */
export class BandCalibration {
  readonly #source: CalibrationSource;
  readonly #options: BandCalibrationOptions;
  /** Per horizon: the normalised error of each origin (NaN until known or when undefined). */
  readonly #scores: Float64Array[] = [];
  /** Per horizon: origins below this have their score filled in. */
  readonly #filledUntil: number[] = [];
  /**
   * Per horizon, per recompute point: the error quantiles at {@link calibrationLevels} (NaN when
   * too few errors), computed when first asked for and shared by every reader.
   */
  readonly #tables: Map<number, Float64Array>[] = [];

  constructor(source: CalibrationSource, steps: number, options: BandCalibrationOptions) {
    this.#source = source;
    this.#options = options;
    for (let h = 1; h <= options.maxHorizonSteps; h++) {
      this.#scores.push(new Float64Array(steps).fill(Number.NaN));
      this.#filledUntil.push(0);
      this.#tables.push(new Map());
    }
  }

  /**
   * The multiplier c_h for the `quantile` of a forecast made at `origin` for h steps ahead, from
   * the errors known at `origin` (recomputed every `recomputeEverySteps`; read between the
   * tabulated levels by linear interpolation); undefined while there are too few errors.
   */
  multiplier(origin: number, h: number, quantile: number): number | undefined {
    if (h < 1 || h > this.#options.maxHorizonSteps || origin < 0) return undefined;
    if (!(quantile >= calibrationLevels[0]! && quantile <= calibrationLevels[calibrationLevels.length - 1]!)) {
      throw new RangeError(`quantile ${quantile} is outside [${calibrationLevels[0]}, ${calibrationLevels[calibrationLevels.length - 1]}]`);
    }
    const every = Math.max(1, this.#options.recomputeEverySteps);
    const at = Math.floor(origin / every) * every;
    const tables = this.#tables[h - 1]!;
    let table = tables.get(at);
    if (table === undefined) {
      table = this.#compute(at, h);
      tables.set(at, table);
    }
    let i = 1;
    while (i < calibrationLevels.length - 1 && calibrationLevels[i]! < quantile) i++;
    const below = calibrationLevels[i - 1]!;
    const above = calibrationLevels[i]!;
    const share = (quantile - below) / (above - below);
    const c = table[i - 1]! + share * (table[i]! - table[i - 1]!);
    return Number.isFinite(c) ? c : undefined;
  }

  #compute(origin: number, h: number): Float64Array {
    const table = new Float64Array(calibrationLevels.length).fill(Number.NaN);
    const scores = this.#scores[h - 1]!;
    // The latest origin whose outcome (origin' + h) is known at `origin`.
    const last = Math.min(origin - h, scores.length - 1);
    if (last < 0) return table;
    for (let o = this.#filledUntil[h - 1]!; o <= last; o++) {
      const value = this.#source.value(o, h);
      const band = this.#source.band(o, h);
      const actual = this.#source.actual(o + h);
      scores[o] = band > 0 && Number.isFinite(value) && Number.isFinite(actual) ? (actual - value) / band : Number.NaN;
    }
    this.#filledUntil[h - 1] = Math.max(this.#filledUntil[h - 1]!, last + 1);
    const first = Math.max(0, last - this.#options.windowSteps + 1);
    const window = new Float64Array(last - first + 1);
    let count = 0;
    for (let o = first; o <= last; o++) {
      const s = scores[o]!;
      if (Number.isFinite(s)) window[count++] = s;
    }
    if (count < this.#options.minErrors) return table;
    const sorted = window.subarray(0, count).sort();
    for (const [i, level] of calibrationLevels.entries()) table[i] = quantileOfSorted(sorted, level);
    return table;
  }
}

/** The quantile levels the calibration tabulates (the knob reads between them). */
export const calibrationLevels: readonly number[] = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995];
