import { lstmFormat, restoreLstm, retrainDecision } from '../forecast/index.js';
import type { FeatureInputs, ForecastSpec, LstmMeta, LstmOptions, LstmProgress, LstmRestoreFailure, RetrainDecision, ShadowResult, TfBackendPreference, TrainedLstm } from '../forecast/index.js';
import { lstmMetaOf } from './meta-schema.js';
import type { ModelStore, StoreFailure } from './model-store.js';
import type { TrainingFailure, TrainingJob, TrainingOutcome } from './training-job.js';
import { runTrainingInWorker } from './worker-runner.js';
import type { WorkerRunOptions } from './worker-runner.js';
import { messageOf } from '../core/index.js';

/** What happened to one series' learned model; the caller logs these and turns them into metrics. */
export interface LifecycleEvents {
  /** A stored model could not be used; it was moved aside and will be retrained. Never fatal. */
  readonly modelUnusable?: (seriesKey: string, failure: StoreFailure | { readonly reason: 'incompatible' | 'corrupt'; readonly message: string }) => void;
  /** A stored model was restored at start-up and serves now; `trainedAtMs` is when it was created (unix ms). */
  readonly modelLoaded?: (seriesKey: string, meta: LstmMeta, trainedAtMs: number) => void;
  /** A training actually begins (a queued one: when its turn comes, not when it was decided). */
  readonly trainingStarted?: (seriesKey: string, reason: RetrainDecision['reason']) => void;
  readonly trainingProgress?: (seriesKey: string, progress: LstmProgress) => void;
  /** A training run ended: deployed or not (and the shadow comparison), or failed with a reason. */
  readonly trainingFinished?: (seriesKey: string, result: TrainingReport) => void;
}

/** The end of one training run. */
export interface TrainingReport {
  readonly deployed: boolean;
  readonly durationSeconds: number;
  readonly shadow?: ShadowResult;
  /** Why no model came out of it: a reason to count by (a metric label) and a message for people. */
  readonly failure?: TrainingRunFailure;
  /** When the deployed model was created (unix ms). */
  readonly createdAtMs?: number;
}

/**
 * Why a training run produced no model: the data did not allow one (a fit failure), the worker
 * failed or was aborted, or the model it produced does not load.
 */
export interface TrainingRunFailure {
  readonly reason: TrainingFailure['failure']['reason'] | LstmRestoreFailure['reason'];
  readonly message: string;
}

/** The text of a failure, as in logs and the status API: `reason: message`. */
export function describeTrainingFailure(failure: TrainingRunFailure): string {
  return `${failure.reason}: ${failure.message}`;
}

/** The state of one series' learned model, for /scaling/ml/accuracy. */
export interface SeriesModelStatus {
  readonly seriesKey: string;
  /** The model serving, if any. */
  readonly meta?: LstmMeta;
  readonly trainedAtMs?: number;
  readonly training: boolean;
  /** Due for training but waiting for a free slot (`maxConcurrentTrainings`). */
  readonly queued: boolean;
  readonly lastReport?: TrainingReport;
  /** Why there is no model (load failure or training failure), if there is none. */
  readonly unavailableReason?: string;
}

/** Options of {@link ModelLifecycle}. */
export interface ModelLifecycleOptions {
  readonly store: ModelStore;
  /** LSTM shape and training settings (the `ml` config section). */
  readonly lstm: () => Partial<LstmOptions>;
  /** scaling.modelRetrainInterval, seconds. */
  readonly retrainIntervalSeconds: () => number;
  /** Retrain when matured accuracy falls under this percentage. */
  readonly accuracyThresholdPercent: () => number;
  readonly backend?: TfBackendPreference;
  readonly events?: LifecycleEvents;
  /**
   * Most trainings running at once (`ml.maxConcurrentTrainings`; default 1): each is a child
   * process using a core, so 20 series must not mean 20 processes on a 2-core machine. Series due
   * beyond it wait in a first-in, first-out queue. Read whenever a slot could be filled.
   */
  readonly maxConcurrentTrainings?: () => number;
  /** Runs a training job (default: in a low-priority child process). Tests inject a fake. */
  readonly train?: (job: TrainingJob, options: WorkerRunOptions) => Promise<TrainingOutcome>;
}

