import { accuracyPercentOf } from './accuracy.js';
import { quantileOfSorted } from './residual-bands.js';

/**
 * Accuracy of forecasts that have matured: a forecast made at `originMs` for `targetMs` is scored
 * once the actual value at `targetMs` is known. This is the design's "prediction accuracy" over a
 * trailing window (accuracy.ts `predictionAccuracyPercent`: 1 − a scaled error, floored at 0), with
 * WAPE and MASE beside it (the scale is the in-sample
 * seasonal-naive MAE of the model's training data, which the caller passes with each forecast).
 * Pure bookkeeping: no clock (times are passed in), no I/O.
 */

/** A published forecast, waiting for its actual. */
export interface PendingForecast {
  readonly seriesKey: string;
  readonly horizonSeconds: number;
  readonly model: string;
  readonly originMs: number;
  readonly targetMs: number;
  readonly value: number;
  readonly p10: number;
  readonly p90: number;
  /** The MASE scale of the serving model (NaN when undefined). */
  readonly maseScale: number;
}

/** One matured forecast: the forecast and what happened. */
interface Matured {
  readonly targetMs: number;
  readonly model: string;
  readonly absoluteError: number;
  readonly absoluteActual: number;
  /** max(|actual|, MASE scale): the point's weight in the accuracy. */
  readonly flooredActual: number;
  readonly scaledError: number;
  readonly inside: boolean;
  /** (actual − median) / (p90 − p10): the error in band widths (NaN for a zero-width band). */
  readonly bandScore: number;
}

/** Accuracy of one series at one horizon over the trailing window. */
export interface MaturedAccuracy {
  readonly seriesKey: string;
  readonly horizonSeconds: number;
  /** 100 × max(0, 1 − Σ|y − ŷ| / Σ max(|y|, MASE scale)), in [0, 100]; NaN when nothing matured. */
  readonly accuracyPercent: number;
  /** Σ|y − ŷ| / Σ|y|, a ratio. */
  readonly wape: number;
  /** Mean of |y − ŷ| / scale over matured forecasts with a finite scale. */
  readonly mase: number;
  /** Share of actuals inside [p10, p90]. */
  readonly coverage: number;
  /** Forecasts matured in the window. */
  readonly points: number;
  /** Forecasts still waiting for their actual. */
  readonly pending: number;
  /** The model of the most recent matured forecast. */
  readonly model: string | undefined;
}

/** Options of the tracker. */
export interface MaturedAccuracyOptions {
  /** Matured forecasts older than this (by target time) are dropped. Default 24 h. */
  readonly windowSeconds?: number;
  /**
   * How far from the target time an actual may be and still count (default: half of the grid step
   * is the caller's business; this bounds it, default 60 s).
   */
  readonly toleranceSeconds?: number;
  /** Pending forecasts per series and horizon kept at most (oldest dropped). Default 10,000. */
  readonly maxPending?: number;
}

const keyOf = (seriesKey: string, horizonSeconds: number) => `${seriesKey}\u0000${horizonSeconds}`;

/**
 * Keeps pending forecasts and matured scores per series and horizon. The engine records the
 * forecasts it publishes each cycle, feeds the actuals it reads, and reads `accuracy()` for
 * `scaling_prediction_accuracy_percent{series,horizon}` and /scaling/ml/accuracy.
 */
export class MaturedAccuracyTracker {
  readonly #windowMs: number;
  readonly #toleranceMs: number;
  readonly #maxPending: number;
  readonly #pending = new Map<string, PendingForecast[]>();
  readonly #matured = new Map<string, Matured[]>();
  /** The pending keys (one per horizon) of each series: `observe` looks at its series' only, not at all of them (2,200 series × 2,200 keys a cycle at 1,000 queues). */
  readonly #pendingKeys = new Map<string, Set<string>>();

  constructor(options: MaturedAccuracyOptions = {}) {
    this.#windowMs = (options.windowSeconds ?? 86_400) * 1000;
    this.#toleranceMs = (options.toleranceSeconds ?? 60) * 1000;
    this.#maxPending = options.maxPending ?? 10_000;
  }

  /** Records a published forecast. Non-finite forecasts are ignored (they were not published). */
  record(forecast: PendingForecast): void {
    if (!Number.isFinite(forecast.value)) return;
    const key = keyOf(forecast.seriesKey, forecast.horizonSeconds);
    const list = this.#pending.get(key) ?? [];
    list.push(forecast);
    if (list.length > this.#maxPending) list.splice(0, list.length - this.#maxPending);
    this.#pending.set(key, list);
    const keys = this.#pendingKeys.get(forecast.seriesKey) ?? new Set<string>();
    keys.add(key);
    this.#pendingKeys.set(forecast.seriesKey, keys);
  }

