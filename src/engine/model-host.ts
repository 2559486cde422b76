import type { RegularSeries, Resource } from '../core/index.js';
import {
  backtest,
  createServingForecaster,
  type EachOriginForecasts,
  type FeatureInputs,
  evaluateModels,
  type FittedForecaster,
  type ForecastSpec,
  fitServingModel,
  type ModelSelection,
  type LstmArtifacts,
  type LstmMeta,
  maseScale,
  type PointForecast,
  type ResourceModel,
  type ResourceObservation,
  type ResourceRecommendation,
  restoreLstm,
  type ServingModelName,
  type TfBackendPreference,
  type TrainedLstm,
  trainResourceOptimizer,
} from '../forecast/index.js';

/** The forecast settings a host fits with (the `forecast` config section, in seconds). */
export interface HostForecastSettings {
  readonly model: ServingModelName;
  readonly stepSeconds: number;
  readonly seasonSeconds: number;
  readonly horizonsSeconds: readonly number[];
  readonly refitIntervalSeconds: number;
}

/** One cycle's forecasting work: every series with data, on the same grid. */
export interface HostForecastRequest {
  /**
   * Bumped by the engine whenever the configuration changes: a host seeing a new generation drops
   * every fit and optimizer model, because model settings, horizons or thresholds may have changed.
   */
  readonly generation: number;
  readonly nowMs: number;
  readonly settings: HostForecastSettings;
  readonly series: readonly { readonly key: string; readonly series: RegularSeries }[];
}

/** One horizon's point forecast from the serving baseline. */
export interface HostPointForecast {
  readonly horizonSeconds: number;
  readonly model: string;
  readonly fallbackReason?: string;
  /** Which model serves and why (the selection of `auto`, the default). */
  readonly selection?: ModelSelection;
  readonly value: number;
  readonly p10: number;
  readonly p90: number;
}

/** A backtest score of one model, as /scaling/ml/accuracy shows it. */
export interface HostModelScore {
  readonly model: string;
  readonly mase: number;
  readonly wape: number;
  readonly accuracyPercent: number;
  readonly coverage: number;
  readonly points: number;
}

/** What a host answers for one series. */
export interface HostSeriesReply {
  readonly key: string;
  /** When the serving fit was made (unix ms); the same for every cycle until the next refit. */
  readonly fittedAtMs: number;
  /** In-sample seasonal-naive MAE of the fit's history: the scale of matured-forecast MASE. */
  readonly maseScale: number;
  /** Every configured horizon the serving model could forecast. */
  readonly forecasts: readonly HostPointForecast[];
  /** Set on the cycle that refitted: each horizon's fit and how long it took. */
  readonly fits?: readonly { readonly horizonSeconds: number; readonly model: string; readonly seconds: number }[];
  /** Set on the cycle that refitted: every baseline's backtest at the first horizon. */
  readonly scores?: readonly HostModelScore[];
}

/** A learned model as it travels to the model process: what `restoreLstm` needs. */
export interface LearnedArtifacts {
  readonly artifacts: LstmArtifacts;
  readonly meta: LstmMeta;
}

/** Backtests of the serving model that a learned model is compared against. */
export interface HostValidateRequest {
  readonly settings: HostForecastSettings;
  /** Per item: the series, the horizon, and the first origin scored (the model is fitted on the points before it). */
  readonly items: readonly { readonly key: string; readonly series: RegularSeries; readonly horizonSeconds: number; readonly fromIndex: number }[];
}

/** The latest forecast of each series' learned model, by the id the caller gave it. */
export interface HostLearnedPointsRequest {
  /** The TensorFlow.js backend to restore models on (`ml.lstm.backend`). */
  readonly backend?: TfBackendPreference;
  /**
   * Per series: the model's id (a new id replaces the series' model), the history, and the
   * weights — needed only the first time the host sees an id (it answers `missing` otherwise).
   */
  readonly items: readonly { readonly key: string; readonly id: string; readonly series: RegularSeries; readonly covariates?: FeatureInputs['covariates']; readonly learned?: LearnedArtifacts }[];
}

