import { defaultLstmOptions, restoreGlobalLstm, retrainDecision } from '../forecast/index.js';
import type {
  FeatureInputs,
  ForecastSpec,
  GlobalLstmMeta,
  LstmMeta,
  LstmOptions,
  LstmProgress,
  LstmRestoreFailure,
  RetrainDecision,
  ShadowResult,
  TfBackendPreference,
  TrainedGlobalLstm,
  TrainedLstm,
} from '../forecast/index.js';
import { globalLstmMetaOf, globalModelKey } from './meta-schema.js';
import type { StoredGlobalMeta } from './meta-schema.js';
import type { GlobalMetaToStore, ModelStore, StoreFailure } from './model-store.js';
import type { TrainingFailure, TrainingJob, TrainingOutcome } from './training-job.js';
import { runTrainingInWorker } from './worker-runner.js';
import type { WorkerRunOptions } from './worker-runner.js';
import { copySeries, messageOf } from '../core/index.js';

/** What happened to the learned model; the caller logs these and turns them into metrics. */
export interface LifecycleEvents {
  /** The stored model could not be used; it was moved aside and will be retrained. Never fatal. */
  readonly modelUnusable?: (modelKey: string, failure: StoreFailure | { readonly reason: 'incompatible' | 'corrupt'; readonly message: string }) => void;
  /** The stored model was restored at start-up and serves now, for each series it knows; `trainedAtMs` is when it was created (unix ms). */
  readonly modelLoaded?: (seriesKey: string, meta: LstmMeta, trainedAtMs: number) => void;
  /** A training actually begins. */
  readonly trainingStarted?: (modelKey: string, reason: RetrainDecision['reason'], mode: 'scratch' | 'fine_tune') => void;
  readonly trainingProgress?: (modelKey: string, progress: LstmProgress) => void;
  /** A training run ended: deployed or not (and the shadow comparison), or failed with a reason. */
  readonly trainingFinished?: (modelKey: string, result: TrainingReport) => void;
}

/** The end of one training run. */
export interface TrainingReport {
  readonly deployed: boolean;
  readonly durationSeconds: number;
  readonly mode: 'scratch' | 'fine_tune';
  readonly shadow?: ShadowResult;
  /** Why no model came out of it: a reason to count by (a metric label) and a message for people. */
  readonly failure?: TrainingRunFailure;
  /** When the deployed model was created (unix ms). */
  readonly createdAtMs?: number;
  /** The series the deployed model forecasts. */
  readonly seriesKeys?: readonly string[];
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
  /** The model serving this series (the global network with this series' scaling), if any. */
  readonly meta?: LstmMeta;
  readonly trainedAtMs?: number;
  /** The global model is training. */
  readonly training: boolean;
  /** Kept for the status format: the global model never waits for a slot. */
  readonly queued: boolean;
  readonly lastReport?: TrainingReport;
  /** Why there is no model for this series, if there is none. */
  readonly unavailableReason?: string;
}

/** Fine-tuning settings (`ml.lstm.fineTuneEpochs`, `ml.lstm.fineTuneWindows`). */
export interface FineTuneSettings {
  readonly epochs: number;
  readonly maxWindows: number;
}

/** Options of {@link ModelLifecycle}. */
export interface ModelLifecycleOptions {
  readonly store: ModelStore<StoredGlobalMeta>;
  /** LSTM shape and training settings (the `ml.lstm` config section). */
  readonly lstm: () => Partial<LstmOptions>;
  /** How new data fine-tunes the serving model. */
  readonly fineTune: () => FineTuneSettings;
  /** scaling.modelRetrainInterval, seconds: new data fine-tunes the model this often. */
  readonly retrainIntervalSeconds: () => number;
  /** Fine-tune early when matured accuracy falls under this percentage. */
  readonly accuracyThresholdPercent: () => number;
  readonly backend?: TfBackendPreference;
  readonly events?: LifecycleEvents;
  /** Runs a training job (default: in a low-priority child process). Tests inject a fake. */
  readonly train?: (job: TrainingJob, options: WorkerRunOptions) => Promise<TrainingOutcome>;
}

