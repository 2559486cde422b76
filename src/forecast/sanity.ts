import { boundsOfRange, clampQuantiles, domainOf, forecastSpreads, type InputRef, type RegularSeries, type RobustRange, robustRange, type ValueBounds } from '../core/index.js';
import type { PointForecast } from './forecaster.js';
import { naivePointForecast } from './naive.js';

/** Why a model's forecast was not served. */
export type ForecastRejection = 'not_finite' | 'implausible';

/** The forecast to serve, and the rejected model's reason when the fallback stands in. */
export interface SaneForecast {
  readonly point: PointForecast;
  readonly rejected?: { readonly reason: ForecastRejection; readonly message: string };
}

/**
 * The range a forecast `horizonSteps` ahead may take: the series' domain intersected with its
 * history's range widened by that range once, plus a share of it for every season the horizon
 * spans (core's `boundsOfRange`, the definition the source's sample check uses too). `range` is the
 * history's robust range when the caller keeps it (the engine's history window does).
 */
export function forecastBounds(input: InputRef, history: RegularSeries, horizonSteps: number, seasonSteps: number, range?: RobustRange): ValueBounds {
  return boundsOfRange(domainOf(input), range ?? robustRange(history.values), forecastSpreads * (1 + horizonSteps / Math.max(1, seasonSteps)));
}

/**
 * Forecast sanity: a point forecast that is not a number or leaves the plausible range is replaced
 * by `fallback` (naive when none is given) and the reason is returned; the quantiles of whatever is
 * served are clamped into the range, so p10 ≤ value ≤ p90 all lie in the series' domain (no
 * negative queue depth, no utilisation above 100 %).
 */
export function saneForecast(input: InputRef, history: RegularSeries, horizonSteps: number, seasonSteps: number, point: PointForecast, fallback?: PointForecast, range?: RobustRange): SaneForecast {
  const bounds = forecastBounds(input, history, horizonSteps, seasonSteps, range);
  const inside = (p: PointForecast) => Number.isFinite(p.value) && p.value >= bounds.min && p.value <= bounds.max;
  if (inside(point)) return { point: clampPoint(point, bounds) };
  const reason: ForecastRejection = Number.isFinite(point.value) ? 'implausible' : 'not_finite';
  const message =
    reason === 'not_finite'
      ? 'the model gave no finite forecast'
      : `the model's forecast ${point.value.toPrecision(4)} is outside the plausible range [${bounds.min.toPrecision(4)}, ${bounds.max.toPrecision(4)}] of the history and horizon`;
  const last = naivePointForecast(history.values);
  const standIn = fallback !== undefined && inside(fallback) ? fallback : { value: last, p10: last, p90: last };
  return { point: clampPoint(standIn, bounds), rejected: { reason, message } };
}

function clampPoint(point: PointForecast, bounds: ValueBounds): PointForecast {
  return clampQuantiles(bounds, point.value, point.p10, point.p90);
}
