import type { Config } from '../config/index.js';
import { messageOf, type RegularSeries } from '../core/index.js';
import {
  actualsAtOrigins,
  type EachOriginForecasts,
  type FeatureInputs,
  type FittedForecaster,
  type ForecastSpec,
  type MaturedAccuracyTracker,
  type PointForecast,
  maseScale,
  scoreForecasts,
} from '../forecast/index.js';
import type { LearnedModels, LearnedModelStatus, LearnedServing } from './learned-models.js';
import type { HostForecastSettings, HostSeriesReply, ModelHostPort } from './model-host.js';
import type { ModelAccuracy } from './snapshot.js';

/** The share of the newest history a learned model and the baseline are compared on. */
const learnedValidationFraction = 0.3;

/**
 * Fewest origins a learned model is scored on before it may serve: with fewer, a comparison with the
 * baseline is noise (a model trained moments ago has almost no unseen data to be judged on).
 */
const minLearnedComparisonOrigins = 120;

/** Whether a series' learned model serves one horizon, decided by a backtest at refit time. */
export interface LearnedChoice {
  /** The learned model compared (a new one from training is compared again). */
  readonly model: FittedForecaster;
  /** The baseline fit it was compared against (a refit compares again). */
  readonly fittedAtMs: number;
  readonly horizonSeconds?: number;
  readonly use: boolean;
  readonly learnedMase: number;
  readonly baselineMase: number;
  /** Why the learned model does not serve. */
  readonly reason?: string;
  /** The learned model's validation scores, shown beside the baselines' in /scaling/ml/accuracy. */
  readonly scores?: ModelAccuracy;
}

/** A learned model waiting to be compared with the serving baseline on one series. */
interface PendingComparison {
  readonly key: string;
  readonly series: RegularSeries;
  readonly covariates?: FeatureInputs['covariates'];
  readonly model: FittedForecaster;
  readonly fittedAtMs: number;
  readonly horizonSeconds: number;
  /** The first origin scored: in the newest 30 %, and after the learned model's training data. */
  readonly fromIndex: number;
}

/** A forecast series a cycle has data for, with the covariates the LSTM reads beside it (on its grid). */
interface SeriesItem {
  readonly key: string;
  readonly series: RegularSeries;
  readonly covariates?: FeatureInputs['covariates'];
}

/** The spec learned models are trained for: the first configured horizon. */
export function learnedSpec(config: Config): ForecastSpec {
  return {
    stepSeconds: config.forecast.step,
    seasonSteps: Math.round(config.forecast.season / config.forecast.step),
    horizonSteps: Math.round(config.forecast.horizons[0]! / config.forecast.step),
  };
}

/** Matured-forecast accuracy per series at the learned models' horizon (what triggers early retraining). */
export function maturedPercentByKey(matured: MaturedAccuracyTracker, config: Config, nowMs: number): Map<string, number> {
  const horizonSeconds = config.forecast.horizons[0]!;
  const out = new Map<string, number>();
  for (const m of matured.accuracy(nowMs)) {
    if (m.horizonSeconds === horizonSeconds && m.points > 0 && Number.isFinite(m.accuracyPercent)) out.set(m.seriesKey, m.accuracyPercent);
  }
  return out;
}

/**
 * Which series' learned model serves instead of the baseline, remembered between cycles: a choice
 * stands until the baseline is refitted or training deploys a new learned model.
 */
export class LearnedModelChoice {
  readonly #models: ModelHostPort;
  /** Series whose stored learned model has been loaded (or found missing). */
  readonly #loaded = new Set<string>();
  readonly #choices = new Map<string, LearnedChoice>();

  constructor(models: ModelHostPort) {
    this.#models = models;
  }

  /** Forgets every choice (a new configuration): each is decided again on the next cycle. */
  clear(): void {
    this.#choices.clear();
  }

