import type { FeatureInputs, FitFailure, ForecastSpec, LstmArtifacts, LstmMeta, LstmOptions, LstmProgress, ShadowResult, TfBackendPreference } from '../forecast/index.js';

/** One LSTM training run, as sent to the training process (structured-cloneable: typed arrays and plain data). */
export interface TrainingJob {
  /** The series the model is for ("queue/orders/depth"); names the model in the store. */
  readonly seriesKey: string;
  readonly inputs: FeatureInputs;
  readonly spec: ForecastSpec;
  readonly options: Partial<LstmOptions>;
  readonly backend?: TfBackendPreference;
  /**
   * The model now serving, if any: the worker restores it and shadow-evaluates the new model
   * against it on the new model's held-out window, so that evaluation too stays off the main thread.
   */
  readonly current?: { readonly artifacts: LstmArtifacts; readonly meta: LstmMeta };
}

/** A finished run: the network's artifacts and meta, and how long training took. */
export interface TrainingSuccess {
  readonly ok: true;
  readonly seriesKey: string;
  readonly artifacts: LstmArtifacts;
  readonly meta: LstmMeta;
  /** The new model against the serving one on the held-out window: deploy only if `shadow.deploy`. */
  readonly shadow: ShadowResult;
  readonly durationSeconds: number;
}

/** A run that produced no model: the data did not allow it, or the worker failed. */
export interface TrainingFailure {
  readonly ok: false;
  readonly seriesKey: string;
  readonly failure: FitFailure | { readonly reason: 'worker_error' | 'aborted'; readonly message: string };
  readonly durationSeconds: number;
}

/** The outcome of a run. */
export type TrainingOutcome = TrainingSuccess | TrainingFailure;

/** Messages from the worker to the main thread. */
export type WorkerMessage = { readonly type: 'progress'; readonly progress: LstmProgress } | { readonly type: 'done'; readonly outcome: TrainingOutcome };
