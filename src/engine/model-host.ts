import { copySeries, type RegularSeries, type Resource, type SeriesValues, stableHash32 } from '../core/index.js';
import {
  backtest,
  createServingForecaster,
  type EachOriginForecasts,
  evaluateModels,
  type ForecastSpec,
  fitServingModel,
  fitStandIn,
  maseScale,
  type ResourceModel,
  refitServingModel,
  restoreLstm,
  type ServingModel,
  type TrainedLstm,
  trainResourceOptimizer,
} from '../forecast/index.js';
import type {
  HostForecastRequest,
  HostForecastSettings,
  HostLearnedPoint,
  HostLearnedPointsRequest,
  HostLearnedRequest,
  HostModelScore,
  HostOptimizeReply,
  HostOptimizeRequest,
  HostPointForecast,
  HostSeriesReply,
  HostValidateRequest,
  ModelHostPort,
} from './model-host-port.js';

export * from './model-host-port.js';

interface SeriesFit {
  /** The `nowMs` of the cycle whose data the serving fit was made on. */
  readonly fittedAtMs: number;
  /**
   * A quick fit that stands in until a full one: `auto` over the baselines only, or seasonal naive
   * when a start is too large even for that. Its full fit is due at once.
   */
  readonly provisional: boolean;
  /** When `auto` last chose for this series, and whether its window was all held then (undefined: it never chose). */
  readonly selected?: { readonly atMs: number; readonly wholeWindow: boolean };
  readonly maseScale: number;
  readonly byHorizon: ReadonlyMap<number, ServingModel>;
}

/** The newest data of a series, which its next refit fits on. */
interface Latest {
  readonly series: RegularSeries;
  readonly nowMs: number;
  readonly settings: HostForecastSettings;
}

/** What a refit did, reported with the series' next reply. */
interface RefitReport {
  readonly fits: { readonly horizonSeconds: number; readonly model: string; readonly seconds: number }[];
  readonly scores?: HostModelScore[];
}

/**
 * The most points a forecast request fits on at once for series it sees for the first time (the
 * series' length times its horizons): about 10 s of CPU for `auto`'s quick first pass. A start larger
 * than that (1,000 queues are 2,200 series of 10,000 points) serves seasonal naive for the rest and
 * lets the background choose for them, so that the first forecasts do not wait for every fit.
 */
export const firstPassBudgetPoints = 1_000_000;

/**
 * Whether a series holds (about) its whole window: its oldest finite point is in the first tenth.
 * The engine reads a new series' recent past first and the older part in slices over the next
 * cycles (history-window.ts); `auto` chooses once more when the window fills, not at every slice.
 */
function holdsWholeWindow(values: SeriesValues): boolean {
  const oldestSeen = Math.ceil(0.1 * values.length);
  for (let i = 0; i < oldestSeen; i++) if (Number.isFinite(values[i]!)) return true;
  return false;
}

/**
 * Where a series' refit buckets start within the refit interval: a fixed function of its key, so
 * every replica and every restart refits a series at the same point of the interval, and the series
 * of a large configuration spread evenly over it.
 */
export function refitPhaseMs(key: string, intervalMs: number): number {
  return intervalMs >= 1 ? stableHash32(key) % Math.floor(intervalMs) : 0;
}

/** The refit-interval bucket of `ms` for `key` (buckets start at the key's own phase). */
function bucketOf(ms: number, key: string, intervalSeconds: number): number {
  const intervalMs = intervalSeconds * 1000;
  return Math.floor((ms - refitPhaseMs(key, intervalMs)) / intervalMs);
}

/**
 * The models themselves: one fit per series per refit bucket and one Random Forest per resource,
 * kept between cycles. Deterministic (no clock: times come in the requests).
 *
 * A forecast request answers from the fits held and queues the refits that are due; `refitNext`
 * works through the queue one series at a time. The model process calls it between requests, so a
 * cycle never waits for refits ("models refit at their own pace"); with `waitForRefits` (an
 * in-process host, and tests) the due refits are done before answering, as one synchronous step.
 * Only a series seen for the first time is fitted inside the request, quickly (see
 * {@link firstPassBudgetPoints}).
 */
export class ModelHost {
  readonly #firstPassBudgetPoints: number;
  #generation: number | undefined;
  #fits = new Map<string, SeriesFit>();
  /** Due refits in the order they run: provisional fits first, then the rest as they fell due. */
  readonly #urgent = new Set<string>();
  readonly #due = new Set<string>();
  readonly #latest = new Map<string, Latest>();
  readonly #reports = new Map<string, RefitReport>();
  #optimizers = new Map<Resource, { readonly fittedAtMs: number; readonly model: ResourceModel }>();
  /** The restored learned model of each series that has one serving, by the caller's id. */
  #learned = new Map<string, { readonly id: string; readonly model: TrainedLstm }>();

