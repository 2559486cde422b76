/**
 * The demo's forecast series (every queue's depth and arrival rate, CPU, memory and p95 latency)
 * with the covariates the service feeds the LSTM, read from the bundled replay traces exactly as
 * the service reads them: what `bench:train` trains the global model on.
 */
import { loadConfig } from '../../src/config/index.js';
import { inputKey, systemClock } from '../../src/core/index.js';
import { covariateInputs, featureInputsOf, forecastTargets, listedQueues } from '../../src/engine/index.js';
import { horizonStepsFor } from '../../src/forecast/index.js';
import type { ForecastSpec, GlobalSeriesInput } from '../../src/forecast/index.js';
import { createSource } from '../../src/app/index.js';

/** Monday 2024-01-01 00:00 UTC: the first point of the demo traces. */
export const demoStartMs = Date.UTC(2024, 0, 1);

/**
 * `days` of 1-minute history of the demo's forecast series starting at `startMs` (the traces loop
 * after 14 days, keeping time of day and weekday), the first `limit` of them when given.
 */
export async function demoSeries(startMs: number, days: number, limit?: number): Promise<{ readonly series: GlobalSeriesInput[]; readonly spec: ForecastSpec }> {
  const loaded = loadConfig({ env: {} });
  if (!loaded.ok) throw new Error(`the default configuration does not load: ${loaded.error.message}`);
  const config = loaded.value;
  const step = config.forecast.step;
  const targets = forecastTargets(config).slice(0, limit);
  const endMs = startMs + days * 86_400_000 - step * 1000;
  const read = await createSource(config, systemClock).readHistory([...targets, ...covariateInputs(listedQueues(config))], { startMs, endMs, stepSeconds: step });
  const byKey = new Map(read.history.map((h) => [inputKey(h.input), h.series]));
  const series = targets.flatMap((input) => {
    const target = byKey.get(inputKey(input));
    return target === undefined ? [] : [{ key: inputKey(input), inputs: featureInputsOf(input, target, (key) => byKey.get(key)) }];
  });
  const spec: ForecastSpec = { stepSeconds: step, seasonSteps: Math.round(config.forecast.season / step), horizonSteps: horizonStepsFor(config.forecast.horizons[0]!, step).steps };
  return { series, spec };
}