/** A learned model's latest forecast, or why there is none. */
export type HostLearnedPoint = PointForecast | { readonly missing: true } | { readonly error: string };

/** A learned model's forecasts at every origin from `fromIndex` on. */
export interface HostLearnedRequest {
  readonly learned: LearnedArtifacts;
  readonly series: RegularSeries;
  /** The series' covariates on its grid (the LSTM's multivariate inputs). */
  readonly covariates?: FeatureInputs['covariates'];
  readonly fromIndex: number;
  /** The TensorFlow.js backend to restore it on (`ml.lstm.backend`). */
  readonly backend?: TfBackendPreference;
}

/** The optimizer work of one cycle: per resource, its observations and the load to size for. */
export interface HostOptimizeRequest {
  readonly generation: number;
  readonly nowMs: number;
  readonly refitIntervalSeconds: number;
  /** The forest's settings (`ml.randomForest`); a change comes with a new generation, so the forest is retrained. */
  readonly forest?: { readonly trees: number; readonly seed: number; readonly minSaturatedSamples: number; readonly headroom: number };
  readonly resources: readonly {
    readonly resource: Resource;
    readonly observations: readonly ResourceObservation[];
    /** The most work that may wait while targets are kept (the sum of the resource's queue thresholds). */
    readonly maxBacklog: number;
    /** What to recommend for; absent when the load is unknown this cycle. */
    readonly recommend?: {
      readonly predictedLoad: number;
      readonly range: { readonly min: number; readonly max: number };
      readonly confidenceThreshold: number;
      readonly cpuPercent?: number;
    };
  }[];
}

/** What a host answers for one resource: the recommendation, once a model could be learned. */
export interface HostOptimizeReply {
  readonly resource: Resource;
  readonly recommendation?: ResourceRecommendation;
}

/**
 * Where a cycle's model work runs: fitting (once per refit bucket), forecasting, backtests, and the
 * resource optimizer. The engine talks to it asynchronously so that the work can run in another
 * process (see model-process.ts) and never hold up the event loop that serves HTTP.
 */
export interface ModelHostPort {
  forecast(request: HostForecastRequest): Promise<HostSeriesReply[]>;
  /** Per item, the serving model's backtest MASE from `fromIndex` on, fitted on the points before (NaN when it cannot be backtested). */
  validate(request: HostValidateRequest): Promise<number[]>;
  /**
   * A learned model's forecasts at every origin from `fromIndex` on (NaN before), to compare it with
   * the baseline: an LSTM over thousands of origins takes seconds, which must not run on the event
   * loop that serves. Rejects when the model cannot be restored.
   */
  learnedForecasts(request: HostLearnedRequest): Promise<EachOriginForecasts>;
  /**
   * The latest forecast of each serving learned model; the host keeps the restored models (one per
   * series), so the service sends the weights once per model and never runs TensorFlow.js itself.
   */
  learnedPoints(request: HostLearnedPointsRequest): Promise<HostLearnedPoint[]>;
  /**
   * TensorFlow.js tensors alive where the models run, as of the last answer; undefined when they run
   * in this process (they are counted with this process's own) or before the first answer.
   */
  tensorCount(): number | undefined;
  optimize(request: HostOptimizeRequest): Promise<HostOptimizeReply[]>;
  close(): Promise<void>;
}

interface SeriesFit {
  readonly fittedAtMs: number;
  readonly maseScale: number;
  readonly byHorizon: ReadonlyMap<number, { readonly fitted: FittedForecaster; readonly fallbackReason?: string; readonly selection?: ModelSelection }>;
}

/**
 * The models themselves: one fit per series per refit bucket and one Random Forest per resource,
 * kept between cycles. Synchronous and deterministic (no clock: times come in the requests), so the
 * same requests give the same answers in the service's process or in a child.
 */
export class ModelHost {
  #generation: number | undefined;
  #fits = new Map<string, SeriesFit>();
  #optimizers = new Map<Resource, { readonly fittedAtMs: number; readonly model: ResourceModel }>();
  /** The restored learned model of each series that has one serving, by the caller's id. */
  #learned = new Map<string, { readonly id: string; readonly model: TrainedLstm }>();