/** A training that is due but waits for a slot: the newest data it will train on. */
interface QueuedTraining {
  inputs: FeatureInputs;
  spec: ForecastSpec;
  nowMs: number;
  /** Why it was decided (reported when it starts). */
  readonly reason: RetrainDecision['reason'];
}

interface SeriesState {
  model?: TrainedLstm;
  trainedAtMs?: number;
  training?: Promise<void>;
  /** Set while the series waits in the queue; it then also has exactly one entry in `#queue`. */
  queued?: QueuedTraining;
  lastAccuracyRetrainAtMs?: number;
  lastReport?: TrainingReport;
  unavailableReason?: string;
  loaded: boolean;
}

/**
 * Holds, loads, retrains and swaps the LSTM of every series. The engine calls `tick` once per
 * cycle per series with that series' history; training runs in a low-priority child process and never blocks
 * the cycle; a new model replaces the serving one only if it beats it on held-out data (shadow
 * evaluation), and is saved to the store before it serves. Until a series has a model, `serving`
 * returns undefined and the engine keeps forecasting with the baselines (with that reason).
 * At most `maxConcurrentTrainings` run at once; a series due beyond that waits in a FIFO queue
 * (one entry per series, refreshed with the newest data on every tick) and counts as training in
 * progress meanwhile, so its retrain is decided once, not every cycle.
 */
export class ModelLifecycle {
  readonly #options: ModelLifecycleOptions;
  readonly #series = new Map<string, SeriesState>();
  readonly #abort = new AbortController();
  /** Series keys waiting for a slot, oldest first. */
  #queue: string[] = [];
  #running = 0;

  constructor(options: ModelLifecycleOptions) {
    this.#options = options;
  }

  /** The model serving a series, if there is one. */
  serving(seriesKey: string): TrainedLstm | undefined {
    return this.#series.get(seriesKey)?.model;
  }