  /**
   * Loads each series' learned model once, and decides whether it serves: only if it beats the
   * serving baseline by MASE on the newest 30 % of the buffer, scored only on origins after the
   * data it was trained on (the baseline fitted on the points before them). Decided again after
   * each baseline refit and whenever training deploys a new model; the baselines' backtests run in
   * the model host, in one call for every series that needs one. `scores` are the validation scores
   * of the learned models compared in this call, in order.
   */
  async choose(
    learned: LearnedModels,
    items: readonly SeriesItem[],
    replies: readonly HostSeriesReply[],
    settings: HostForecastSettings,
    nowMs: number,
  ): Promise<{ choices: Map<string, LearnedChoice>; scores: ModelAccuracy[] }> {
    const out = new Map<string, LearnedChoice>();
    const scores: ModelAccuracy[] = [];
    const settle = (key: string, choice: LearnedChoice) => {
      this.#choices.set(key, choice);
      out.set(key, choice);
    };
    const pending: (PendingComparison & { readonly serving: LearnedServing })[] = [];
    for (const [index, { key, series, covariates }] of items.entries()) {
      const reply = replies[index]!;
      if (!this.#loaded.has(key)) {
        this.#loaded.add(key);
        await learned.load(key);
      }
      const serving = learned.serving(key);
      if (serving === undefined) {
        this.#choices.delete(key);
        continue;
      }
      const { model } = serving;
      const cached = this.#choices.get(key);
      if (cached !== undefined && cached.model === model && cached.fittedAtMs === reply.fittedAtMs) {
        out.set(key, cached);
        continue;
      }
      const none = (reason: string): LearnedChoice => ({ model, fittedAtMs: reply.fittedAtMs, use: false, learnedMase: Number.NaN, baselineMase: Number.NaN, reason });
      const spec = model.spec;
      const horizonSeconds = reply.forecasts.find((f) => spec.stepSeconds === settings.stepSeconds && spec.horizonSteps === Math.round(f.horizonSeconds / settings.stepSeconds))?.horizonSeconds;
      const stepMs = series.stepSeconds * 1000;
      // The first origin whose inputs and target the learned model never saw.
      const unseenIndex = Math.max(0, Math.floor((serving.trainedThroughMs - series.startMs) / stepMs) + 1);
      const fromIndex = Math.max(Math.floor(series.values.length * (1 - learnedValidationFraction)), unseenIndex);
      const origins = series.values.length - spec.horizonSteps - fromIndex;
      if (horizonSeconds === undefined) settle(key, none(`the learned model's spec (step ${spec.stepSeconds}s, ${spec.horizonSteps} steps ahead) matches no configured horizon`));
      else if (origins < minLearnedComparisonOrigins) {
        settle(key, none(`only ${Math.max(0, origins)} origins after the learned model's training data; it is compared with the baseline from ${minLearnedComparisonOrigins} on`));
      } else pending.push({ key, series, ...(covariates === undefined ? {} : { covariates }), model, serving, fittedAtMs: reply.fittedAtMs, horizonSeconds, fromIndex });
    }
    if (pending.length === 0) return { choices: out, scores };
    const baselineMases = await this.#models.validate({ settings, items: pending.map(({ key, series, horizonSeconds, fromIndex }) => ({ key, series, horizonSeconds, fromIndex })) });
    for (const [index, p] of pending.entries()) {
      let forecasts: EachOriginForecasts;
      try {
        forecasts = await p.serving.forecastsFrom(p.series, p.fromIndex, p.covariates);
      } catch (error) {
        settle(p.key, {
          model: p.model,
          fittedAtMs: p.fittedAtMs,
          use: false,
          learnedMase: Number.NaN,
          baselineMase: baselineMases[index]!,
          reason: `the learned model could not be scored: ${messageOf(error)}`,
        });
        continue;
      }
      const choice = compareLearned(p, forecasts, baselineMases[index]!, settings.model, nowMs);
      settle(p.key, choice);
      if (choice.scores !== undefined) scores.push(choice.scores);
    }
    return { choices: out, scores };
  }

  /** The latest forecast of every learned model that serves, in one call (made every cycle, so unused models can be freed). */
  async points(learned: LearnedModels, items: readonly SeriesItem[], choices: ReadonlyMap<string, LearnedChoice>): Promise<Map<string, PointForecast>> {
    const serving = items.filter(({ key }) => choices.get(key)?.use === true);
    const points = await learned.latest(serving.map(({ key, series, covariates }) => ({ seriesKey: key, series, ...(covariates === undefined ? {} : { covariates }) })));
    const out = new Map<string, PointForecast>();
    serving.forEach(({ key }, index) => {
      const point = points[index];
      if (point !== undefined) out.set(key, point);
    });
    return out;
  }

  /** The lifecycle's status, with whether each series' learned model serves and why not. */
  status(learned: LearnedModels): LearnedModelStatus[] {
    return learned.status().map((s) => {
      const choice = this.#choices.get(s.seriesKey);
      if (choice === undefined) return { ...s, servesForecasts: false };
      return {
        ...s,
        servesForecasts: choice.use,
        ...(Number.isFinite(choice.learnedMase) ? { validationMase: choice.learnedMase } : {}),
        ...(Number.isFinite(choice.baselineMase) ? { baselineValidationMase: choice.baselineMase } : {}),
        ...(choice.reason === undefined ? {} : { notServingReason: choice.reason }),
      };
    });
  }
}

/** Scores the learned model's forecasts from the first unseen origin on, against the baseline's MASE on the same origins. */
function compareLearned(p: PendingComparison, forecasts: EachOriginForecasts, baselineMase: number, baselineModel: string, nowMs: number): LearnedChoice {
  const { key, series, model, fittedAtMs, horizonSeconds, fromIndex } = p;
  const actual = actualsAtOrigins(series.values, model.spec.horizonSteps, fromIndex);
  const score = scoreForecasts(actual, forecasts, maseScale(series.values.subarray(0, fromIndex), model.spec.seasonSteps));
  const learnedMase = score.count > 0 ? score.mase : Number.NaN;
  const use = Number.isFinite(learnedMase) && Number.isFinite(baselineMase) && learnedMase < baselineMase;
  const reason = use
    ? undefined
    : !Number.isFinite(learnedMase)
      ? 'the learned model has no scored forecasts on the validation window'
      : !Number.isFinite(baselineMase)
        ? 'the baseline could not be backtested, so the learned model cannot be compared'
        : `baseline ${baselineModel} is better or equal on the newest origins it was not trained on (MASE ${baselineMase.toFixed(3)} vs ${learnedMase.toFixed(3)}, ${score.count} origins)`;
  return {
    model,
    fittedAtMs,
    horizonSeconds,
    use,
    learnedMase,
    baselineMase,
    ...(reason === undefined ? {} : { reason }),
    ...(score.count > 0
      ? {
          scores: {
            seriesKey: key,
            model: model.model,
            mase: score.mase,
            wape: score.wape,
            accuracyPercent: score.accuracyPercent,
            coverage: score.coverage80,
            horizonSeconds,
            points: score.count,
            evaluatedAtMs: nowMs,
          },
        }
      : {}),
  };
}
