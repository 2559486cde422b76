import type { Config } from '../config/index.js';
import { type Clock, guardReading, guardSeries, type InputRef, inputKey, lastFinite, messageOf, Pacer, type RegularSeries, workloadOfInput } from '../core/index.js';
import { QueueDiscovery } from './queue-discovery.js';
import { AnomalyTracker, monitoredMetricOf, toAnomalyVerdict } from '../anomaly/index.js';
import { decide, type DecisionPolicy, type DecisionState, initialDecisionState, type QueueTrendReport } from '../decide/index.js';
import { type FeatureInputs, MaturedAccuracyTracker, type PointForecast } from '../forecast/index.js';
import type { MetricSource, PublishedSeriesReader } from '../source/index.js';
import { finiteSamples, forecastTargets, HistoryWindow, sendRead } from './history-window.js';
import { type LearnedChoice, LearnedModelChoice, learnedSpec, maturedPercentByKey } from './learned-choice.js';
import { covariateInputs, featureInputsOf } from './learned-inputs.js';
import type { LearnedModels } from './learned-models.js';
import type { ObservationStore } from './observation-store.js';
import { type HostForecastSettings, type HostSeriesReply, hostSettingsOf, inlineModelHost, type ModelHostPort } from './model-host.js';
import { OptimizerCycle, optimizerReadingKey } from './optimizer-cycle.js';
import { failIfNothingRead } from './read-outcome.js';
import type { Recorder } from './recorder.js';
import { isSharded, shardConfig } from './shard.js';
import { ShardReadBack } from './shard-read-back.js';
import { servedForecasts } from './served-forecast.js';
import { buildSnapshot, toResourceDecision } from './snapshot-builder.js';
import type { AnomalyState, InputValue, ModelAccuracy, OptimizerState, ResourceDecision, SeriesForecast, ShardState, Snapshot, SnapshotStore } from './snapshot.js';
import { WorkloadDecisions, type WorkloadPolicies } from './workload-decisions.js';
import { cycleInputs, listedQueues, type QueueSpec, usesWorkloads } from './workload-queues.js';

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
  /** The decision policy of each configured workload (its rule set); none → workloads are not decided. */
  readonly workloadPolicies?: () => WorkloadPolicies | undefined;
  /** Where a sharded replica reads the other shards' published values back (sharding.replicas > 1). */
  readonly readBack?: PublishedSeriesReader;
}

/**
 * History points the anomaly trackers are fed per cycle, in all: about 1.5 s of CPU, as many points
 * as the older slices of the history read. A steady cycle feeds one per series; a start with 2,200
 * week-long histories (1,000 queues) would feed 22 M before its first snapshot. Beyond the budget,
 * the series without a verdict yet catch up over the next cycles (AnomalyTracker.observeSeries).
 */
const anomalyPointsPerCycle = 500_000;

/**
 * One reconcile cycle: read the inputs, update each forecast series' history, refit models when
 * due, forecast every horizon and publish an immutable snapshot.
 *
 * Cycles never overlap: `runCycle` called while one runs waits for it and then runs its own (or
 * joins the one already waiting), so "evaluate now" from the API always returns a fresh result.
 * A cycle whose source is down, or in which every read failed (read-outcome.ts), fails as a
 * whole; the store keeps the previous snapshot (which then ages and is reported stale) and the
 * next cycle simply tries again.
 */