  constructor(options: { readonly firstPassBudgetPoints?: number } = {}) {
    this.#firstPassBudgetPoints = options.firstPassBudgetPoints ?? firstPassBudgetPoints;
  }

  /** How many series wait for a refit. */
  get queuedRefits(): number {
    return this.#urgent.size + this.#due.size;
  }

  forecast(request: HostForecastRequest): HostSeriesReply[] {
    this.#checkGeneration(request.generation);
    const { settings, nowMs } = request;
    const keys = new Set(request.series.map((s) => s.key));
    // A series that disappeared (a queue removed, no data any more) is refitted if it comes back.
    for (const key of this.#fits.keys()) if (!keys.has(key)) this.#forget(key);
    let budgetPoints = this.#firstPassBudgetPoints;
    // Series seen for the first time: stand-ins first, since their full fit is needed most.
    const standIns: string[] = [];
    const quickOnes: string[] = [];
    for (const { key, series } of request.series) {
      this.#latest.set(key, { series, nowMs, settings });
      const fit = this.#fits.get(key);
      if (fit === undefined) {
        const cost = series.values.length * settings.horizonsSeconds.length;
        const quick = budgetPoints >= cost;
        if (quick) budgetPoints -= cost;
        this.#firstFit(key, quick);
        (quick ? quickOnes : standIns).push(key);
      } else if (fit.provisional) this.#urgent.add(key);
      // Refits happen once per refit-interval bucket of wall time, not "interval after the last one",
      // so replicas reading the same Prometheus refit in the same bucket and publish the same forecasts.
      // Each series' buckets start at its own phase (refitPhaseMs), so that 1,000 series refit a few
      // per cycle, spread over the interval, instead of all in the cycle after the hour.
      else if (bucketOf(fit.fittedAtMs, key, settings.refitIntervalSeconds) !== bucketOf(nowMs, key, settings.refitIntervalSeconds)) this.#due.add(key);
    }
    if (request.waitForRefits === true) {
      while (this.refitNext());
    } else {
      // In the background the full fit of a provisional one follows at once; a host that refits
      // inside the request leaves it for the next cycle, so that the first cycle stays quick.
      for (const key of [...standIns, ...quickOnes]) if (this.#fits.get(key)?.provisional === true) this.#urgent.add(key);
    }
    return request.series.map(({ key, series }) => this.#reply(key, series));
  }

  /**
   * Runs the next due refit (one series, every horizon) on the newest data the series was sent
   * with. Returns whether more are queued.
   */
  refitNext(): boolean {
    const key = this.#urgent.values().next().value ?? this.#due.values().next().value;
    if (key === undefined) return false;
    this.#urgent.delete(key);
    this.#due.delete(key);
    const latest = this.#latest.get(key);
    const fit = this.#fits.get(key);
    if (latest !== undefined && fit !== undefined) this.#refit(key, fit, latest);
    return this.queuedRefits > 0;
  }

  /** The first fit of a series: `auto`'s quick first pass (or the configured model), or a stand-in beyond the budget. */
  #firstFit(key: string, quick: boolean): void {
    const latest = this.#latest.get(key)!;
    const auto = latest.settings.model === 'auto';
    const fitOne = (series: RegularSeries, spec: ForecastSpec): ServingModel | undefined =>
      quick
        ? fitServingModel(latest.settings.model, series, spec, { firstPass: auto })
        : fitStandIn(
            series,
            spec,
            `a large start (more than ${this.#firstPassBudgetPoints} points to fit at once): seasonal naive stands in until the ${latest.settings.model} fit runs in the background`,
          );
    this.#fitEvery(key, latest, fitOne, { provisional: auto || !quick, withScores: quick });
  }

  #refit(key: string, fit: SeriesFit, latest: Latest): void {
    const { settings, nowMs, series } = latest;
    const auto = settings.model === 'auto';
    const intervalSeconds = settings.selectionIntervalSeconds;
    const choose =
      fit.provisional ||
      fit.selected === undefined ||
      bucketOf(fit.selected.atMs, key, intervalSeconds) !== bucketOf(nowMs, key, intervalSeconds) ||
      (!fit.selected.wholeWindow && holdsWholeWindow(series.values));
    if (!auto || choose) {
      this.#fitEvery(key, latest, (s, spec) => fitServingModel(settings.model, s, spec), { provisional: false, withScores: true });
      return;
    }
    // Between two choices: the chosen members refitted on the newest data; the selection's scores stand.
    this.#fitEvery(
      key,
      latest,
      (s, spec, horizonSeconds) => {
        const previous = fit.byHorizon.get(horizonSeconds);
        return previous === undefined ? fitServingModel(settings.model, s, spec) : refitServingModel(settings.model, previous, s, spec);
      },
      {
        provisional: false,
        withScores: false,
        selected: fit.selected,
      },
    );
  }

