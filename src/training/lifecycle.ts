import { lstmFormat, restoreLstm, retrainDecision } from '../forecast/index.js';
import type {
  FeatureInputs,
  ForecastSpec,
  LstmMeta,
  LstmOptions,
  LstmProgress,
  RetrainDecision,
  ShadowResult,
  TfBackendPreference,
  TrainedLstm,
} from '../forecast/index.js';
import { lstmMetaOf } from './meta-schema.js';
import type { ModelStore, StoreFailure } from './model-store.js';
import type { TrainingJob, TrainingOutcome } from './training-job.js';
import { runTrainingInWorker } from './worker-runner.js';
import type { WorkerRunOptions } from './worker-runner.js';

/** What happened to one series' learned model; the caller logs these and turns them into metrics. */
export interface LifecycleEvents {
  /** A stored model could not be used; it was moved aside and will be retrained. Never fatal. */
  readonly modelUnusable?: (seriesKey: string, failure: StoreFailure | { readonly reason: 'incompatible' | 'corrupt'; readonly message: string }) => void;
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
  /** Why no model came out of it. */
  readonly failure?: string;
  /** When the deployed model was created (unix ms). */
  readonly createdAtMs?: number;
}

/** The state of one series' learned model, for /scaling/ml/accuracy. */
export interface SeriesModelStatus {
  readonly seriesKey: string;
  /** The model serving, if any. */
  readonly meta?: LstmMeta;
  readonly trainedAtMs?: number;
  readonly training: boolean;
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
  /** Runs a training job (default: in a low-priority child process). Tests inject a fake. */
  readonly train?: (job: TrainingJob, options: WorkerRunOptions) => Promise<TrainingOutcome>;
}

interface SeriesState {
  model?: TrainedLstm;
  trainedAtMs?: number;
  training?: Promise<void>;
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
 */
export class ModelLifecycle {
  readonly #options: ModelLifecycleOptions;
  readonly #series = new Map<string, SeriesState>();
  readonly #abort = new AbortController();

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
  }

  /**
   * One cycle for a series: decides whether to retrain (no model, interval elapsed, accuracy under
   * the threshold) and, if so, starts training in the background. Returns at once with the decision.
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
      trainingInProgress: state.training !== undefined,
    });
    if (!decision.retrain || this.#abort.signal.aborted) return decision;
    if (decision.reason === 'accuracy_below_threshold') state.lastAccuracyRetrainAtMs = nowMs;
    this.#options.events?.trainingStarted?.(seriesKey, decision.reason);
    state.training = this.#retrain(seriesKey, state, inputs, spec, nowMs).finally(() => {
      delete state.training;
    });
    return decision;
  }

  /** Resolves when no training is running (tests, shutdown). */
  async whenIdle(): Promise<void> {
    await Promise.all([...this.#series.values()].map((s) => s.training ?? Promise.resolve()));
  }

  /** Stops running trainings and frees every model. */
  async close(): Promise<void> {
    this.#abort.abort();
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
      const report: TrainingReport = { deployed: false, durationSeconds: outcome.durationSeconds, failure: `${outcome.failure.reason}: ${outcome.failure.message}` };
      state.lastReport = report;
      if (state.model === undefined) state.unavailableReason = report.failure!;
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
      const report: TrainingReport = { deployed: false, durationSeconds: outcome.durationSeconds, failure: `the new model does not load: ${restored.error.message}` };
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
      events?.modelUnusable?.(seriesKey, { reason: 'corrupt', message: `could not save the new model: ${error instanceof Error ? error.message : String(error)}`, path: this.#options.store.seriesDir(seriesKey) });
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
