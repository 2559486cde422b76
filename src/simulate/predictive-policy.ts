import { BandCalibration } from './band-calibration.js';
import { ForecastFeed } from './forecast-feed.js';
import type { AutoscalingPolicy, Observation } from './policy.js';
import type { LoadTrace } from './trace.js';

/**
 * The calibrated quantile the default path sizes for (the service's `decisions.forecastQuantile`,
 * `foresight simulate`): the choice leave-one-trace-out makes on every dev trace in
 * `npm run bench:scaling` (docs/scaling-benchmark.md), which a test keeps equal to the config default.
 */
export const defaultForecastQuantile = 0.98;

/** Forecasts of a trace's arrivals and their calibration, shared by every run on the trace. */
export interface PredictiveForecasts {
  readonly feed: Pick<ForecastFeed, 'forecast'>;
  readonly calibration: Pick<BandCalibration, 'multiplier'>;
  /** The band the calibrated reserve is a multiple of: the model's p90 − p10 at (origin, h). */
  readonly band: (origin: number, h: number) => number;
  readonly maxHorizonSteps: number;
}

/** Options for {@link predictiveForecasts}. */
export interface PredictiveForecastOptions {
  /** A registered model name or "auto" (default holt_winters; the service serves auto: docs/known-limits.md). */
  readonly model?: string;
  /** The longest horizon any run will ask for ({@link predictiveHorizonSteps} of the longest start-up). */
  readonly maxHorizonSteps: number;
}

/**
 * The forecasts the predictive policy sizes with: {@link ForecastFeed}'s (refitted daily on the
 * last seven days, as the service does) and a {@link BandCalibration} of their errors over the last
 * week (at most 2016 steps, a week at 5 minutes), recomputed hourly. Both are causal, so one object serves every run on the trace.
 */
export function predictiveForecasts(trace: LoadTrace, options: PredictiveForecastOptions): PredictiveForecasts & { readonly feed: ForecastFeed } {
  const series = trace.series;
  const stepsPerDay = Math.max(1, Math.round(86_400 / series.stepSeconds));
  const stepsPerHour = Math.max(1, Math.round(3600 / series.stepSeconds));
  const feed = new ForecastFeed(series, {
    model: options.model ?? 'holt_winters',
    maxHorizonSteps: options.maxHorizonSteps,
    refitEverySteps: stepsPerDay,
    historySteps: 7 * stepsPerDay,
    accuracyWindowSteps: stepsPerDay,
  });
  const band = (origin: number, h: number): number => {
    const f = feed.forecast(origin, h);
    return f === undefined ? Number.NaN : f.p90 - f.p10;
  };
  const calibration = new BandCalibration({ value: (o, h) => feed.forecast(o, h)?.value ?? Number.NaN, band, actual: (i) => series.values[i] ?? Number.NaN }, series.values.length, {
    maxHorizonSteps: options.maxHorizonSteps,
    windowSteps: Math.min(7 * stepsPerDay, 2016),
    recomputeEverySteps: stepsPerHour,
    minErrors: 50,
  });
  return { feed, calibration, band, maxHorizonSteps: options.maxHorizonSteps };
}

/** How the predictive policy is set up. */
export interface PredictivePolicyOptions {
  readonly trace: LoadTrace;
  readonly capacityPerReplicaPerSecond: number;
  readonly startupDelaySeconds: number;
  readonly sloWaitSeconds: number;
  /** The calibrated quantile of the forecast arrivals it provisions for: the cost/quality knob. */
  readonly quantile: number;
  readonly forecasts: PredictiveForecasts;
  /** Seconds between decisions (default 30, the service's monitoring interval). */
  readonly periodSeconds?: number;
  /** Seconds to drain the backlog in (default: the SLO wait). */
  readonly drainSeconds?: number;
  /** Scale-down stabilization: the most wanted over this many latest seconds (default 0: none). */
  readonly downStabilizationSeconds?: number;
  /** Name in reports (default "predictive-q"). */
  readonly name?: string;
}

/** Steps the forecasts must reach for a start-up delay: up to the end of the look-ahead. */
export function predictiveHorizonSteps(stepSeconds: number, startupDelaySeconds: number, periodSeconds = 30): number {
  return Math.max(1, Math.ceil((startupDelaySeconds + periodSeconds) / stepSeconds) + 1);
}

/**
 * Quantile sizing: provision for the arrival rate a calibrated upper quantile of the forecast
 * gives over the start-up horizon, plus the backlog to drain. At each decision, with origin the
 * last completed step:
 *
 *   rate = max(observed 1-minute rate, max over the steps from a minute ago to now + start-up +
 *          period of (median_h + c_h(q) · band_h) / step)
 *   replicas = ceil((rate + queue depth / drain seconds) / capacity)
 *
 * where c_h(q) is the calibration's multiplier (the q-quantile of recent errors ÷ band), so the
 * reserve follows the band: a wider band (a noisier period) gives more reserve, and the
 * multiplier keeps its coverage honest. Before enough errors have matured the model's p90 is used.
 * Reads only `Observation` and forecasts made at or before the last completed step: no look-ahead.
 */
export function predictivePolicy(options: PredictivePolicyOptions): AutoscalingPolicy {
  const { trace, capacityPerReplicaPerSecond: capacity, startupDelaySeconds, quantile, forecasts } = options;
  const periodSeconds = options.periodSeconds ?? 30;
  const drainSeconds = options.drainSeconds ?? options.sloWaitSeconds;
  const stepSeconds = trace.series.stepSeconds;
  const stepMs = stepSeconds * 1000;
  const startMs = trace.series.startMs;
  const lookaheadMs = (startupDelaySeconds + periodSeconds) * 1000;
  const observedRateWindowMs = 60_000;
  const stabilizationMs = (options.downStabilizationSeconds ?? 0) * 1000;
  const recent: { atMs: number; replicas: number }[] = [];
  return {
    name: options.name ?? 'predictive-q',
    periodSeconds,
    decide(o: Observation): number {
      let rate = o.arrivalRatePerSecond;
      const origin = o.completedSteps - 1;
      if (origin >= 0) {
        // The steps the one-minute observed rate cannot show yet, to the end of the look-ahead.
        const firstStep = Math.floor((o.nowMs - observedRateWindowMs - startMs) / stepMs) + 1;
        const lastStep = Math.floor((o.nowMs + lookaheadMs - startMs) / stepMs);
        for (let h = Math.max(1, firstStep - origin); h <= Math.min(forecasts.maxHorizonSteps, lastStep - origin); h++) {
          const f = forecasts.feed.forecast(origin, h);
          if (f === undefined) continue;
          const c = forecasts.calibration.multiplier(origin, h, quantile);
          const band = forecasts.band(origin, h);
          const upper = c === undefined || !Number.isFinite(band) ? f.p90 : f.value + c * band;
          rate = Math.max(rate, upper / stepSeconds);
        }
      }
      const need = Math.ceil((rate + o.queueDepth / drainSeconds) / capacity - 1e-9);
      while (recent.length > 0 && o.nowMs - recent[0]!.atMs >= stabilizationMs) recent.shift();
      recent.push({ atMs: o.nowMs, replicas: need });
      return Math.max(...recent.map((r) => r.replicas));
    },
  };
}
