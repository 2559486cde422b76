import type { RegularSeries } from '../core/index.js';
import { createAllForecasters, type FittedForecaster, fitWithFallback, seasonStepsFor, selectByValidation } from '../forecast/index.js';

/** How the rolling forecasts are made. */
export interface ForecastFeedOptions {
  /** A registered model name, or "auto" (the lowest validation error inside each training window). */
  readonly model: string;
  /** Forecasts are made for 1..maxHorizonSteps steps ahead of every origin. */
  readonly maxHorizonSteps: number;
  /** Parameters are refitted every this many steps (the service refits hourly; a day by default here). */
  readonly refitEverySteps: number;
  /** Each fit sees at most this many of the latest steps (the service's 7-day history). */
  readonly historySteps: number;
  /** Forecast accuracy (1 − WAPE) is measured over this many latest matured 1-step forecasts. */
  readonly accuracyWindowSteps: number;
}

/** One forecast of the load `h` steps after an origin. */
export interface FeedForecast {
  readonly value: number;
  readonly p10: number;
  readonly p90: number;
}

/**
 * Rolling-origin forecasts of a load series for the predictive policy, made the way the service
 * makes them and without look-ahead: at each refit origin r the model's parameters are fitted on
 * steps ≤ r only (fitWithFallback: the model with naive behind it), and the forecasts for origins
 * r..r+refit−1 come from `forecastEachOrigin`, whose element t is made from values[0..t] only (the
 * Forecaster contract; test/unit/simulate checks that changing later values changes nothing).
 * Blocks are computed when first asked for, in order.
 */
export class ForecastFeed {
  readonly #series: RegularSeries;
  readonly #options: ForecastFeedOptions;
  readonly #seasonSteps: number;
  /** value/p10/p90 per horizon (index h − 1), per origin. */
  readonly #value: Float64Array[];
  readonly #p10: Float64Array[];
  readonly #p90: Float64Array[];
  /** Prefix sums over origins of |y(o+1) − ŷ1(o)| and |y(o+1)| where both are known. */
  readonly #errorSum: Float64Array;
  readonly #actualSum: Float64Array;
  /** Origins below this have their forecasts. */
  #computedUntil = 0;
  /** The models chosen at each refit, for the report. */
  readonly models: string[] = [];

  constructor(series: RegularSeries, options: ForecastFeedOptions) {
    this.#series = series;
    this.#options = options;
    this.#seasonSteps = seasonStepsFor(series.stepSeconds);
    const n = series.values.length;
    const make = () => Array.from({ length: options.maxHorizonSteps }, () => new Float64Array(n).fill(Number.NaN));
    this.#value = make();
    this.#p10 = make();
    this.#p90 = make();
    this.#errorSum = new Float64Array(n + 1);
    this.#actualSum = new Float64Array(n + 1);
  }

  /** The forecast made at `origin` for `origin + h`, or undefined when there is none. */
  forecast(origin: number, h: number): FeedForecast | undefined {
    if (origin < 0 || origin >= this.#series.values.length || h < 1 || h > this.#options.maxHorizonSteps) return undefined;
    this.#ensure(origin);
    const value = this.#value[h - 1]![origin]!;
    if (!Number.isFinite(value)) return undefined;
    return { value, p10: this.#p10[h - 1]![origin]!, p90: this.#p90[h - 1]![origin]! };
  }

  /**
   * 1 − WAPE of the 1-step forecasts whose target is at or before `origin` (so known at `origin`),
   * over the accuracy window; undefined while none has matured.
   */
  accuracy(origin: number): number | undefined {
    if (origin < 1) return undefined;
    this.#ensure(origin);
    const last = origin - 1; // the latest origin whose 1-step target (origin) is known
    const first = Math.max(0, last - this.#options.accuracyWindowSteps + 1);
    const actual = this.#actualSum[last + 1]! - this.#actualSum[first]!;
    if (!(actual > 0)) return undefined;
    const error = this.#errorSum[last + 1]! - this.#errorSum[first]!;
    return Math.max(0, 1 - error / actual);
  }

  #ensure(origin: number): void {
    while (this.#computedUntil <= origin) this.#computeBlock(this.#computedUntil);
  }

  #computeBlock(start: number): void {
    const { refitEverySteps, historySteps, maxHorizonSteps } = this.#options;
    const n = this.#series.values.length;
    const end = Math.min(n, start + refitEverySteps);
    const trainFrom = Math.max(0, start - historySteps + 1);
    const train: RegularSeries = {
      startMs: this.#series.startMs + trainFrom * this.#series.stepSeconds * 1000,
      stepSeconds: this.#series.stepSeconds,
      values: this.#series.values.subarray(trainFrom, start + 1),
    };
    // The forecasts of this block need values up to its last origin only.
    const visible: RegularSeries = { ...this.#series, values: this.#series.values.subarray(0, end) };
    let model = this.#options.model;
    if (model === 'auto') {
      const spec = { stepSeconds: this.#series.stepSeconds, seasonSteps: this.#seasonSteps, horizonSteps: 1 };
      const selected = selectByValidation(createAllForecasters(), train, spec);
      model = selected.ok ? selected.value.best : 'naive';
    }
    this.models.push(model);
    for (let h = 1; h <= maxHorizonSteps; h++) {
      const spec = { stepSeconds: this.#series.stepSeconds, seasonSteps: this.#seasonSteps, horizonSteps: h };
      const serving = fitWithFallback(model, train, spec);
      if (serving === undefined) continue;
      const fitted: FittedForecaster = serving.fitted;
      const each = fitted.forecastEachOrigin(visible);
      for (let t = start; t < end; t++) {
        // Loads are never negative, whatever a trend model says.
        this.#value[h - 1]![t] = Math.max(0, each.value[t]!);
        this.#p10[h - 1]![t] = Math.max(0, each.p10[t]!);
        this.#p90[h - 1]![t] = Math.max(0, each.p90[t]!);
      }
    }
    for (let t = start; t < end; t++) {
      const forecast = this.#value[0]![t]!;
      const actual = t + 1 < n ? this.#series.values[t + 1]! : Number.NaN;
      const known = Number.isFinite(forecast) && Number.isFinite(actual);
      this.#errorSum[t + 1] = this.#errorSum[t]! + (known ? Math.abs(actual - forecast) : 0);
      this.#actualSum[t + 1] = this.#actualSum[t]! + (known ? Math.abs(actual) : 0);
    }
    this.#computedUntil = end;
  }
}