  forecast(request: HostForecastRequest): HostSeriesReply[] {
    this.#checkGeneration(request.generation);
    const { settings, nowMs } = request;
    const seasonSteps = Math.round(settings.seasonSeconds / settings.stepSeconds);
    // Refits happen once per refit-interval bucket of wall time, not "interval after the last one",
    // so replicas reading the same Prometheus refit in the same bucket and publish the same forecasts.
    const bucket = (ms: number) => Math.floor(ms / (settings.refitIntervalSeconds * 1000));
    const keys = new Set(request.series.map((s) => s.key));
    // A series that disappeared (a queue removed, no data any more) is refitted if it comes back.
    for (const key of this.#fits.keys()) if (!keys.has(key)) this.#fits.delete(key);
    return request.series.map(({ key, series }) => {
      let fit = this.#fits.get(key);
      let fits: { horizonSeconds: number; model: string; seconds: number }[] | undefined;
      let scores: HostModelScore[] | undefined;
      if (fit === undefined || bucket(fit.fittedAtMs) !== bucket(nowMs)) {
        fits = [];
        const byHorizon = new Map<number, { fitted: FittedForecaster; fallbackReason?: string; selection?: ModelSelection }>();
        for (const horizonSeconds of settings.horizonsSeconds) {
          const spec = specOf(settings, seasonSteps, horizonSeconds);
          const began = performance.now();
          const outcome = fitServingModel(settings.model, series, spec);
          if (outcome === undefined) continue;
          fits.push({ horizonSeconds, model: outcome.fitted.model, seconds: (performance.now() - began) / 1000 });
          byHorizon.set(horizonSeconds, outcome);
        }
        fit = { fittedAtMs: nowMs, maseScale: maseScale(series.values, seasonSteps).scale, byHorizon };
        this.#fits.set(key, fit);
        scores = evaluateModels(series, specOf(settings, seasonSteps, settings.horizonsSeconds[0]!)).map((s) => ({
          model: s.model,
          mase: s.mase,
          wape: s.wape,
          accuracyPercent: s.accuracyPercent,
          coverage: s.coverage,
          points: s.points,
        }));
        // What serves by default (auto) is no baseline: its row is its score on the same newest 30 %.
        const first = byHorizon.get(settings.horizonsSeconds[0]!);
        const served = first?.selection?.validationScore;
        if (first !== undefined && served !== undefined && !scores.some((s) => s.model === first.fitted.model)) scores.push({ model: first.fitted.model, ...served });
      }
      const forecasts: HostPointForecast[] = [];
      for (const [horizonSeconds, serving] of fit.byHorizon) {
        const point = serving.fitted.forecast(series);
        forecasts.push({
          horizonSeconds,
          model: serving.fitted.model,
          ...(serving.fallbackReason === undefined ? {} : { fallbackReason: serving.fallbackReason }),
          ...(serving.selection === undefined ? {} : { selection: serving.selection }),
          value: point.value,
          p10: point.p10,
          p90: point.p90,
        });
      }
      return {
        key,
        fittedAtMs: fit.fittedAtMs,
        maseScale: fit.maseScale,
        forecasts,
        ...(fits === undefined ? {} : { fits }),
        ...(scores === undefined ? {} : { scores }),
      };
    });
  }

  /** See {@link ModelHostPort.validate}: a fresh fit per item on its older part; nothing is kept. */
  validate(request: HostValidateRequest): number[] {
    const { settings } = request;
    const seasonSteps = Math.round(settings.seasonSeconds / settings.stepSeconds);
    return request.items.map(({ series, horizonSeconds, fromIndex }) => {
      const result = backtest(createServingForecaster(settings.model), series, { spec: specOf(settings, seasonSteps, horizonSeconds), trainEndIndex: fromIndex - 1 });
      return result.ok ? result.value.accuracy.mase : Number.NaN;
    });
  }

  /** See {@link ModelHostPort.learnedForecasts}: restored, run and freed; nothing is kept (it runs once per refit per series). */
  async learnedForecasts(request: HostLearnedRequest): Promise<EachOriginForecasts> {
    const restored = await restoreLstm(request.learned.artifacts, request.learned.meta, request.backend);
    if (!restored.ok) throw new Error(`the learned model could not be restored: ${restored.error.message}`);
    try {
      return restored.value.forecastInputsEachOrigin({ target: request.series, ...(request.covariates === undefined ? {} : { covariates: request.covariates }) }, request.fromIndex);
    } finally {
      restored.value.dispose();
    }
  }

  /** See {@link ModelHostPort.learnedPoints}. Series not in the request drop their model. */
  async learnedPoints(request: HostLearnedPointsRequest): Promise<HostLearnedPoint[]> {
    const keys = new Set(request.items.map((i) => i.key));
    for (const [key, held] of this.#learned) {
      if (keys.has(key)) continue;
      held.model.dispose();
      this.#learned.delete(key);
    }
    const out: HostLearnedPoint[] = [];
    for (const { key, id, series, covariates, learned } of request.items) {
      let held = this.#learned.get(key);
      if (held?.id !== id) {
        if (learned === undefined) {
          out.push({ missing: true });
          continue;
        }
        const restored = await restoreLstm(learned.artifacts, learned.meta, request.backend);
        if (!restored.ok) {
          out.push({ error: `the learned model could not be restored: ${restored.error.message}` });
          continue;
        }
        held?.model.dispose();
        held = { id, model: restored.value };
        this.#learned.set(key, held);
      }
      out.push(held.model.forecastInputs({ target: series, ...(covariates === undefined ? {} : { covariates }) }));
    }
    return out;
  }

  /**
   * Trains each resource's Random Forest once per refit-interval bucket (every cycle until a first
   * model could be learned; without enough saturated history the previous model keeps serving) and
   * recommends replicas for the predicted load.
   */
  optimize(request: HostOptimizeRequest): HostOptimizeReply[] {
    this.#checkGeneration(request.generation);
    const bucket = (ms: number) => Math.floor(ms / (request.refitIntervalSeconds * 1000));
    return request.resources.map(({ resource, observations, maxBacklog, recommend }) => {
      let fit = this.#optimizers.get(resource);
      if (fit === undefined || bucket(fit.fittedAtMs) !== bucket(request.nowMs)) {
        const trained = trainResourceOptimizer(resource, observations, { maxBacklog }, request.forest);
        if (trained.ok) {
          fit = { fittedAtMs: request.nowMs, model: trained.value };
          this.#optimizers.set(resource, fit);
        }
      }
      if (fit === undefined || recommend === undefined) return { resource };
      return {
        resource,
        recommendation: fit.model.recommend(recommend.predictedLoad, request.nowMs, recommend.range, recommend.confidenceThreshold, recommend.cpuPercent),
      };
    });
  }

  #checkGeneration(generation: number): void {
    if (this.#generation === generation) return;
    this.#generation = generation;
    this.#fits.clear();
    this.#optimizers.clear();
  }

  /** Frees the learned models' tensors. */
  close(): void {
    for (const held of this.#learned.values()) held.model.dispose();
    this.#learned.clear();
  }
}

function specOf(settings: HostForecastSettings, seasonSteps: number, horizonSeconds: number): ForecastSpec {
  return { stepSeconds: settings.stepSeconds, seasonSteps, horizonSteps: Math.round(horizonSeconds / settings.stepSeconds) };
}

/** Runs the models on the caller's event loop: for tests, backtests and anyone who wants one process. */
export function inlineModelHost(): ModelHostPort {
  const host = new ModelHost();
  return {
    forecast: (request) => Promise.resolve().then(() => host.forecast(request)),
    validate: (request) => Promise.resolve().then(() => host.validate(request)),
    learnedForecasts: (request) => host.learnedForecasts(request),
    learnedPoints: (request) => host.learnedPoints(request),
    optimize: (request) => Promise.resolve().then(() => host.optimize(request)),
    tensorCount: () => undefined,
    close: () => Promise.resolve(host.close()),
  };
}