  /**
   * Scores the pending forecasts of `seriesKey` whose target time has an actual among `samples`
   * (timestamp within the tolerance; the nearest wins). Forecasts whose target is more than the
   * tolerance in the past of the newest sample and found no actual are dropped (the actual is
   * missing for good). Returns how many matured.
   */
  observe(seriesKey: string, samples: readonly { readonly timestampMs: number; readonly value: number }[]): number {
    if (samples.length === 0) return 0;
    const sorted = [...samples].filter((s) => Number.isFinite(s.value)).sort((a, b) => a.timestampMs - b.timestampMs);
    if (sorted.length === 0) return 0;
    const newest = sorted[sorted.length - 1]!.timestampMs;
    let count = 0;
    for (const key of this.#pendingKeys.get(seriesKey) ?? []) {
      const list = this.#pending.get(key) ?? [];
      const keep: PendingForecast[] = [];
      for (const f of list) {
        const actual = nearest(sorted, f.targetMs, this.#toleranceMs);
        if (actual === undefined) {
          if (f.targetMs + this.#toleranceMs >= newest) keep.push(f);
          continue;
        }
        const error = Math.abs(actual - f.value);
        const matured = this.#matured.get(key) ?? [];
        matured.push({
          targetMs: f.targetMs,
          model: f.model,
          absoluteError: error,
          absoluteActual: Math.abs(actual),
          flooredActual: Math.max(Math.abs(actual), f.maseScale, 0),
          scaledError: f.maseScale > 0 ? error / f.maseScale : Number.NaN,
          inside: actual >= f.p10 && actual <= f.p90,
          bandScore: f.p90 > f.p10 ? (actual - f.value) / (f.p90 - f.p10) : Number.NaN,
        });
        this.#matured.set(key, matured);
        count++;
      }
      this.#pending.set(key, keep);
    }
    return count;
  }

  /** Accuracy of every series and horizon over the window ending at `nowMs`. */
  accuracy(nowMs: number): MaturedAccuracy[] {
    const out: MaturedAccuracy[] = [];
    const keys = new Set([...this.#pending.keys(), ...this.#matured.keys()]);
    for (const key of [...keys].sort()) {
      const [seriesKey, horizon] = key.split('\u0000') as [string, string];
      const matured = (this.#matured.get(key) ?? []).filter((m) => m.targetMs > nowMs - this.#windowMs);
      this.#matured.set(key, matured);
      let errors = 0;
      let actuals = 0;
      let floored = 0;
      let scaled = 0;
      let scaledCount = 0;
      let inside = 0;
      for (const m of matured) {
        errors += m.absoluteError;
        actuals += m.absoluteActual;
        floored += m.flooredActual;
        if (Number.isFinite(m.scaledError)) {
          scaled += m.scaledError;
          scaledCount++;
        }
        if (m.inside) inside++;
      }
      const wape = actuals > 0 ? errors / actuals : Number.NaN;
      out.push({
        seriesKey,
        horizonSeconds: Number(horizon),
        accuracyPercent: accuracyPercentOf(errors, floored, matured.length),
        wape,
        mase: scaledCount > 0 ? scaled / scaledCount : Number.NaN,
        coverage: matured.length > 0 ? inside / matured.length : Number.NaN,
        points: matured.length,
        pending: this.#pending.get(key)?.length ?? 0,
        model: matured[matured.length - 1]?.model,
      });
    }
    return out;
  }

  /**
   * The calibrated upper multiplier of a series at a horizon: the `quantile` of the matured errors
   * in band widths, (actual − median) / (p90 − p10), over the window ending at `nowMs`. The
   * forecast's calibrated upper value is median + multiplier · (p90 − p10): its reserve follows
   * the model's band, and its coverage is what recent outcomes showed (split-conformal, as the
   * simulator's BandCalibration). Undefined with fewer than `minPoints` matured errors.
   */
  upperMultiplier(seriesKey: string, horizonSeconds: number, quantile: number, nowMs: number, minPoints = 50): number | undefined {
    const scores = (this.#matured.get(keyOf(seriesKey, horizonSeconds)) ?? [])
      .filter((m) => m.targetMs > nowMs - this.#windowMs && m.targetMs <= nowMs && Number.isFinite(m.bandScore))
      .map((m) => m.bandScore);
    if (scores.length < minPoints) return undefined;
    return quantileOfSorted(Float64Array.from(scores).sort(), quantile);
  }

  /** Forgets a series (it left the configuration). */
  forget(seriesKey: string): void {
    for (const map of [this.#pending, this.#matured]) for (const key of [...map.keys()]) if (key.startsWith(`${seriesKey}\u0000`)) map.delete(key);
    this.#pendingKeys.delete(seriesKey);
  }
}

/** The value of the sample nearest to `targetMs` within `toleranceMs` (samples sorted by time), or undefined. */
function nearest(sorted: readonly { readonly timestampMs: number; readonly value: number }[], targetMs: number, toleranceMs: number): number | undefined {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle]!.timestampMs < targetMs) low = middle + 1;
    else high = middle;
  }
  let best: { distance: number; value: number } | undefined;
  for (const i of [low - 1, low]) {
    const s = sorted[i];
    if (s === undefined) continue;
    const distance = Math.abs(s.timestampMs - targetMs);
    if (distance <= toleranceMs && (best === undefined || distance < best.distance)) best = { distance, value: s.value };
  }
  return best?.value;
}
