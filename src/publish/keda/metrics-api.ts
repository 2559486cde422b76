import { err, formatDuration, type Result } from '../../core/index.js';
import type { Snapshot } from '../../engine/index.js';
import { type ForecastQuantile, type Freshness, type KedaProblem, parseSelection, quoteForMessage, readForecast, type SelectionDefaults } from './forecast-selection.js';

/** The query parameters the metrics-api endpoint accepts; anything else is refused (typos must not pass silently). */
export const metricsApiParameters = ['queue', 'horizon', 'quantile'] as const;

/**
 * The JSON body the KEDA `metrics-api` trigger reads. Point the trigger's `valueLocation` at
 * `value`; the other fields say what the value is and how fresh it is, for people and logs.
 */
export interface MetricsApiBody {
  readonly queue: string;
  /** The horizon as the `horizon` label writes it ("15m"). */
  readonly horizon: string;
  readonly quantile: ForecastQuantile;
  /** Forecast queue depth (messages), finite and at least 0. */
  readonly value: number;
  /** Observed depth in the same cycle, or null when the source had none. */
  readonly currentDepth: number | null;
  /** The model that made the forecast. */
  readonly model: string;
  /** Why a simpler model stood in, when one did. */
  readonly fallbackReason?: string;
  /** RFC 3339 time the forecast is for (origin + horizon). */
  readonly forecastFor: string;
  /** RFC 3339 time the snapshot was completed. */
  readonly timestamp: string;
  readonly snapshotAgeSeconds: number;
}

/**
 * Answers one metrics-api request from the snapshot. `query` is the parsed query string: a
 * parameter given twice arrives as an array and is refused, as is an unknown parameter.
 */
export function answerMetricsApi(query: Readonly<Record<string, unknown>>, snapshot: Snapshot | undefined, defaults: SelectionDefaults, freshness: Freshness): Result<MetricsApiBody, KedaProblem> {
  for (const [name, value] of Object.entries(query)) {
    if (!(metricsApiParameters as readonly string[]).includes(name)) {
      return err({ kind: 'invalid_argument', message: `unknown query parameter ${quoteForMessage(name)}; allowed: ${metricsApiParameters.join(', ')}` });
    }
    if (typeof value !== 'string') {
      return err({ kind: 'invalid_argument', message: `query parameter "${name}" must be given once, as a single value` });
    }
  }
  const text = (name: (typeof metricsApiParameters)[number]): string | undefined => {
    const value = query[name];
    return typeof value === 'string' ? value : undefined;
  };
  const selection = parseSelection({ queue: text('queue'), horizon: text('horizon'), quantile: text('quantile') }, defaults);
  if (!selection.ok) return selection;
  const reading = readForecast(snapshot, selection.value, freshness);
  if (!reading.ok) return reading;
  const r = reading.value;
  return {
    ok: true,
    value: {
      queue: r.selection.queue,
      horizon: formatDuration(r.selection.horizonSeconds),
      quantile: r.selection.quantile,
      value: r.value,
      currentDepth: r.currentDepth ?? null,
      model: r.model,
      ...(r.fallbackReason === undefined ? {} : { fallbackReason: r.fallbackReason }),
      forecastFor: new Date(r.forecastForMs).toISOString(),
      timestamp: new Date(r.snapshotCompletedAtMs).toISOString(),
      snapshotAgeSeconds: Math.round(r.snapshotAgeSeconds * 1000) / 1000,
    },
  };
}