  /** The state of every series seen. */
  status(): SeriesModelStatus[] {
    return [...this.#series.entries()].map(([seriesKey, s]) => ({
      seriesKey,
      ...(s.model !== undefined ? { meta: s.model.meta } : {}),
      ...(s.trainedAtMs !== undefined ? { trainedAtMs: s.trainedAtMs } : {}),
      training: s.training !== undefined,
      queued: s.queued !== undefined,
      ...(s.lastReport !== undefined ? { lastReport: s.lastReport } : {}),
      ...(s.unavailableReason !== undefined ? { unavailableReason: s.unavailableReason } : {}),
    }));
  }

  /**
   * Loads a series' stored model, once. A missing model is normal (it gets trained); a corrupt or
   * incompatible one is reported through `modelUnusable`, moved aside, and retrained. Never throws.
   */
  async load(seriesKey: string): Promise<void> {
    const state = this.#state(seriesKey);
    if (state.loaded) return;
    state.loaded = true;
    const stored = await this.#options.store.load(seriesKey);
    if (!stored.ok) {
      if (stored.error.reason !== 'missing') {
        this.#options.events?.modelUnusable?.(seriesKey, stored.error);
        await this.#options.store.quarantine(seriesKey, stored.error).catch(() => undefined);
      }
      state.unavailableReason = stored.error.message;
      return;
    }
    const restored = await restoreLstm(stored.value.artifacts, lstmMetaOf(stored.value.meta), this.#options.backend);
    if (!restored.ok) {
      const failure: StoreFailure = { ...restored.error, path: stored.value.dir };
      this.#options.events?.modelUnusable?.(seriesKey, failure);
      await this.#options.store.quarantine(seriesKey, failure).catch(() => undefined);
      state.unavailableReason = failure.message;
      return;
    }
    state.model = restored.value;
    state.trainedAtMs = stored.value.meta.createdAtMs;
    delete state.unavailableReason;
    this.#options.events?.modelLoaded?.(seriesKey, restored.value.meta, stored.value.meta.createdAtMs);
  }

  /**
   * One cycle for a series: decides whether to retrain (no model, interval elapsed, accuracy under
   * the threshold) and, if so, starts training in the background, or queues it when
   * `maxConcurrentTrainings` are running. Returns at once with the decision. A queued series
   * decides `training_in_progress`, and its queue entry takes this tick's inputs, spec and time, so
   * it trains on the newest data when its turn comes.
   * `accuracyPercent` is the serving model's matured-forecast accuracy, when known.
   */
  tick(seriesKey: string, inputs: FeatureInputs, spec: ForecastSpec, nowMs: number, accuracyPercent?: number): RetrainDecision {
    const state = this.#state(seriesKey);
    const decision = retrainDecision({
      nowMs,
      trainedAtMs: state.trainedAtMs,
      retrainIntervalSeconds: this.#options.retrainIntervalSeconds(),
      accuracyPercent,
      accuracyThresholdPercent: this.#options.accuracyThresholdPercent(),
      ...(state.lastAccuracyRetrainAtMs !== undefined ? { lastAccuracyRetrainAtMs: state.lastAccuracyRetrainAtMs } : {}),
      trainingInProgress: state.training !== undefined || state.queued !== undefined,
    });
    if (state.queued !== undefined) {
      state.queued.inputs = inputs;
      state.queued.spec = spec;
      state.queued.nowMs = nowMs;
    }
    if (!decision.retrain || this.#abort.signal.aborted) {
      // The cap may have been raised since the last training ended.
      this.#drain();
      return decision;
    }
    if (decision.reason === 'accuracy_below_threshold') state.lastAccuracyRetrainAtMs = nowMs;
    state.queued = { inputs, spec, nowMs, reason: decision.reason };
    this.#queue.push(seriesKey);
    this.#drain();
    return decision;
  }

  /**
   * Resolves when no training is running and none is queued (tests, shutdown). Queued trainings
   * start as running ones finish, so this waits for all of them; after `close()` the queue is
   * empty and it waits only for the running ones to stop.
   */
  async whenIdle(): Promise<void> {
    for (;;) {
      this.#drain();
      const running = [...this.#series.values()].flatMap((s) => (s.training !== undefined ? [s.training] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Stops running trainings, drops queued ones (they never start), and frees every model. */
  async close(): Promise<void> {
    this.#abort.abort();
    for (const key of this.#queue) delete this.#series.get(key)?.queued;
    this.#queue = [];
    await this.whenIdle();
    for (const state of this.#series.values()) {
      state.model?.dispose();
      delete state.model;
    }
  }

  #state(seriesKey: string): SeriesState {
    let state = this.#series.get(seriesKey);
    if (state === undefined) {
      state = { loaded: false };
      this.#series.set(seriesKey, state);
    }
    return state;
  }

  /** The cap, as a whole number ≥ 1 whatever the option returns. */
  #cap(): number {
    const cap = Math.floor(this.#options.maxConcurrentTrainings?.() ?? 1);
    return Number.isFinite(cap) && cap >= 1 ? cap : 1;
  }

  /** Starts queued trainings, oldest first, while slots are free. */
  #drain(): void {
    while (!this.#abort.signal.aborted && this.#running < this.#cap() && this.#queue.length > 0) {
      const seriesKey = this.#queue.shift()!;
      const state = this.#series.get(seriesKey);
      const queued = state?.queued;
      if (state === undefined || queued === undefined) continue;
      delete state.queued;
      this.#running++;
      this.#options.events?.trainingStarted?.(seriesKey, queued.reason);
      state.training = this.#retrain(seriesKey, state, queued.inputs, queued.spec, queued.nowMs)
        .catch((error: unknown) => {
          // A training that throws (rather than reporting a failure) must not become an unhandled
          // rejection that ends the process: it is a failed run like any other.
          const report: TrainingReport = { deployed: false, durationSeconds: 0, failure: { reason: 'worker_error', message: messageOf(error) } };
          state.lastReport = report;
          if (state.model === undefined) state.unavailableReason = describeTrainingFailure(report.failure!);
          this.#options.events?.trainingFinished?.(seriesKey, report);
        })
        .finally(() => {
          delete state.training;
          this.#running--;
          this.#drain();
        });
    }
  }

  async #retrain(seriesKey: string, state: SeriesState, inputs: FeatureInputs, spec: ForecastSpec, nowMs: number): Promise<void> {
    const events = this.#options.events;
    const current = state.model;
    let currentArtifacts: TrainingJob['current'];
    if (current !== undefined) {
      try {
        currentArtifacts = { artifacts: await current.exportArtifacts(), meta: current.meta };
      } catch {
        currentArtifacts = undefined;
      }
    }
    const job: TrainingJob = {
      seriesKey,
      inputs,
      spec,
      options: this.#options.lstm(),
      ...(this.#options.backend !== undefined ? { backend: this.#options.backend } : {}),
      ...(currentArtifacts !== undefined ? { current: currentArtifacts } : {}),
    };
    const train = this.#options.train ?? runTrainingInWorker;
    const outcome = await train(job, { onProgress: (p) => events?.trainingProgress?.(seriesKey, p), signal: this.#abort.signal });
    if (!outcome.ok) {
      const report: TrainingReport = { deployed: false, durationSeconds: outcome.durationSeconds, failure: outcome.failure };
      state.lastReport = report;
      if (state.model === undefined) state.unavailableReason = describeTrainingFailure(outcome.failure);
      events?.trainingFinished?.(seriesKey, report);
      return;
    }
    if (!outcome.shadow.deploy) {
      const report: TrainingReport = { deployed: false, durationSeconds: outcome.durationSeconds, shadow: outcome.shadow };
      state.lastReport = report;
      // The serving model stays; it counts as fresh again so the interval does not retrain at once.
      state.trainedAtMs = nowMs;
      events?.trainingFinished?.(seriesKey, report);
      return;
    }
    const restored = await restoreLstm(outcome.artifacts, outcome.meta, this.#options.backend);
    if (!restored.ok) {
      const report: TrainingReport = {
        deployed: false,
        durationSeconds: outcome.durationSeconds,
        failure: { reason: restored.error.reason, message: `the new model does not load: ${restored.error.message}` },
      };
      state.lastReport = report;
      events?.trainingFinished?.(seriesKey, report);
      return;
    }
    try {
      await this.#options.store.save(seriesKey, outcome.artifacts, {
        ...outcome.meta,
        format: lstmFormat,
        seriesKey,
        createdAtMs: Math.round(nowMs),
        trainingDurationSeconds: outcome.durationSeconds,
      });
    } catch (error) {
      // Serving a model that is not on disk is fine; the next retrain saves again. Report it.
      events?.modelUnusable?.(seriesKey, { reason: 'corrupt', message: `could not save the new model: ${messageOf(error)}`, path: this.#options.store.seriesDir(seriesKey) });
    }
    const old = state.model;
    state.model = restored.value;
    state.trainedAtMs = nowMs;
    delete state.unavailableReason;
    // Dispose only after the swap, so a forecast in between still has a live model.
    old?.dispose();
    const report: TrainingReport = { deployed: true, durationSeconds: outcome.durationSeconds, shadow: outcome.shadow, createdAtMs: Math.round(nowMs) };
    state.lastReport = report;
    events?.trainingFinished?.(seriesKey, report);
  }
}
