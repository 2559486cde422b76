import type { Config } from '../config/index.js';
import {
  allInputs,
  type Clock,
  type InputRef,
  inputKey,
  lastFinite,
  type RegularSeries,
  type Resource,
} from '../core/index.js';
import { AnomalyTracker, monitoredMetricOf, toAnomalyVerdict } from '../anomaly/index.js';
import { decide, type DecisionPolicy, type DecisionState, initialDecisionState, type QueueTrendReport } from '../decide/index.js';
import {
  actualsAtOrigins,
  type EachOriginForecasts,
  type FeatureInputs,
  type FittedForecaster,
  type ForecastSpec,
  MaturedAccuracyTracker,
  type PointForecast,
  maseScale,
  type ResourceObservation,
  scoreForecasts,
} from '../forecast/index.js';
import type { MetricSource, SourceProblem } from '../source/index.js';
import { covariateInputs, featureInputsOf } from './learned-inputs.js';
import type { LearnedModels, LearnedModelStatus, LearnedServing } from './learned-models.js';
import type { ObservationStore } from './observation-store.js';
import { type HostForecastSettings, type HostOptimizeRequest, type HostSeriesReply, inlineModelHost, type ModelHostPort } from './model-host.js';
import type { Recorder } from './recorder.js';
import type {
  AnomalyState,
  CycleProblem,
  InputValue,
  ModelAccuracy,
  OptimizerState,
  QueueState,
  ResourceDecision,
  SeriesForecast,
  Snapshot,
  SnapshotStore,
} from './snapshot.js';

/** What the reconciler needs; all of it injected so that a test can drive a cycle with fakes. */
export interface ReconcilerDeps {
  readonly source: MetricSource;
  readonly clock: Clock;
  readonly store: SnapshotStore;
  readonly recorder: Recorder;
  /** The current configuration; read once at the start of each cycle, so a reload never lands mid-cycle. */
  readonly config: () => Config;
  /** The decision policy of the current configuration (compiled scaling rules); none → no decisions. */
  readonly policy?: () => DecisionPolicy | undefined;
  /** The learned-model lifecycle (LSTM); used when `ml.lstm.enabled` and `scaling.mlPredictionEnabled`. */
  readonly learned?: LearnedModels;
  /** Where fits, forecasts, backtests and the resource optimizer run; default: on this event loop. */
  readonly models?: ModelHostPort;
  /** Where the resource optimizer's observations survive restarts; default: memory only. */
  readonly observations?: ObservationStore;
}

/** The share of the newest history a learned model and the baseline are compared on. */
const learnedValidationFraction = 0.3;

/**
 * Fewest origins a learned model is scored on before it may serve: with fewer, a comparison with the
 * baseline is noise (a model trained moments ago has almost no unseen data to be judged on).
 */
const minLearnedComparisonOrigins = 120;

/** Whether a series' learned model serves one horizon, decided by a backtest at refit time. */
interface LearnedChoice {
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
  readonly model: FittedForecaster;
  readonly fittedAtMs: number;
  readonly horizonSeconds: number;
  /** The first origin scored: in the newest 30 %, and after the learned model's training data. */
  readonly fromIndex: number;
}

/** Most resource-optimizer observations kept per resource: one per cycle, a day of 30 s cycles. */
const maxOptimizerObservations = 2880;

/** The inputs the engine forecasts, besides every queue's depth. */
const forecastedInputs: readonly InputRef[] = [
  { kind: 'system', metric: 'cpu_percent' },
  { kind: 'system', metric: 'memory_percent' },
  { kind: 'performance', metric: 'response_time_p95_seconds' },
];

/** The inputs whose history is kept and forecast for a configuration. */
export function forecastTargets(config: Config): InputRef[] {
  return [
    ...config.queues.map((q): InputRef => ({ kind: 'queue', queue: q.name, metric: 'depth' })),
    // Arrival rates: the load the resource optimizer sizes replicas for, and predicted_enqueue_rate_* in rules.
    ...config.queues.map((q): InputRef => ({ kind: 'queue', queue: q.name, metric: 'enqueue_rate_per_second' })),
    ...forecastedInputs,
  ];
}

