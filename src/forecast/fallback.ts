import type { RegularSeries } from '../core/index.js';
import type { EachOriginForecasts, FittedForecaster, PointForecast } from './forecaster.js';

/**
 * Where `primary` has no forecast (NaN), takes `fallback`'s. Returns the merged forecasts and how
 * many origins used the fallback (only origins where the fallback itself had a forecast count).
 */
export function mergeEachOrigin(primary: EachOriginForecasts, fallback: EachOriginForecasts): { readonly forecasts: EachOriginForecasts; readonly fallbackOrigins: Uint8Array } {
  const n = primary.value.length;
  const value = new Float64Array(primary.value);
  const p10 = new Float64Array(primary.p10);
  const p90 = new Float64Array(primary.p90);
  const fallbackOrigins = new Uint8Array(n);
  for (let t = 0; t < n; t++) {
    if (Number.isFinite(value[t]!) || !Number.isFinite(fallback.value[t]!)) continue;
    value[t] = fallback.value[t]!;
    p10[t] = fallback.p10[t]!;
    p90[t] = fallback.p90[t]!;
    fallbackOrigins[t] = 1;
  }
  return { forecasts: { value, p10, p90 }, fallbackOrigins };
}

/**
 * A fitted forecaster that answers with `primary` and, where `primary` cannot forecast yet (before
 * its warm-up, or a seasonal slot missing in every past season), with `fallback`, bands included.
 * Naive is the usual fallback: it forecasts as soon as one value has been seen.
 */
export function withFallback(primary: FittedForecaster, fallback: FittedForecaster): FittedForecaster {
  const parameters = primary.parameters;
  return {
    model: primary.model,
    spec: primary.spec,
    ...(parameters !== undefined ? { parameters } : {}),
    forecast(history: RegularSeries): PointForecast {
      const first = primary.forecast(history);
      return Number.isFinite(first.value) ? first : fallback.forecast(history);
    },
    forecastEachOrigin(series: RegularSeries): EachOriginForecasts {
      return mergeEachOrigin(primary.forecastEachOrigin(series), fallback.forecastEachOrigin(series)).forecasts;
    },
  };
}
