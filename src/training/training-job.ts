import type { FitFailure, ForecastSpec, GlobalLstmMeta, GlobalSeriesInput, LstmArtifacts, LstmOptions, LstmProgress, ShadowResult, TfBackendPreference } from '../forecast/index.js';

/** One training run of the global LSTM, as sent to the training process (structured-cloneable: typed arrays and plain data). */
export interface TrainingJob {
  /** The store key of the model (`global`); names the run in outcomes. */
  readonly seriesKey: string;
  /** Every series to train on, each with its covariates. */
  readonly series: readonly GlobalSeriesInput[];
  readonly spec: ForecastSpec;
  readonly options: Partial<LstmOptions>;
  readonly backend?: TfBackendPreference;
  /**
   * The model now serving, if any: the worker restores it and shadow-evaluates the new model
   * against it on the new model's held-out windows, so that evaluation too stays off the main thread.
   */
  readonly current?: { readonly artifacts: LstmArtifacts; readonly meta: GlobalLstmMeta };
  /** Continue from `current` on the data since it trained (incremental), instead of from scratch. */
  readonly fineTune?: { readonly epochs: number; readonly maxWindows: number };
}

/** A finished run: the network's artifacts and meta, and how long training took. */
export interface TrainingSuccess {
  readonly ok: true;
  readonly seriesKey: string;
  readonly artifacts: LstmArtifacts;
  readonly meta: GlobalLstmMeta;
  /** The new model against the serving one on the held-out windows: deploy only if `shadow.deploy`. */
  readonly shadow: ShadowResult;
  readonly durationSeconds: number;
  /**
   * CPU time of the training process (user + system), for training the new model (preparing the
   * windows, fitting, scoring its held-out origins) and for the shadow evaluation. The backend runs
   * on one thread, so on an idle core this is about the wall time: what a benchmark on a busy
   * machine can still measure.
   */
  readonly cpuSeconds: { readonly training: number; readonly shadow: number };
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