/** One series as a cycle hands it over: its key and its inputs (target and covariates). */
export interface LifecycleSeries {
  readonly seriesKey: string;
  readonly inputs: FeatureInputs;
}

/** Whether a model of these options could be fine-tuned into one of `wanted` (same network shape and inputs). */
function sameNetwork(options: LstmOptions, wanted: Partial<LstmOptions>): boolean {
  const w = { ...defaultLstmOptions, ...wanted };
  return (
    options.lookbackSteps === w.lookbackSteps &&
    options.features.join() === w.features.join() &&
    options.units.join() === w.units.join() &&
    options.dropout === w.dropout &&
    options.denseUnits === w.denseUnits
  );
}

/**
 * Holds, loads, retrains and swaps the global LSTM: one network for every forecast series. The
 * engine calls `tick` once per cycle with every series; the first training (from scratch) starts
 * then, in a low-priority child process, and never blocks the cycle. After that, every retrain
 * interval (or early, when matured accuracy falls under the threshold) the data since fine-tunes
 * the serving model instead of training from scratch; a configuration that changes the network's
 * shape or inputs, or a spec change, trains from scratch again. A new model replaces the serving
 * one only if it beats it on held-out data (shadow evaluation), and is saved to the store before
 * it serves. Until then `serving` returns undefined and the engine keeps the baselines.
 */
export class ModelLifecycle {
  readonly #options: ModelLifecycleOptions;
  readonly #abort = new AbortController();
  #model: TrainedGlobalLstm | undefined;
  #trainedAtMs: number | undefined;
  #training: Promise<void> | undefined;
  #lastAccuracyRetrainAtMs: number | undefined;
  #lastReport: TrainingReport | undefined;
  #unavailableReason: string | undefined;
  #loading: Promise<void> | undefined;
  /** Every series seen, in order: the status lists them all. */
  readonly #seen = new Set<string>();

  constructor(options: ModelLifecycleOptions) {
    this.#options = options;
  }

  /** The model serving a series (the global network with this series' scaling), if there is one. */
  serving(seriesKey: string): TrainedLstm | undefined {
    return this.#model?.forSeries(seriesKey);
  }

  /** The global model serving, if any. */
  global(): TrainedGlobalLstm | undefined {
    return this.#model;
  }

