/**
 * What a trained global LSTM's held-out scores mean for serving: per series, its validation MAE
 * beside the MAE of the naive and Holt-Winters forecasts over the same held-out window (the origins
 * from the LSTM's first held-out one on, baselines fitted on the rows before it). The service serves
 * the LSTM on a series only where it beats the serving baseline on data it never trained on, so a
 * model that beats neither anywhere would never be served: `bench:train` reports on how many series
 * it would be a contender.
 */
import { prefix } from '../../src/core/index.js';
import { createHoltWintersForecaster, createNaiveForecaster } from '../../src/forecast/index.js';
import type { Forecaster, ForecastSpec, GlobalLstmMeta, GlobalSeriesInput } from '../../src/forecast/index.js';

/** One series: the LSTM's held-out MAE and the baselines' on the same window (series units). */
export interface HeldOutComparison {
  readonly key: string;
  readonly lstmMae: number;
  readonly naiveMae: number;
  readonly holtWintersMae: number;
}

/** Mean absolute h-step error of a baseline fitted on the rows before `firstOrigin`, over the origins from it on. */
function baselineMae(forecaster: Forecaster, input: GlobalSeriesInput, spec: ForecastSpec, firstOrigin: number): number {
  const target = input.inputs.target;
  const fitted = forecaster.fit(prefix(target, firstOrigin), spec);
  if (!fitted.ok) return Number.NaN;
  const forecasts = fitted.value.forecastEachOrigin(target).value;
  let sum = 0;
  let count = 0;
  for (let t = firstOrigin; t + spec.horizonSteps < target.values.length; t++) {
    const error = Math.abs(target.values[t + spec.horizonSteps]! - forecasts[t]!);
    if (Number.isFinite(error)) {
      sum += error;
      count++;
    }
  }
  return count > 0 ? sum / count : Number.NaN;
}

/** The comparison for every series the model scored. */
export function compareHeldOut(meta: GlobalLstmMeta, series: readonly GlobalSeriesInput[], spec: ForecastSpec): HeldOutComparison[] {
  return series.flatMap((input) => {
    const scored = meta.series[input.key];
    if (scored === undefined || !Number.isFinite(scored.validation.mae)) return [];
    const first = scored.validation.firstOrigin;
    return [
      {
        key: input.key,
        lstmMae: scored.validation.mae,
        naiveMae: baselineMae(createNaiveForecaster(), input, spec, first),
        holtWintersMae: baselineMae(createHoltWintersForecaster(), input, spec, first),
      },
    ];
  });
}

/** Series where the LSTM's held-out MAE is below the baseline's. */
export function winsOver(rows: readonly HeldOutComparison[], baseline: 'naiveMae' | 'holtWintersMae'): number {
  return rows.filter((r) => r.lstmMae < r[baseline]).length;
}
