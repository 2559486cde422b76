import type { ContextVariableName, VariableTable } from '../context.js';
import type { DecisionInput, ForecastInput, QueueBinding } from '../input.js';
import type { DecisionPolicy } from '../policy.js';
import type { ReasonCode } from '../reasons.js';

/** What the predict stage added. */
export interface Prediction {
  /** Reasons about forecasts the resource reads (disabled, missing, low confidence). */
  readonly reasons: readonly ReasonCode[];
  /** The lowest confidence among the forecasts put into the context; NaN when none was. */
  readonly confidence: number;
}

/** The confidence of a forecast: given, or from its band's relative width. */
export function forecastConfidence(forecast: ForecastInput): number {
  if (forecast.confidence !== undefined && Number.isFinite(forecast.confidence)) return Math.min(1, Math.max(0, forecast.confidence));
  const width = forecast.p90 - forecast.p10;
  const scale = Math.abs(forecast.p90) + Math.abs(forecast.p10);
  // A band of zero width around zero is a certain forecast of an idle queue.
  if (!(scale > 0)) return 1;
  return Math.min(1, Math.max(0, 1 - width / scale));
}

/** The forecast of `seriesKey` at the policy's horizon, or the nearest horizon when that one is missing. */
function pick(forecasts: readonly ForecastInput[], seriesKey: string, horizonSeconds: number): ForecastInput | undefined {
  let best: ForecastInput | undefined;
  for (const f of forecasts) {
    if (f.seriesKey !== seriesKey || !Number.isFinite(f.value) || !Number.isFinite(f.p90)) continue;
    if (best === undefined || Math.abs(f.horizonSeconds - horizonSeconds) < Math.abs(best.horizonSeconds - horizonSeconds)) best = f;
  }
  return best;
}

interface ForecastTarget {
  readonly median: ContextVariableName;
  readonly upper: ContextVariableName;
  /** The input keys summed into the variable. */
  readonly seriesKeys: readonly string[];
  /** Unit conversion from the input's unit to the variable's. */
  readonly scale: number;
}

function targets(queues: readonly QueueBinding[]): readonly ForecastTarget[] {
  return [
    { median: 'predicted_queue_depth', upper: 'predicted_queue_depth_p90', seriesKeys: queues.map((q) => `queue/${q.queue}/depth`), scale: 1 },
    {
      median: 'predicted_enqueue_rate_per_second',
      upper: 'predicted_enqueue_rate_per_second_p90',
      seriesKeys: queues.map((q) => `queue/${q.queue}/enqueue_rate_per_second`),
      scale: 1,
    },
    { median: 'predicted_cpu_percent', upper: 'predicted_cpu_percent_p90', seriesKeys: ['system/cpu_percent'], scale: 1 },
    { median: 'predicted_memory_percent', upper: 'predicted_memory_percent_p90', seriesKeys: ['system/memory_percent'], scale: 1 },
    {
      median: 'predicted_response_time_p95_ms',
      upper: 'predicted_response_time_p95_ms_p90',
      seriesKeys: ['performance/response_time_p95_seconds'],
      scale: 1000,
    },
  ];
}

/**
 * Stage 2, predict: puts the forecasts at the decision horizon into the context, the median and
 * the 90th percentile of each. Queue forecasts are summed over the resource's queues (a sum of
 * 90th percentiles: an upper bound on the 90th percentile of the sum, which errs towards capacity).
 * A forecast below the confidence threshold is left out, and so is every forecast when forecasts
 * are off; reasons are given only for forecasts the resource's rules actually read.
 */
export function predictContext(values: Float64Array, table: VariableTable, input: DecisionInput, queues: readonly QueueBinding[], policy: DecisionPolicy, reads: ReadonlySet<string>): Prediction {
  const reasons = new Set<ReasonCode>();
  let confidence = Number.NaN;
  for (const target of targets(queues)) {
    const wanted = reads.has(target.median) || reads.has(target.upper);
    if (target.seriesKeys.length === 0) {
      if (wanted) reasons.add('forecast_missing');
      continue;
    }
    if (!policy.useForecasts) {
      if (wanted) reasons.add('forecasts_disabled');
      continue;
    }
    let median = 0;
    let upper = 0;
    let lowest = 1;
    let usable = true;
    for (const key of target.seriesKeys) {
      const forecast = pick(input.forecasts, key, policy.forecastHorizonSeconds);
      if (forecast === undefined) {
        if (wanted) reasons.add('forecast_missing');
        usable = false;
        break;
      }
      const c = forecastConfidence(forecast);
      if (c < policy.minForecastConfidence) {
        if (wanted) reasons.add('forecast_low_confidence');
        usable = false;
        break;
      }
      lowest = Math.min(lowest, c);
      median += forecast.value * target.scale;
      upper += Math.max(forecast.value, forecast.p90) * target.scale;
    }
    if (!usable) continue;
    const medianSlot = table.indexOf(target.median);
    const upperSlot = table.indexOf(target.upper);
    if (medianSlot !== undefined) values[medianSlot] = median;
    if (upperSlot !== undefined) values[upperSlot] = upper;
    if (wanted) confidence = Number.isNaN(confidence) ? lowest : Math.min(confidence, lowest);
  }
  const confidenceSlot = table.indexOf('forecast_confidence');
  if (confidenceSlot !== undefined) values[confidenceSlot] = confidence;
  return { reasons: [...reasons], confidence };
}