  /** The state of every series seen. */
  status(): SeriesModelStatus[] {
    return [...this.#seen].map((seriesKey) => {
      const view = this.serving(seriesKey);
      const skipped = this.#model?.meta.skipped[seriesKey];
      const reason = view !== undefined ? undefined : (skipped ?? this.#unavailableReason ?? (this.#model !== undefined ? 'the global model was trained before this series was seen' : undefined));
      return {
        seriesKey,
        ...(view !== undefined ? { meta: view.meta } : {}),
        ...(view !== undefined && this.#trainedAtMs !== undefined ? { trainedAtMs: this.#trainedAtMs } : {}),
        training: this.#training !== undefined,
        queued: false,
        ...(this.#lastReport !== undefined ? { lastReport: this.#lastReport } : {}),
        ...(reason !== undefined ? { unavailableReason: reason } : {}),
      };
    });
  }

  /**
   * Loads the stored global model, once (the series key only registers the series). A missing
   * model is normal (it gets trained); a corrupt or incompatible one is reported through
   * `modelUnusable`, moved aside, and retrained. Never throws.
   */
  load(seriesKey?: string): Promise<void> {
    if (seriesKey !== undefined) this.#seen.add(seriesKey);
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async #load(): Promise<void> {
    const { store, events } = this.#options;
    const stored = await store.load(globalModelKey);
    if (!stored.ok) {
      if (stored.error.reason !== 'missing') {
        events?.modelUnusable?.(globalModelKey, stored.error);
        await store.quarantine(globalModelKey, stored.error).catch(() => undefined);
      }
      this.#unavailableReason = stored.error.message;
      return;
    }
    const restored = await restoreGlobalLstm(stored.value.artifacts, globalLstmMetaOf(stored.value.meta), this.#options.backend);
    if (!restored.ok) {
      const failure: StoreFailure = { ...restored.error, path: stored.value.dir };
      events?.modelUnusable?.(globalModelKey, failure);
      await store.quarantine(globalModelKey, failure).catch(() => undefined);
      this.#unavailableReason = failure.message;
      return;
    }
    // A training may have deployed a model while this one loaded: the newer one stays.
    if (this.#model !== undefined) {
      restored.value.dispose();
      return;
    }
    this.#model = restored.value;
    this.#trainedAtMs = stored.value.meta.createdAtMs;
    this.#unavailableReason = undefined;
    for (const key of Object.keys(restored.value.meta.series)) {
      const view = restored.value.forSeries(key);
      if (view !== undefined) events?.modelLoaded?.(key, view.meta, stored.value.meta.createdAtMs);
    }
  }

  /**
   * One cycle, after its forecasts: decides whether to train (no model: from scratch; interval
   * elapsed or accuracy under the threshold: fine-tune on the data since) and, if so, starts it in
   * the background. Returns at once with the decision. `accuracyPercent` is the serving forecasts'
   * matured accuracy (the median over series), when known.
   */
  tick(series: readonly LifecycleSeries[], spec: ForecastSpec, nowMs: number, accuracyPercent?: number): RetrainDecision {
    for (const s of series) this.#seen.add(s.seriesKey);
    const decision = retrainDecision({
      nowMs,
      trainedAtMs: this.#trainedAtMs,
      retrainIntervalSeconds: this.#options.retrainIntervalSeconds(),
      accuracyPercent,
      accuracyThresholdPercent: this.#options.accuracyThresholdPercent(),
      ...(this.#lastAccuracyRetrainAtMs !== undefined ? { lastAccuracyRetrainAtMs: this.#lastAccuracyRetrainAtMs } : {}),
      trainingInProgress: this.#training !== undefined,
    });
    if (!decision.retrain || this.#abort.signal.aborted || series.length === 0) return decision;
    if (decision.reason === 'accuracy_below_threshold') this.#lastAccuracyRetrainAtMs = nowMs;
    const options = this.#options.lstm();
    const current = this.#model;
    const fineTune = current !== undefined && JSON.stringify(current.meta.spec) === JSON.stringify(spec) && sameNetwork(current.meta.options, options);
    const mode = fineTune ? 'fine_tune' : 'scratch';
    this.#options.events?.trainingStarted?.(globalModelKey, decision.reason, mode);
    // The run outlives this call and the caller's buffers change in place every cycle: it trains on a copy.
    this.#training = this.#retrain(series.map(copyOfSeries), spec, options, nowMs, mode)
      .catch((error: unknown) => {
        // A training that throws (rather than reporting a failure) must not end the process: it is a failed run like any other.
        const failure: TrainingRunFailure = { reason: 'worker_error', message: messageOf(error) };
        const report: TrainingReport = { deployed: false, durationSeconds: 0, mode, failure };
        this.#lastReport = report;
        if (this.#model === undefined) this.#unavailableReason = describeTrainingFailure(failure);
        this.#options.events?.trainingFinished?.(globalModelKey, report);
      })
      .finally(() => {
        this.#training = undefined;
      });
    return decision;
  }

  /** Resolves when no training is running (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.#training !== undefined) await this.#training;
  }

  /** Stops a running training and frees the model. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.whenIdle();
    this.#model?.dispose();
    this.#model = undefined;
  }

  async #retrain(series: readonly LifecycleSeries[], spec: ForecastSpec, options: Partial<LstmOptions>, nowMs: number, mode: 'scratch' | 'fine_tune'): Promise<void> {
    const { events, store, backend } = this.#options;
    const current = this.#model;
    let currentArtifacts: TrainingJob['current'];
    if (current !== undefined) {
      try {
        currentArtifacts = { artifacts: await current.exportArtifacts(), meta: current.meta };
      } catch {
        currentArtifacts = undefined;
      }
    }
    const job: TrainingJob = {
      seriesKey: globalModelKey,
      series: series.map((s) => ({ key: s.seriesKey, inputs: s.inputs })),
      spec,
      options,
      ...(backend !== undefined ? { backend } : {}),
      ...(currentArtifacts !== undefined ? { current: currentArtifacts } : {}),
      ...(mode === 'fine_tune' && currentArtifacts !== undefined ? { fineTune: this.#options.fineTune() } : {}),
    };
    const train = this.#options.train ?? runTrainingInWorker;
    const outcome = await train(job, { onProgress: (p) => events?.trainingProgress?.(globalModelKey, p), signal: this.#abort.signal });
    const finish = (report: TrainingReport) => {
      this.#lastReport = report;
      events?.trainingFinished?.(globalModelKey, report);
    };
    if (!outcome.ok) {
      if (this.#model === undefined) this.#unavailableReason = describeTrainingFailure(outcome.failure);
      // Nothing new to learn is not a failure to retry at once: the model counts as fresh again.
      if (outcome.failure.reason === 'insufficient_history' && this.#model !== undefined) this.#trainedAtMs = nowMs;
      finish({ deployed: false, durationSeconds: outcome.durationSeconds, mode, failure: outcome.failure });
      return;
    }
    if (!outcome.shadow.deploy) {
      // The serving model stays; it counts as fresh again so the interval does not retrain at once.
      this.#trainedAtMs = nowMs;
      finish({ deployed: false, durationSeconds: outcome.durationSeconds, mode, shadow: outcome.shadow });
      return;
    }
    const restored = await restoreGlobalLstm(outcome.artifacts, outcome.meta, backend);
    if (!restored.ok) {
      finish({ deployed: false, durationSeconds: outcome.durationSeconds, mode, failure: { reason: restored.error.reason, message: `the new model does not load: ${restored.error.message}` } });
      return;
    }
    try {
      await store.save(globalModelKey, outcome.artifacts, globalMetaToStore(outcome.meta, nowMs, outcome.durationSeconds));
    } catch (error) {
      // Serving a model that is not on disk is fine; the next retrain saves again. Report it.
      events?.modelUnusable?.(globalModelKey, { reason: 'corrupt', message: `could not save the new model: ${messageOf(error)}`, path: store.seriesDir(globalModelKey) });
    }
    const old = this.#model;
    this.#model = restored.value;
    this.#trainedAtMs = nowMs;
    this.#unavailableReason = undefined;
    // Dispose only after the swap, so a forecast in between still has a live model.
    old?.dispose();
    finish({ deployed: true, durationSeconds: outcome.durationSeconds, mode, shadow: outcome.shadow, createdAtMs: Math.round(nowMs), seriesKeys: Object.keys(outcome.meta.series) });
  }
}

/** The meta of a global model as the store keeps it (for `foresight train`). */
export function globalMetaToStore(meta: GlobalLstmMeta, createdAtMs: number, trainingDurationSeconds: number): GlobalMetaToStore {
  return { ...meta, seriesKey: globalModelKey, createdAtMs: Math.round(createdAtMs), trainingDurationSeconds };
}

/** The median of the series' matured accuracies (what triggers an early fine-tune), or undefined when none has one. */
export function medianAccuracy(bySeries: ReadonlyMap<string, number>): number | undefined {
  const values = [...bySeries.values()].filter(Number.isFinite).sort((a, b) => a - b);
  if (values.length === 0) return undefined;
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/** A series' inputs copied, so that a run in the background sees the data as it was when it started. */
function copyOfSeries(s: LifecycleSeries): LifecycleSeries {
  const covariates =
    s.inputs.covariates === undefined ? undefined : Object.fromEntries(Object.entries(s.inputs.covariates).map(([name, series]) => [name, series === undefined ? series : copySeries(series)]));
  return { ...s, inputs: { target: copySeries(s.inputs.target), ...(covariates === undefined ? {} : { covariates }) } };
}
