import type { Config } from '../config/index.js';
import { formatDuration, inputKey } from '../core/index.js';
import type { CycleStatus, ModelAccuracy, SeriesForecast, Snapshot } from '../engine/index.js';

/** How a forecast is shown in the JSON API. */
export function forecastView(f: SeriesForecast) {
  return {
    series: f.seriesKey,
    horizon: formatDuration(f.horizonSeconds),
    horizonSeconds: f.horizonSeconds,
    model: f.model,
    ...(f.fallbackReason === undefined ? {} : { fallbackReason: f.fallbackReason }),
    origin: new Date(f.originMs).toISOString(),
    target: new Date(f.originMs + f.horizonSeconds * 1000).toISOString(),
    value: f.value,
    p10: f.p10,
    p90: f.p90,
  };
}

/** The freshness block every answer carries, so a reader can tell a stale answer from a fresh one. */
export function freshnessView(snapshot: Snapshot | undefined, status: CycleStatus, nowMs: number, config: Config) {
  const ageSeconds = snapshot === undefined ? null : Math.max(0, (nowMs - snapshot.completedAtMs) / 1000);
  return {
    cycle: snapshot?.cycle ?? null,
    completedAt: snapshot === undefined ? null : new Date(snapshot.completedAtMs).toISOString(),
    ageSeconds,
    maxAgeSeconds: config.snapshot.maxAge,
    stale: ageSeconds === null || ageSeconds > config.snapshot.maxAge,
    lastAttemptAt: status.lastAttemptAtMs === 0 ? null : new Date(status.lastAttemptAtMs).toISOString(),
    lastError: status.lastError ?? null,
    consecutiveFailures: status.consecutiveFailures,
  };
}

/** Per-queue view: current readings, threshold and forecasts, and whether the band crosses the threshold. */
export function queueViews(snapshot: Snapshot) {
  return snapshot.queues.map((q) => ({
    queue: q.queue,
    resource: q.resource,
    threshold: q.threshold,
    current: q.current,
    forecasts: q.depthForecasts.map(forecastView),
    // Linear trend over the last 30 measurements (slope in messages/s, r², volatility, class).
    trend: q.trend ?? null,
    // "Will it overflow within the horizon?" with the pessimistic band, which is what capacity planning needs.
    overThresholdWithinHorizon: q.depthForecasts.some((f) => f.p90 > q.threshold),
  }));
}

/** Readings grouped by kind, keyed by metric or resource. */
export function inputViews(snapshot: Snapshot) {
  const group = (kind: 'system' | 'performance' | 'replicas') =>
    Object.fromEntries(snapshot.inputs.filter((v) => v.input.kind === kind).map((v) => [v.input.kind === 'replicas' ? v.input.resource : inputKey(v.input).split('/')[1]!, v.value]));
  return { system: group('system'), performance: group('performance'), replicas: group('replicas') };
}

/** Accuracy per series: each model's backtest scores and which model serves the forecasts. */
export function accuracyViews(snapshot: Snapshot) {
  const bySeries = new Map<string, ModelAccuracy[]>();
  for (const a of snapshot.accuracy) bySeries.set(a.seriesKey, [...(bySeries.get(a.seriesKey) ?? []), a]);
  // The first forecast of each series, found once: a search per series takes millions of steps at 1,000 queues.
  const servingOf = new Map<string, SeriesForecast>();
  for (const f of snapshot.forecasts) if (!servingOf.has(f.seriesKey)) servingOf.set(f.seriesKey, f);
  return [...bySeries.entries()].map(([series, scores]) => {
    const serving = servingOf.get(series);
    return {
      series,
      servingModel: serving?.model ?? null,
      ...(serving?.fallbackReason === undefined ? {} : { fallbackReason: serving.fallbackReason }),
      // What won the per-series selection on validation, why, and the runner-up.
      selection:
        serving?.selection === undefined
          ? null
          : {
              served: serving.selection.served,
              why: serving.selection.why,
              reason: serving.selection.reason,
              runnerUp: serving.selection.runnerUp ?? null,
              validationMae: finiteOrNull(serving.selection.validationMae ?? Number.NaN),
              runnerUpValidationMae: finiteOrNull(serving.selection.runnerUpValidationMae ?? Number.NaN),
              naiveValidationMae: finiteOrNull(serving.selection.naiveValidationMae ?? Number.NaN),
            },
      horizon: formatDuration(scores[0]!.horizonSeconds),
      evaluatedAt: new Date(scores[0]!.evaluatedAtMs).toISOString(),
      models: [...scores]
        .sort((a, b) => a.mase - b.mase)
        .map((a) => ({
          model: a.model,
          mase: finiteOrNull(a.mase),
          wape: finiteOrNull(a.wape),
          // The same measure as scaling_prediction_accuracy_percent (docs/forecasting.md "Prediction accuracy").
          accuracyPercent: finiteOrNull(a.accuracyPercent),
          coverage: finiteOrNull(a.coverage),
          points: a.points,
        })),
    };
  });
}

/**
 * Learned models (LSTM) per series: lifecycle state, training time, and whether it serves (it does
 * only when it beat the baseline on the newest 30 % of the buffer). `enabled: false` when off.
 */
export function learnedModelViews(snapshot: Snapshot) {
  const models = snapshot.learnedModels;
  if (models === undefined) return { enabled: false, series: [] };
  return {
    enabled: true,
    series: models.map((m) => ({
      series: m.seriesKey,
      model: m.model,
      state: m.state,
      trainedAt: m.trainedAtMs === undefined ? null : new Date(m.trainedAtMs).toISOString(),
      servesForecasts: m.servesForecasts ?? false,
      validationMase: m.validationMase ?? null,
      baselineValidationMase: m.baselineValidationMase ?? null,
      ...(m.reason === undefined ? {} : { reason: m.reason }),
      ...(m.notServingReason === undefined ? {} : { notServingReason: m.notServingReason }),
    })),
  };
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