  /** Fits every horizon of a series with `fitOne`, keeps the fit, and notes what it did for the next reply. */
  #fitEvery(
    key: string,
    latest: Latest,
    fitOne: (series: RegularSeries, spec: ForecastSpec, horizonSeconds: number) => ServingModel | undefined,
    how: { readonly provisional: boolean; readonly withScores: boolean; readonly selected?: SeriesFit['selected'] },
  ): void {
    const { settings, series, nowMs } = latest;
    const seasonSteps = Math.round(settings.seasonSeconds / settings.stepSeconds);
    const fits: RefitReport['fits'] = [];
    const byHorizon = new Map<number, ServingModel>();
    for (const horizonSeconds of settings.horizonsSeconds) {
      const began = performance.now();
      const outcome = fitOne(series, specOf(settings, seasonSteps, horizonSeconds), horizonSeconds);
      if (outcome === undefined) continue;
      fits.push({ horizonSeconds, model: outcome.fitted.model, seconds: (performance.now() - began) / 1000 });
      byHorizon.set(horizonSeconds, outcome);
    }
    const chose = settings.model === 'auto' && how.withScores && !how.provisional;
    const selected = chose ? { atMs: nowMs, wholeWindow: holdsWholeWindow(series.values) } : how.selected;
    this.#fits.set(key, { fittedAtMs: nowMs, provisional: how.provisional, maseScale: maseScale(series.values, seasonSteps).scale, byHorizon, ...(selected === undefined ? {} : { selected }) });
    this.#reports.set(key, { fits, ...(how.withScores ? { scores: scoresOf(settings, seasonSteps, series, byHorizon) } : {}) });
  }

  #reply(key: string, series: RegularSeries): HostSeriesReply {
    const fit = this.#fits.get(key)!;
    const report = this.#reports.get(key);
    this.#reports.delete(key);
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
      ...(report === undefined ? {} : { fits: report.fits }),
      ...(report?.scores === undefined ? {} : { scores: report.scores }),
    };
  }

  #forget(key: string): void {
    this.#fits.delete(key);
    this.#urgent.delete(key);
    this.#due.delete(key);
    this.#latest.delete(key);
    this.#reports.delete(key);
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
    for (const key of [...this.#fits.keys()]) this.#forget(key);
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

/** Every baseline's backtest at the first horizon, and what serves, for /scaling/ml/accuracy. */
function scoresOf(settings: HostForecastSettings, seasonSteps: number, series: RegularSeries, byHorizon: ReadonlyMap<number, ServingModel>): HostModelScore[] {
  // auto has just backtested every candidate on the newest 30 % (the split evaluateModels
  // uses): reuse those scores, so that one refit never backtests the same models twice.
  const first = byHorizon.get(settings.horizonsSeconds[0]!);
  const evaluations = first?.candidateScores ?? evaluateModels(series, specOf(settings, seasonSteps, settings.horizonsSeconds[0]!));
  const scores = evaluations.map((s) => ({ model: s.model, mase: s.mase, wape: s.wape, accuracyPercent: s.accuracyPercent, coverage: s.coverage, points: s.points }));
  // What serves by default (auto) is no baseline: its row is its score on the same newest 30 %.
  const served = first?.selection?.validationScore;
  if (first !== undefined && served !== undefined && !scores.some((s) => s.model === first.fitted.model)) scores.push({ model: first.fitted.model, ...served });
  return scores;
}

/** Runs the models on the caller's event loop: for tests, backtests and anyone who wants one process. */
export function inlineModelHost(): ModelHostPort {
  const host = new ModelHost();
  return {
    // The engine's buffers change in place every cycle and the fits may keep what they were fitted
    // on: an in-process host takes copies, as a model process does by receiving them.
    forecast: (request) => Promise.resolve().then(() => host.forecast({ ...request, series: request.series.map(({ key, series }) => ({ key, series: copySeries(series) })), waitForRefits: true })),
    validate: (request) => Promise.resolve().then(() => host.validate(request)),
    learnedForecasts: (request) => host.learnedForecasts(request),
    learnedPoints: (request) => host.learnedPoints(request),
    optimize: (request) => Promise.resolve().then(() => host.optimize(request)),
    tensorCount: () => undefined,
    queuedRefits: () => host.queuedRefits,
    refitsDone: () => Promise.resolve(),
    cpuSeconds: () => ({ callsSeconds: 0, refitsSeconds: 0 }),
    close: () => Promise.resolve(host.close()),
  };
}