export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #models: ModelHostPort;
  #tail: Promise<unknown> = Promise.resolve();
  /** The cycle queued behind the running one, not started yet; new callers join it. */
  #waiting: Promise<Snapshot> | undefined;
  #cycle = 0;
  readonly #history = new HistoryWindow();
  /** The origin of this reconciler's first forecasts: no forecast targets a time before it. */
  #firstOriginMs: number | undefined;
  /** Bumped with every new configuration: the model host then drops its fits and refits. */
  #generation = 0;
  #accuracy: ModelAccuracy[] = [];
  /** Published forecasts waiting for their actuals, and the scores of those that matured (over `ml.accuracyWindow`, set by #reset). */
  #matured = new MaturedAccuracyTracker();
  /** Decision memory (cooldowns, stabilization windows, trends); kept across reloads on purpose. */
  #decisionState: DecisionState = initialDecisionState;
  /** Per-series anomaly state; kept across reloads unless the anomaly settings change. */
  #anomalies: AnomalyTracker | undefined;
  /** The configuration the buffers and fits were built for; a new one invalidates them. */
  #builtFor: Config | undefined;
  readonly #learnedChoice: LearnedModelChoice;
  readonly #optimizer: OptimizerCycle;
  readonly #workloadDecisions = new WorkloadDecisions();
  readonly #discovery = new QueueDiscovery();
  readonly #readBack: ShardReadBack | undefined;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#readBack = deps.readBack === undefined ? undefined : new ShardReadBack(deps.readBack, (reason, count) => deps.recorder.readBackRejected?.(reason, count));
    this.#models = deps.models ?? inlineModelHost();
    this.#learnedChoice = new LearnedModelChoice(this.#models);
    this.#optimizer = new OptimizerCycle(this.#models, deps.observations);
  }

  /**
   * Runs a cycle after any running one finishes; resolves with its snapshot or rejects with its
   * error. Callers that ask while a cycle is already waiting to start join that one: it starts
   * after their request, so its result is as fresh as one of their own, and a flood of requests
   * costs at most one running and one waiting cycle.
   */
  runCycle(): Promise<Snapshot> {
    if (this.#waiting !== undefined) return this.#waiting;
    const run = this.#tail.then(() => {
      this.#waiting = undefined;
      return this.#runOnce();
    });
    this.#waiting = run;
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** True when a cycle is waiting to start: `runCycle()` now would join it rather than queue one. */
  get cycleWaiting(): boolean {
    return this.#waiting !== undefined;
  }

  async #runOnce(): Promise<Snapshot> {
    const { clock, store, recorder } = this.#deps;
    const whole = this.#deps.config();
    // A sharded replica runs its cycles on its own workloads only (shard.ts).
    const config = shardConfig(whole);
    const startedAtMs = clock.nowMs();
    try {
      // The other shards are read back beside this cycle's own reads, not after them.
      const shard = isSharded(whole) ? this.#readOtherShards(whole, config.workloads.length, startedAtMs) : undefined;
      shard?.catch(() => undefined);
      const snapshot = await this.#collectAndForecast(config, startedAtMs, shard);
      store.publish(snapshot);
      recorder.cycleFinished('success', snapshot.durationSeconds);
      return snapshot;
    } catch (error) {
      const message = messageOf(error);
      store.recordFailure(startedAtMs, message);
      recorder.cycleFinished('failure', (clock.nowMs() - startedAtMs) / 1000);
      throw error;
    }
  }

  /** The other shards' values (shard-read-back.ts); a replica built without a reader says so in its state. */
  async #readOtherShards(whole: Config, ownWorkloads: number, nowMs: number): Promise<ShardState> {
    if (this.#readBack === undefined) {
      return {
        index: whole.sharding.index ?? 0,
        replicas: whole.sharding.replicas,
        ownWorkloads,
        readBack: { attemptedAtMs: nowMs, error: 'this replica has no read-back store', series: 0 },
        queues: [],
        decisions: [],
        anomalies: [],
      };
    }
    const state = await this.#readBack.run(whole, ownWorkloads, nowMs);
    this.#deps.recorder.readBack?.(state.readBack.error === undefined ? 'success' : 'failure');
    return state;
  }

  async #collectAndForecast(config: Config, startedAtMs: number, shardRead: Promise<ShardState> | undefined): Promise<Snapshot> {
    const { source, clock, recorder } = this.#deps;
    if (this.#builtFor !== config) this.#reset(config);
    const stepMs = config.forecast.step * 1000;
    const gridEndMs = Math.floor(startedAtMs / stepMs) * stepMs;

    const discovered = await this.#discovery.run(config, source, startedAtMs);
    const queues = [...listedQueues(config), ...discovered.queues];
    const targets = forecastTargets(config, queues);
    const learned = config.ml.lstm.enabled && config.scaling.mlPredictionEnabled ? this.#deps.learned : undefined;
    // With the LSTM on, the history window also keeps each queue's service rate, wait and failures:
    // the LSTM's covariates (learned-inputs.ts), which are not forecast themselves.
    const kept = learned === undefined ? targets : [...targets, ...covariateInputs(queues)];
    const targetKeys = new Set(targets.map(inputKey));
    this.#forgetExpired(config, queues, kept);
    const reads = this.#history.reads(kept, config, gridEndMs);
    const [latest, ...histories] = await Promise.all([source.readLatest(cycleInputs(config, queues), startedAtMs), ...reads.map((read) => sendRead(source, read))]);
    // An older slice only fills in the window: what it lacks (no data that far back, a failed query,
    // asked again next cycle) says nothing about the input now, so it is not the input's problem.
    const current = histories.filter((_, index) => reads[index]!.kind !== 'older');
    const problems = [...latest.problems, ...current.flatMap((h) => h.problems)];
    for (const problem of problems) recorder.sourceProblem(problem.reason);
    failIfNothingRead(latest, current);
    // An input whose first read or older slice could not be queried is asked the same again next cycle.
    const outcomes = reads.map((read, index) => ({ read, readings: histories[index]! }));
    this.#history.readsDone(outcomes, gridEndMs);
    const history = this.#history.state(outcomes, kept, config, gridEndMs);

    // Samples outside the input's domain or implausibly far from its history never reach it.
    // Forecasts mature only on samples from the first origin on: older ones cannot be anyone's actual.
    this.#firstOriginMs ??= gridEndMs;
    // The loops over every series let the event loop serve between slices (external metrics are read meanwhile).
    const pacer = new Pacer();
    const parts = new Map<string, RegularSeries[]>();
    for (const [index, readings] of histories.entries()) {
      for (const { input, series: read } of readings.history) {
        if (pacer.due()) await pacer.pause();
        const key = inputKey(input);
        const { series, rejected } = guardSeries(input, read, this.#history.get(key)?.values, this.#history.rangeOf(key, read.values));
        for (const [reason, count] of rejected) recorder.sourceRejected?.(key, reason, count);
        parts.set(key, [...(parts.get(key) ?? []), series]);
        // Only forecast series have forecasts to mature.
        if (targetKeys.has(key) && reads[index]!.kind !== 'older') this.#matured.observe(key, finiteSamples(series, this.#firstOriginMs));
      }
    }
    for (const [key, series] of parts) {
      if (pacer.due()) await pacer.pause();
      this.#history.merge(key, series, config, gridEndMs);
    }

    const maturedPercent = learned === undefined ? new Map<string, number>() : maturedPercentByKey(this.#matured, config, startedAtMs);
    const withData = targets.flatMap((input) => {
      const key = inputKey(input);
      const series = this.#history.get(key);
      return series === undefined || lastFinite(series) === undefined ? [] : [{ input, key, series }];
    });
    const settings = hostSettingsOf(config);
    const replies = await this.#models.forecast({
      generation: this.#generation,
      nowMs: startedAtMs,
      settings,
      series: withData.map(({ key, series }) => {
        const changes = this.#history.changesOf(key);
        return changes === undefined ? { key, series } : { key, series, changes };
      }),
      waitForRefits: !config.forecast.backgroundRefits,
    });
    this.#recordFits(replies, config, startedAtMs);
    // The LSTM reads each series with the covariates the history window keeps, in training, in the
    // comparison with the baseline and in every served forecast alike.
    const learnedItems = learned === undefined ? [] : withData.map(({ input, key, series }) => ({ key, series, covariates: featureInputsOf(input, series, (k) => this.#history.get(k)).covariates }));
    const choices = learned === undefined ? new Map<string, LearnedChoice>() : await this.#chooseLearned(learned, learnedItems, replies, settings, startedAtMs);
    const learnedPoints = learned === undefined ? new Map<string, PointForecast>() : await this.#learnedChoice.points(learned, learnedItems, choices);
    const forecasts: SeriesForecast[] = [];
    const seasonSteps = Math.round(config.forecast.season / config.forecast.step);
    for (const [index, { input, key, series }] of withData.entries()) {
      if (pacer.due()) await pacer.pause();
      const reply = replies[index]!;
      const choice = choices.get(key);
      const learnedPoint = learnedPoints.get(key);
      const range = this.#history.rangeOf(key);
      const served = servedForecasts(
        { input, key, series, range, reply, ...(choice === undefined ? {} : { choice }), ...(learnedPoint === undefined ? {} : { learnedPoint }) },
        config.forecast.step,
        seasonSteps,
        gridEndMs,
      );
      for (const reason of served.rejected) recorder.forecastRejected?.(key, reason);
      for (const f of served.forecasts) {
        const { value, p10, p90, horizonSeconds, model } = f;
        this.#matured.record({ seriesKey: key, horizonSeconds, model, originMs: gridEndMs, targetMs: gridEndMs + horizonSeconds * 1000, value, p10, p90, maseScale: reply.maseScale });
        forecasts.push(f);
      }
    }
    // After this cycle's forecasts: one call with every series and its covariates; training starts
    // in the background and never delays them.
    if (learned !== undefined) {
      const items = learnedItems.map(({ key, series, covariates }) => ({ seriesKey: key, inputs: { target: series, ...(covariates === undefined ? {} : { covariates }) } }));
      learned.tick(items, learnedSpec(config), startedAtMs, maturedPercent);
    }

    const inputs: InputValue[] = latest.readings.flatMap((r) => {
      const key = inputKey(r.input);
      const guarded = guardReading(r.input, r.value, this.#history.rangeOf(key));
      if ('reason' in guarded) {
        recorder.sourceRejected?.(key, guarded.reason, 1);
        return [];
      }
      return [{ input: r.input, key, timestampMs: r.timestampMs, value: guarded.value }];
    });
    const anomalies = config.scaling.anomalyDetectionEnabled ? await this.#scoreAnomalies(config, inputs, pacer) : [];
    recorder.anomaliesScored(anomalies);
    // The Random Forest optimizer learns per seed resource; workloads are decided by their rule sets alone.
    const optimizer = usesWorkloads(config) ? [] : await this.#optimizer.run(config, this.#generation, inputs, forecasts, startedAtMs);
    const decided = !config.scaling.enabled
      ? undefined
      : usesWorkloads(config)
        ? this.#decideWorkloads(config, queues, inputs, forecasts, anomalies, startedAtMs)
        : this.#decideSeed(config, inputs, forecasts, anomalies, optimizer, startedAtMs);
    const shard = await shardRead;
    const completedAtMs = clock.nowMs();
    this.#cycle += 1;
    return buildSnapshot(config, {
      queues,
      discovery: discovered.states,
      cycle: this.#cycle,
      startedAtMs,
      completedAtMs,
      inputs,
      forecasts,
      accuracy: this.#accuracy,
      matured: this.#matured.accuracy(completedAtMs),
      anomalies,
      decided,
      problems,
      optimizer,
      learnedModels: learned === undefined ? undefined : this.#learnedChoice.status(learned),
      shard,
      history,
    });
  }

  /** Decides which learned models serve (see LearnedModelChoice), and shows their validation scores beside the baselines'. */
  async #chooseLearned(
    learned: LearnedModels,
    items: readonly { readonly key: string; readonly series: RegularSeries; readonly covariates?: FeatureInputs['covariates'] }[],
    replies: readonly HostSeriesReply[],
    settings: HostForecastSettings,
    nowMs: number,
  ): Promise<Map<string, LearnedChoice>> {
    const { choices, scores } = await this.#learnedChoice.choose(learned, items, replies, settings, nowMs);
    for (const score of scores) this.#accuracy = [...this.#accuracy.filter((a) => !(a.seriesKey === score.seriesKey && a.model === score.model)), score];
    return choices;
  }

  /**
   * Drops what the engine holds for series no longer read (a discovered queue that expired, a queue
   * removed by a reload): their backtest scores; with workloads also their history, matured forecasts
   * and anomaly state, so that memory follows the set of queues.
   */
  #forgetExpired(config: Config, queues: readonly QueueSpec[], targets: readonly InputRef[]): void {
    const kept = new Set(targets.map(inputKey));
    // /scaling/ml/accuracy and the decisions' confidence must not keep the scores of a series gone for good.
    this.#accuracy = this.#accuracy.filter((a) => kept.has(a.seriesKey));
    if (!usesWorkloads(config)) return;
    const dropped = this.#history.retain(kept);
    for (const key of dropped) this.#matured.forget(key);
    if (dropped.length > 0) this.#deps.recorder.seriesForgotten?.(dropped);
    this.#anomalies?.retain(new Set(cycleInputs(config, queues).map(inputKey)));
  }

  #decideSeed(
    config: Config,
    inputs: readonly InputValue[],
    forecasts: readonly SeriesForecast[],
    anomalies: readonly AnomalyState[],
    optimizer: readonly OptimizerState[],
    nowMs: number,
  ): { decisions: ResourceDecision[]; trends: readonly QueueTrendReport[] } | undefined {
    const policy = this.#deps.policy?.();
    return policy === undefined ? undefined : this.#decide(config, policy, inputs, forecasts, anomalies, optimizer, nowMs);
  }

  /** Decides each workload with its rule set (WorkloadDecisions). */
  #decideWorkloads(
    config: Config,
    queues: readonly QueueSpec[],
    inputs: readonly InputValue[],
    forecasts: readonly SeriesForecast[],
    anomalies: readonly AnomalyState[],
    nowMs: number,
  ): { decisions: ResourceDecision[]; trends: readonly QueueTrendReport[] } | undefined {
    const policies = this.#deps.workloadPolicies?.();
    if (policies === undefined) return undefined;
    const began = performance.now();
    const calibrated = forecasts.map((f) => ({ ...f, p90: calibratedUpper(this.#matured, config.decisions.forecastQuantile, f, nowMs) }));
    const out = this.#workloadDecisions.decide(config, policies, queues, inputs, calibrated, anomalies, nowMs);
    this.#deps.recorder.decided(out.decisions, (performance.now() - began) / 1000);
    return out;
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
            p90: calibratedUpper(this.#matured, config.decisions.forecastQuantile, f, nowMs),
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
    const decisions = out.decisions.map(toResourceDecision);
    this.#deps.recorder.decided(decisions, (performance.now() - began) / 1000);
    return { decisions, trends: out.queueTrends };
  }

  /**
   * Scores each monitored input. Series with a history buffer are scored on it (the tracker only
   * looks at points it has not seen), at most {@link anomalyPointsPerCycle} points per cycle in
   * all; the others get one reading per cycle.
   */
  async #scoreAnomalies(config: Config, inputs: readonly InputValue[], pacer: Pacer): Promise<AnomalyState[]> {
    const tracker = this.#anomalies;
    if (tracker === undefined) return [];
    const verdicts: AnomalyState[] = [];
    const budget = { points: anomalyPointsPerCycle };
    for (const v of inputs) {
      if (pacer.due()) await pacer.pause();
      const metric = monitoredMetricOf(v.input);
      if (metric === undefined) continue;
      const history = this.#history.get(v.key);
      const tracked = history !== undefined ? tracker.observeSeries(v.key, metric, history, budget) : tracker.observePoint(v.key, metric, v.timestampMs, v.value);
      if (tracked === undefined) continue;
      const subject = { metric, ...(v.input.kind === 'queue' ? { queue: v.input.queue } : {}), ...workloadOfInput(v.input), seriesKey: v.key, detector: config.anomaly.detector, value: tracked.value };
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
      this.#anomalies?.retain(new Set(cycleInputs(config, listedQueues(config)).map(inputKey)));
    }
    // The tracker's window is fixed when it is made: a new window starts the matured scores afresh.
    if (previous === undefined || previous.ml.accuracyWindow !== config.ml.accuracyWindow) this.#matured = new MaturedAccuracyTracker({ windowSeconds: config.ml.accuracyWindow });
    const gridChanged = previous === undefined || previous.forecast.step !== config.forecast.step || previous.forecast.history !== config.forecast.history;
    if (gridChanged) this.#history.clear();
    // Model settings and thresholds may have changed with the configuration: the model host refits
    // every series and retrains the optimizer on the next cycle (the observations stay valid).
    this.#generation += 1;
    this.#learnedChoice.clear();
  }

  /** Records the refits' durations and backtest scores (shown by /scaling/ml/accuracy); nothing on other cycles. */
  #recordFits(replies: readonly HostSeriesReply[], config: Config, nowMs: number): void {
    const horizonSeconds = config.forecast.horizons[0]!;
    const scored = new Map<string, ModelAccuracy[]>();
    for (const reply of replies) {
      for (const fit of reply.fits ?? []) this.#deps.recorder.modelFitted(reply.key, fit.model, fit.seconds);
      if (reply.scores !== undefined)
        scored.set(
          reply.key,
          reply.scores.map((s): ModelAccuracy => ({ seriesKey: reply.key, horizonSeconds, evaluatedAtMs: nowMs, ...s })),
        );
    }
    // One pass over the scores held, whatever the number of refits (a start refits every series).
    if (scored.size > 0) this.#accuracy = [...this.#accuracy.filter((a) => !scored.has(a.seriesKey)), ...[...scored.values()].flat()];
  }
}

/**
 * The forecast's upper value the decision sees: the `decisions.forecastQuantile` calibrated
 * quantile (median + c · band, c from the series' matured errors at this horizon) once enough have
 * matured; the model's p90 before that, or when it is "model".
 */
function calibratedUpper(matured: MaturedAccuracyTracker, quantile: number | 'model', f: SeriesForecast, nowMs: number): number {
  if (quantile === 'model') return f.p90;
  const c = matured.upperMultiplier(f.seriesKey, f.horizonSeconds, quantile, nowMs);
  return c === undefined ? f.p90 : Math.max(0, f.value + c * (f.p90 - f.p10));
}