/**
 * One reconcile cycle: read the inputs, update each forecast series' history, refit models when
 * due, forecast every horizon and publish an immutable snapshot.
 *
 * Cycles never overlap: `runCycle` called while one runs waits for it and then runs its own, so
 * "evaluate now" from the API always returns a fresh result. A cycle whose source is down fails
 * as a whole; the store keeps the previous snapshot (which then ages and is reported stale) and
 * the next cycle simply tries again.
 */
export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #models: ModelHostPort;
  #tail: Promise<unknown> = Promise.resolve();
  #cycle = 0;
  /** History per forecast series, on the configured grid, trimmed to the configured window. */
  #history = new Map<string, RegularSeries>();
  /** History of the LSTM's covariates that are not forecast themselves (learned-inputs.ts). */
  #covariates = new Map<string, RegularSeries>();
  /** Inputs whose whole window has been read once (with or without data). */
  #windowRead = new Set<string>();
  /** End of the grid read by the previous cycle. */
  #lastGridEndMs = 0;
  /** Bumped with every new configuration: the model host then drops its fits and refits. */
  #generation = 0;
  #accuracy: ModelAccuracy[] = [];
  /** Published forecasts waiting for their actuals, and the scores of those that matured. */
  #matured = new MaturedAccuracyTracker();
  /** Decision memory (cooldowns, stabilization windows, trends); kept across reloads on purpose. */
  #decisionState: DecisionState = initialDecisionState;
  /** Per-series anomaly state; kept across reloads unless the anomaly settings change. */
  #anomalies: AnomalyTracker | undefined;
  /** The configuration the buffers and fits were built for; a new one invalidates them. */
  #builtFor: Config | undefined;
  /** Series whose stored learned model has been loaded (or found missing). */
  #learnedLoaded = new Set<string>();
  #learnedChoices = new Map<string, LearnedChoice>();
  /** One observation per cycle per queue-consuming resource: what the resource optimizer learns from. */
  #observations = new Map<Resource, ResourceObservation[]>();

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#models = deps.models ?? inlineModelHost();
  }

  /** Runs a cycle after any running one finishes; resolves with its snapshot or rejects with its error. */
  runCycle(): Promise<Snapshot> {
    const run = this.#tail.then(() => this.#runOnce());
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #runOnce(): Promise<Snapshot> {
    const { clock, store, recorder } = this.#deps;
    const config = this.#deps.config();
    const startedAtMs = clock.nowMs();
    try {
      const snapshot = await this.#collectAndForecast(config, startedAtMs);
      store.publish(snapshot);
      recorder.cycleFinished('success', snapshot.durationSeconds);
      return snapshot;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      store.recordFailure(startedAtMs, message);
      recorder.cycleFinished('failure', (clock.nowMs() - startedAtMs) / 1000);
      throw error;
    }
  }

  async #collectAndForecast(config: Config, startedAtMs: number): Promise<Snapshot> {
    const { source, clock, recorder } = this.#deps;
    if (this.#builtFor !== config) this.#reset(config);
    const stepMs = config.forecast.step * 1000;
    const gridEndMs = Math.floor(startedAtMs / stepMs) * stepMs;

    const targets = forecastTargets(config);
    const learnedOn = config.ml.lstm.enabled && config.scaling.mlPredictionEnabled && this.#deps.learned !== undefined;
    // The LSTM's covariates are kept on the same grid, in their own buffers (not forecast, not scored for anomalies).
    const covariates = learnedOn ? covariateInputs(config) : [];
    const covariateKeys = new Set(covariates.map(inputKey));
    const buffered = [...targets, ...covariates];
    // Inputs read before need only their recent past; new ones (first cycle, a queue added by a
    // reload) get the whole window. Two reads at most, whatever the number of inputs.
    const known = buffered.filter((input) => this.#windowRead.has(inputKey(input)));
    const fresh = buffered.filter((input) => !this.#windowRead.has(inputKey(input)));
    const windowStartMs = gridEndMs - config.forecast.history * 1000;
    const recentStartMs = Math.max(windowStartMs, this.#lastGridEndMs - 5 * stepMs);
    const range = (startMs: number) => ({ startMs, endMs: gridEndMs, stepSeconds: config.forecast.step });
    const [latest, ...histories] = await Promise.all([
      source.readLatest(allInputs(config.queues.map((q) => q.name)), startedAtMs),
      ...(known.length > 0 ? [source.readHistory(known, range(recentStartMs))] : []),
      ...(fresh.length > 0 ? [source.readHistory(fresh, range(windowStartMs))] : []),
    ]);
    const history = { history: histories.flatMap((h) => h.history), problems: histories.flatMap((h) => h.problems) };
    for (const input of fresh) this.#windowRead.add(inputKey(input));
    this.#lastGridEndMs = gridEndMs;
    const problems = [...latest.problems, ...history.problems];
    for (const problem of problems) recorder.sourceProblem(problem.reason);

    for (const { input, series } of history.history) {
      const key = inputKey(input);
      if (covariateKeys.has(key)) {
        this.#merge(this.#covariates, key, series, config, gridEndMs);
        continue;
      }
      this.#merge(this.#history, key, series, config, gridEndMs);
      this.#matured.observe(key, finiteSamples(series));
    }

    const learned = learnedOn ? this.#deps.learned : undefined;
    const maturedPercent = learned === undefined ? new Map<string, number>() : this.#maturedPercentByKey(config, startedAtMs);
    const withData = targets.flatMap((input) => {
      const key = inputKey(input);
      const series = this.#history.get(key);
      return series === undefined || lastFinite(series) === undefined ? [] : [{ input, key, series }];
    });
    const settings = hostSettings(config);
    const replies = await this.#models.forecast({ generation: this.#generation, nowMs: startedAtMs, settings, series: withData.map(({ key, series }) => ({ key, series })) });
    for (const reply of replies) this.#recordFit(reply, config, startedAtMs);
    const choices = learned === undefined ? new Map<string, LearnedChoice>() : await this.#chooseLearned(learned, withData, replies, settings, startedAtMs);
    const learnedPoints = learned === undefined ? new Map<string, PointForecast>() : await this.#learnedPoints(learned, withData, choices);
    const forecasts: SeriesForecast[] = [];
    withData.forEach(({ input, key, series }, index) => {
      const reply = replies[index]!;
      const choice = choices.get(key);
      const learnedPoint = learnedPoints.get(key);
      for (const baseline of reply.forecasts) {
        const { horizonSeconds } = baseline;
        let model = baseline.model;
        let fallbackReason = baseline.fallbackReason;
        let point = { value: baseline.value, p10: baseline.p10, p90: baseline.p90 };
        // A learned model that cannot forecast this history (too short a tail, a gap) leaves the baseline serving.
        if (choice?.use === true && choice.horizonSeconds === horizonSeconds && learnedPoint !== undefined && [learnedPoint.value, learnedPoint.p10, learnedPoint.p90].every(Number.isFinite)) {
          model = choice.model.model;
          fallbackReason = undefined;
          point = learnedPoint;
        }
        if (![point.value, point.p10, point.p90].every(Number.isFinite)) continue;
        this.#matured.record({
          seriesKey: key,
          horizonSeconds,
          model,
          originMs: gridEndMs,
          targetMs: gridEndMs + horizonSeconds * 1000,
          value: Math.max(0, point.value),
          p10: Math.max(0, point.p10),
          p90: Math.max(0, point.p90),
          maseScale: reply.maseScale,
        });
        forecasts.push({
          seriesKey: key,
          input,
          horizonSeconds,
          originMs: gridEndMs,
          model,
          ...(fallbackReason === undefined ? {} : { fallbackReason }),
          // A queue or a utilisation never goes below zero, whatever a linear model says.
          value: Math.max(0, point.value),
          p10: Math.max(0, point.p10),
          p90: Math.max(0, point.p90),
        });
      }
    });
    // After this cycle's forecasts: training starts in the background and never delays them.
    if (learned !== undefined) {
      const items = withData.map(({ input, key, series }) => ({ seriesKey: key, inputs: this.#learnedInputs(input, series) }));
      learned.tick(items, this.#learnedSpec(config), startedAtMs, maturedPercent);
    }

    const inputs: InputValue[] = latest.readings.map((r) => ({ input: r.input, key: inputKey(r.input), timestampMs: r.timestampMs, value: r.value }));
    const anomalies = config.scaling.anomalyDetectionEnabled ? this.#scoreAnomalies(config, inputs) : [];
    recorder.anomaliesScored(anomalies);
    const optimizer = await this.#optimize(config, inputs, forecasts, startedAtMs);
    const policy = config.scaling.enabled ? this.#deps.policy?.() : undefined;
    const decided = policy === undefined ? undefined : this.#decide(config, policy, inputs, forecasts, anomalies, optimizer, startedAtMs);
    const completedAtMs = clock.nowMs();
    this.#cycle += 1;
    return {
      cycle: this.#cycle,
      startedAtMs,
      completedAtMs,
      durationSeconds: (completedAtMs - startedAtMs) / 1000,
      inputs,
      queues: buildQueues(config, inputs, forecasts, decided?.trends ?? []),
      forecasts,
      accuracy: this.#accuracy,
      maturedAccuracy: this.#matured.accuracy(completedAtMs).map((m) => ({
        seriesKey: m.seriesKey,
        horizonSeconds: m.horizonSeconds,
        accuracyPercent: m.accuracyPercent,
        wape: m.wape,
        mase: m.mase,
        coverage: m.coverage,
        points: m.points,
        pending: m.pending,
      })),
      anomalies,
      decisions: decided?.decisions ?? [],
      problems: problems.map(toCycleProblem),
      optimizer,
      ...(learned === undefined ? {} : { learnedModels: this.#learnedStatus(learned) }),
    };
  }

  /** A forecast series with the covariates the LSTM reads, from this cycle's buffers. */
  #learnedInputs(input: InputRef, series: RegularSeries): FeatureInputs {
    return featureInputsOf(input, series, (key) => this.#history.get(key) ?? this.#covariates.get(key));
  }

  /** The spec learned models are trained for: the first configured horizon. */
  #learnedSpec(config: Config): ForecastSpec {
    return {
      stepSeconds: config.forecast.step,
      seasonSteps: Math.round(config.forecast.season / config.forecast.step),
      horizonSteps: Math.round(config.forecast.horizons[0]! / config.forecast.step),
    };
  }

  /** Matured-forecast accuracy per series at the learned models' horizon (what triggers early retraining). */
  #maturedPercentByKey(config: Config, nowMs: number): Map<string, number> {
    const horizonSeconds = config.forecast.horizons[0]!;
    const out = new Map<string, number>();
    for (const m of this.#matured.accuracy(nowMs)) {
      if (m.horizonSeconds === horizonSeconds && m.points > 0 && Number.isFinite(m.accuracyPercent)) out.set(m.seriesKey, m.accuracyPercent);
    }
    return out;
  }

  /**
   * Loads each series' learned model once, and decides whether it serves: only if it beats the
   * serving baseline by MASE on the newest 30 % of the buffer, scored only on origins after the
   * data it was trained on (the baseline fitted on the points before them). Decided again after
   * each baseline refit and whenever training deploys a new model; the baselines' backtests run in
   * the model host, in one call for every series that needs one.
   */
  async #chooseLearned(
    learned: LearnedModels,
    items: readonly { readonly input: InputRef; readonly key: string; readonly series: RegularSeries }[],
    replies: readonly HostSeriesReply[],
    settings: HostForecastSettings,
    nowMs: number,
  ): Promise<Map<string, LearnedChoice>> {
    const out = new Map<string, LearnedChoice>();
    const settle = (key: string, choice: LearnedChoice) => {
      this.#learnedChoices.set(key, choice);
      out.set(key, choice);
    };
    const pending: (PendingComparison & { readonly serving: LearnedServing; readonly input: InputRef })[] = [];
    for (const [index, { input, key, series }] of items.entries()) {
      const reply = replies[index]!;
      if (!this.#learnedLoaded.has(key)) {
        this.#learnedLoaded.add(key);
        await learned.load(key);
      }
      const serving = learned.serving(key);
      if (serving === undefined) {
        this.#learnedChoices.delete(key);
        continue;
      }
      const { model } = serving;
      const cached = this.#learnedChoices.get(key);
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
      } else pending.push({ input, key, series, model, serving, fittedAtMs: reply.fittedAtMs, horizonSeconds, fromIndex });
    }
    if (pending.length === 0) return out;
    const baselineMases = await this.#models.validate({ settings, items: pending.map(({ key, series, horizonSeconds, fromIndex }) => ({ key, series, horizonSeconds, fromIndex })) });
    for (const [index, p] of pending.entries()) {
      let forecasts: EachOriginForecasts;
      try {
        forecasts = await p.serving.forecastsFrom(p.series, p.fromIndex, this.#learnedInputs(p.input, p.series).covariates);
      } catch (error) {
        settle(p.key, { model: p.model, fittedAtMs: p.fittedAtMs, use: false, learnedMase: Number.NaN, baselineMase: baselineMases[index]!, reason: `the learned model could not be scored: ${error instanceof Error ? error.message : String(error)}` });
        continue;
      }
      const choice = this.#compareLearned(p, forecasts, baselineMases[index]!, settings.model, nowMs);
      settle(p.key, choice);
      const scores = choice.scores;
      if (scores !== undefined) this.#accuracy = [...this.#accuracy.filter((a) => !(a.seriesKey === p.key && a.model === p.model.model)), scores];
    }
    return out;
  }

  /** The latest forecast of every learned model that serves, in one call (made every cycle, so unused models can be freed). */
  async #learnedPoints(
    learned: LearnedModels,
    items: readonly { readonly input: InputRef; readonly key: string; readonly series: RegularSeries }[],
    choices: ReadonlyMap<string, LearnedChoice>,
  ): Promise<Map<string, PointForecast>> {
    const serving = items.filter(({ key }) => choices.get(key)?.use === true);
    const points = await learned.latest(
      serving.map(({ input, key, series }) => {
        const { covariates } = this.#learnedInputs(input, series);
        return { seriesKey: key, series, ...(covariates === undefined ? {} : { covariates }) };
      }),
    );
    const out = new Map<string, PointForecast>();
    serving.forEach(({ key }, index) => {
      const point = points[index];
      if (point !== undefined) out.set(key, point);
    });
    return out;
  }

  /** Scores the learned model's forecasts from the first unseen origin on, against the baseline's MASE on the same origins. */
  #compareLearned(p: PendingComparison, forecasts: EachOriginForecasts, baselineMase: number, baselineModel: string, nowMs: number): LearnedChoice {
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
      ...(score.count > 0 ? { scores: { seriesKey: key, model: model.model, mase: score.mase, wape: score.wape, coverage: score.coverage80, horizonSeconds, points: score.count, evaluatedAtMs: nowMs } } : {}),
    };
  }

  /** The lifecycle's status, with whether each series' learned model serves and why not. */
  #learnedStatus(learned: LearnedModels): LearnedModelStatus[] {
    return learned.status().map((s) => {
      const choice = this.#learnedChoices.get(s.seriesKey);
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

  /**
   * Runs the decision stages on this cycle's readings, forecasts (with the serving model's backtest
   * accuracy as their confidence) and anomalies.
   */
  #decide(
    config: Config,
    policy: DecisionPolicy,
    inputs: readonly InputValue[],
    forecasts: readonly SeriesForecast[],
    anomalies: readonly AnomalyState[],
    optimizer: readonly OptimizerState[],
    nowMs: number,
  ): { decisions: ResourceDecision[]; trends: readonly QueueTrendReport[] } {
    const began = performance.now();
    const accuracy = new Map(this.#accuracy.map((a) => [`${a.seriesKey}|${a.model}`, a]));
    const readings = new Map(inputs.map((i) => [i.key, i.value]));
    // Only trusted recommendations reach the rules (as `learned_replicas`); an untrusted one is shown, not acted on.
    for (const o of optimizer) if (o.trusted) readings.set(optimizerReadingKey(o.resource), o.recommendedReplicas);
    const out = decide(
      {
        readings,
        forecasts: forecasts.map((f) => {
          const a = accuracy.get(`${f.seriesKey}|${f.model}`);
          return {
            seriesKey: f.seriesKey,
            horizonSeconds: f.horizonSeconds,
            value: f.value,
            p10: f.p10,
            p90: f.p90,
            ...(a !== undefined && Number.isFinite(a.wape) ? { confidence: Math.max(0, 1 - a.wape) } : {}),
          };
        }),
        anomalies,
        queues: config.queues.map((q) => ({ queue: q.name, resource: q.resource, threshold: q.threshold })),
      },
      this.#decisionState,
      policy,
      nowMs,
    );
    this.#decisionState = out.nextState;
    const decisions = out.decisions.map(
      (d): ResourceDecision => ({
        resource: d.resource,
        currentReplicas: d.currentReplicas,
        recommendedReplicas: d.recommendedReplicas,
        direction: d.direction,
        reasons: d.reasons,
        confidence: d.confidence,
        ...(d.rule === undefined ? {} : { rule: d.rule }),
        ...(d.emergency === undefined ? {} : { emergency: d.emergency }),
        baselineReplicas: d.baselineReplicas,
        changed: d.changed,
      }),
    );
    this.#deps.recorder.decided(decisions, (performance.now() - began) / 1000);
    return { decisions, trends: out.queueTrends };
  }

  /**
   * The resource optimizer's cycle: records one observation per queue-consuming resource from this
   * cycle's readings; the model host (re)trains its Random Forest once per refit-interval bucket
   * (every cycle until a first model could be learned) and recommends replicas for the predicted load: the sum
   * of the queues' arrival-rate forecasts at the first horizon (their p90 when decisions scale on the
   * upper quantile), or the load arriving now when a queue has no such forecast.
   */
  async #optimize(config: Config, inputs: readonly InputValue[], forecasts: readonly SeriesForecast[], nowMs: number): Promise<OptimizerState[]> {
    const values = new Map(inputs.map((i) => [i.key, i.value]));
    const read = (key: string): number | undefined => {
      const value = values.get(key);
      return value !== undefined && Number.isFinite(value) ? value : undefined;
    };
    const cpuPercent = read('system/cpu_percent');
    const horizonSeconds = config.forecast.horizons[0]!;
    const requests: HostOptimizeRequest['resources'][number][] = [];
    for (const resource of [...new Set(config.queues.map((q) => q.resource))]) {
      const queues = config.queues.filter((q) => q.resource === resource);
      // A sum over the resource's queues; undefined when any queue lacks the value (a partial sum understates).
      const sum = (metric: string): number | undefined => {
        let total = 0;
        for (const q of queues) {
          const value = read(`queue/${q.name}/${metric}`);
          if (value === undefined) return undefined;
          total += value;
        }
        return total;
      };
      // The worst queue's wait; unknown when any queue's is.
      const waits = queues.map((q) => read(`queue/${q.name}/wait_avg_seconds`)).filter((w): w is number => w !== undefined);
      const latencySeconds = waits.length === queues.length ? Math.max(...waits) : undefined;
      const replicas = read(`replicas/${resource}`);
      const load = sum('enqueue_rate_per_second');
      const throughput = sum('dequeue_rate_per_second');
      const history = await this.#observationsOf(resource);
      if (replicas !== undefined && load !== undefined && throughput !== undefined && (history.at(-1)?.timestampMs ?? Number.NEGATIVE_INFINITY) < nowMs) {
        const observation: ResourceObservation = {
          timestampMs: nowMs,
          replicas,
          load,
          throughput,
          // Unknown depth: NaN, which the trainer skips rather than reading as "nothing waiting".
          backlog: sum('depth') ?? Number.NaN,
          ...(latencySeconds === undefined ? {} : { latencySeconds }),
          ...(cpuPercent === undefined ? {} : { cpuPercent }),
        };
        history.push(observation);
        if (history.length > maxOptimizerObservations) history.splice(0, history.length - maxOptimizerObservations);
        await this.#deps.observations?.append(resource, [observation], maxOptimizerObservations);
      }
      let predictedLoad: number | undefined = 0;
      for (const q of queues) {
        const f = forecasts.find((x) => x.seriesKey === `queue/${q.name}/enqueue_rate_per_second` && x.horizonSeconds === horizonSeconds);
        if (f === undefined) {
          predictedLoad = undefined;
          break;
        }
        predictedLoad += config.decisions.useUpperQuantile ? f.p90 : f.value;
      }
      requests.push({
        resource,
        observations: history,
        maxBacklog: queues.reduce((total, q) => total + q.threshold, 0),
        ...(load === undefined
          ? {}
          : {
              recommend: {
                predictedLoad: predictedLoad ?? load,
                range: config.scaling.resources[resource],
                confidenceThreshold: config.scaling.predictionConfidenceThreshold,
                ...(cpuPercent === undefined ? {} : { cpuPercent }),
              },
            }),
      });
    }
    const replies = await this.#models.optimize({ generation: this.#generation, nowMs, refitIntervalSeconds: config.forecast.refitInterval, resources: requests });
    return replies.flatMap(({ resource, recommendation: r }) =>
      r === undefined
        ? []
        : [
            {
              resource,
              recommendedReplicas: r.recommendedReplicas,
              confidence: r.confidence,
              trusted: r.trusted,
              capacityPerReplica: r.capacityPerReplica,
              predictedLoad: r.predictedLoad,
              reasons: r.reasons,
            },
          ],
    );
  }

  /** A resource's observations: on first use, those stored by earlier runs (older than any of this run's). */
  async #observationsOf(resource: Resource): Promise<ResourceObservation[]> {
    let history = this.#observations.get(resource);
    if (history === undefined) {
      history = (await this.#deps.observations?.load(resource, maxOptimizerObservations)) ?? [];
      this.#observations.set(resource, history);
    }
    return history;
  }

  /**
   * Scores each monitored input. Series with a history buffer are scored on it (the tracker only
   * looks at points it has not seen); the others get one reading per cycle.
   */
  #scoreAnomalies(config: Config, inputs: readonly InputValue[]): AnomalyState[] {
    const tracker = this.#anomalies;
    if (tracker === undefined) return [];
    const verdicts: AnomalyState[] = [];
    for (const v of inputs) {
      const metric = monitoredMetricOf(v.input);
      if (metric === undefined) continue;
      const history = this.#history.get(v.key);
      const tracked = history !== undefined ? tracker.observeSeries(v.key, metric, history) : tracker.observePoint(v.key, metric, v.timestampMs, v.value);
      if (tracked === undefined) continue;
      const subject = { metric, ...(v.input.kind === 'queue' ? { queue: v.input.queue } : {}), seriesKey: v.key, detector: config.anomaly.detector, value: tracked.value };
      verdicts.push(toAnomalyVerdict(subject, tracked.point));
    }
    return verdicts;
  }

  #reset(config: Config): void {
    const previous = this.#builtFor;
    this.#builtFor = config;
    if (previous === undefined || JSON.stringify(previous.anomaly) !== JSON.stringify(config.anomaly)) {
      this.#anomalies = new AnomalyTracker({ detector: config.anomaly.detector, thresholdSigmas: config.anomaly.thresholds, baselineSeconds: config.anomaly.baselineWindow });
    } else {
      this.#anomalies?.retain(new Set(allInputs(config.queues.map((q) => q.name)).map(inputKey)));
    }
    const gridChanged =
      previous === undefined || previous.forecast.step !== config.forecast.step || previous.forecast.history !== config.forecast.history;
    if (gridChanged) {
      this.#history.clear();
      this.#covariates.clear();
      this.#windowRead.clear();
    }
    // Model settings and thresholds may have changed with the configuration: the model host refits
    // every series and retrains the optimizer on the next cycle (the observations stay valid).
    this.#generation += 1;
    this.#learnedChoices.clear();
  }

  /** Merges newly read points into the buffer for `key`, re-gridded to the window ending at `gridEndMs`. */
  #merge(buffers: Map<string, RegularSeries>, key: string, fresh: RegularSeries, config: Config, gridEndMs: number): void {
    const stepMs = config.forecast.step * 1000;
    const length = Math.round((config.forecast.history * 1000) / stepMs) + 1;
    const startMs = gridEndMs - (length - 1) * stepMs;
    const values = new Float64Array(length).fill(Number.NaN);
    const old = buffers.get(key);
    for (const part of old === undefined ? [fresh] : [old, fresh]) {
      const offset = Math.round((part.startMs - startMs) / stepMs);
      for (let i = 0; i < part.values.length; i++) {
        const value = part.values[i]!;
        const target = i + offset;
        if (target >= 0 && target < length && !Number.isNaN(value)) values[target] = value;
      }
    }
    buffers.set(key, { startMs, stepSeconds: config.forecast.step, values });
  }

  /** Records a refit's durations and backtest scores (shown by /scaling/ml/accuracy); nothing on other cycles. */
  #recordFit(reply: HostSeriesReply, config: Config, nowMs: number): void {
    for (const fit of reply.fits ?? []) this.#deps.recorder.modelFitted(reply.key, fit.model, fit.seconds);
    if (reply.scores === undefined) return;
    const horizonSeconds = config.forecast.horizons[0]!;
    const scores = reply.scores.map((s): ModelAccuracy => ({ seriesKey: reply.key, horizonSeconds, evaluatedAtMs: nowMs, ...s }));
    this.#accuracy = [...this.#accuracy.filter((a) => a.seriesKey !== reply.key), ...scores];
  }
}

/** The forecast section as the model host takes it. */
function hostSettings(config: Config): HostForecastSettings {
  return {
    model: config.forecast.model,
    stepSeconds: config.forecast.step,
    seasonSeconds: config.forecast.season,
    horizonsSeconds: config.forecast.horizons,
    refitIntervalSeconds: config.forecast.refitInterval,
  };
}

function finiteSamples(series: RegularSeries): { timestampMs: number; value: number }[] {
  const out: { timestampMs: number; value: number }[] = [];
  for (let i = 0; i < series.values.length; i++) {
    const value = series.values[i]!;
    if (Number.isFinite(value)) out.push({ timestampMs: series.startMs + i * series.stepSeconds * 1000, value });
  }
  return out;
}

/** The decision-input reading a trusted optimizer recommendation is passed as (decide's `learned_replicas`). */
export function optimizerReadingKey(resource: Resource): string {
  return `optimizer/${resource}`;
}

function toCycleProblem(problem: SourceProblem): CycleProblem {
  return { inputKey: inputKey(problem.input), reason: problem.reason, message: problem.message };
}

function buildQueues(config: Config, inputs: readonly InputValue[], forecasts: readonly SeriesForecast[], trends: readonly QueueTrendReport[]): QueueState[] {
  return config.queues.map((queue) => {
    const t = trends.find((r) => r.queue === queue.name);
    const current: Record<string, number> = {};
    for (const value of inputs) {
      if (value.input.kind === 'queue' && value.input.queue === queue.name) current[value.input.metric] = value.value;
    }
    return {
      queue: queue.name,
      threshold: queue.threshold,
      resource: queue.resource,
      current,
      depthForecasts: forecasts.filter((f) => f.input.kind === 'queue' && f.input.queue === queue.name && f.input.metric === 'depth'),
      ...(t === undefined || t.measurements === 0
        ? {}
        : { trend: { trend: t.trend, slopePerSecond: t.slopePerSecond, r2: t.r2, volatility: t.volatility, confidence: t.confidence, measurements: t.measurements } }),
    };
  });
}
