import { z } from 'zod';
import { featureNames } from '../core/index.js';
import { duration } from './schema-primitives.js';

// Sections of the models: forecasting, and the learned models (LSTM, Random Forest optimizer).

export const forecastModels = ['holt_winters', 'seasonal_naive', 'seasonal_mean', 'naive', 'linear_trend', 'lag_regression', 'random_forest', 'auto'] as const;

export const forecastSection = z
  .strictObject({
    model: z
      .enum(forecastModels)
      .default('auto')
      .describe(
        'Model used for published forecasts. "auto" (default) picks the model or combination with the lowest validation MAE per series, on rolling origins in the newest 30 % of the history (never worse than naive there; its refits cost about 2 s of CPU per series); a name serves that model everywhere.',
      ),
    step: duration.default(60).describe('Grid step of the history the models are fitted on.'),
    season: duration.default(86400).describe('Length of the seasonal cycle.'),
    history: duration.default(7 * 86400).describe('How much history to fit on.'),
    refitInterval: duration
      .default(3600)
      .describe(
        'How often model parameters are refitted (forecasts themselves are updated every cycle). Refits run in the model process in the background, each series at its own phase of the interval; a cycle never waits for them.',
      ),
    backgroundRefits: z
      .boolean()
      .default(true)
      .describe(
        'Refit in the model process between cycles, so that a cycle never waits for refits (it forecasts from the fits held; a refit serves from the next cycle on). false refits inside the cycle that finds them due: every replica then publishes the same numbers at the same cycle, but at 1,000 queues a cycle waits minutes. Without modelProcess refits are always inside the cycle.',
      ),
    selectionInterval: duration
      .default(86400)
      .describe(
        'How often "auto" chooses its model or combination again per series (about 2 s of CPU per series); the refits in between refit the chosen members only. A series chosen for before its window was all read is chosen again once the window is held.',
      ),
    modelProcess: z
      .boolean()
      .default(true)
      .describe(
        "Fit and run the models (refits, backtests, the resource optimizer) in a child process at a lower OS priority, so a slow refit never delays an HTTP answer; false runs them on the service's event loop. Read at start.",
      ),
    modelProcesses: z
      .union([z.literal('auto'), z.number().int().min(1).max(16)])
      .default('auto')
      .describe(
        'How many model processes share the series (each series stays in one, by a hash of its key), so that a cycle\'s fits run on several cores; "auto" is one per core beyond the first, at most 4 (1 on 2 cores). Only with modelProcess. Read at start.',
      ),
    modelProcessTimeout: duration
      .default(1800)
      .describe(
        "A model-process call (one cycle's fits and forecasts) that takes longer is abandoned: the process is killed, that cycle fails and the next starts a fresh process. Raise it if refits of many series with `auto` take longer.",
      ),
    horizons: z.array(duration).min(1).default([900]).describe('Forecast horizons; the first is the default "horizon" label (SCALING_PREDICTION_HORIZON_MINUTES replaces the list with one horizon).'),
  })
  .prefault({})
  .describe('How series are forecast.');

export const mlSection = z
  .strictObject({
    lstm: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'Train one global LSTM across every forecast series (with their covariates) in a low-priority child process, fine-tune it on new data every scaling.modelRetrainInterval, and serve it on a series only where it beats the baseline on recent history it never trained on.',
          ),
        lookbackSteps: z.number().int().positive().default(60).describe('Steps of history each forecast sees.'),
        features: z
          .array(z.enum(featureNames))
          .min(1)
          .default(['value', 'growth', 'hour_sin', 'hour_cos', 'dow_sin', 'dow_cos', 'value_24h_ago', 'value_7d_avg'])
          .describe('Per-step input features (docs/ml-models.md lists them).'),
        units: z.array(z.number().int().positive()).min(1).default([64, 32]).describe('Units of the stacked LSTM layers, first to last.'),
        dropout: z.number().min(0).lt(1).default(0.2).describe('Dropout after each LSTM layer.'),
        denseUnits: z.number().int().positive().default(16).describe('Units of the ReLU layer before the output.'),
        epochs: z
          .number()
          .int()
          .positive()
          .default(3)
          .describe('Passes over the training windows (from scratch). With maxWindows, 3 × 8,192 window passes: about 6–8 minutes of one core for the design network on wasm (docs/ml-models.md).'),
        batchSize: z.number().int().positive().default(128).describe('Windows per gradient step.'),
        learningRate: z.number().positive().default(0.002).describe('Adam learning rate.'),
        maxWindows: z
          .number()
          .int()
          .positive()
          .default(8192)
          .describe('Training windows per epoch, shared evenly by the series (a time-ordered random sample: epochs × windows bounds training time).'),
        fineTuneEpochs: z.number().int().positive().default(2).describe('Passes over the windows of a fine-tune (new data since the last training, and as many replayed older windows).'),
        fineTuneWindows: z.number().int().positive().default(512).describe('Most windows of a fine-tune, shared by the series (half new, half replayed).'),
        seed: z.number().int().default(1).describe('Seed of weights and window sampling (same data and seed, same model).'),
        backend: z.enum(['auto', 'wasm', 'cpu', 'tensorflow']).default('auto').describe('TensorFlow.js backend: auto uses @tensorflow/tfjs-node when installed, else wasm.'),
      })
      .prefault({})
      .describe('The LSTM forecaster (the design shape by default).'),
    randomForest: z
      .strictObject({
        trees: z.number().int().positive().default(25).describe('Trees of the resource optimizer forest.'),
        minSaturatedSamples: z.number().int().positive().default(30).describe('Saturated observations (work waiting) needed before its recommendations can be trusted.'),
        headroom: z.number().min(1).default(1.2).describe('Capacity provisioned per unit of predicted load (1.2 keeps replicas at most 83 % busy).'),
        seed: z.number().int().default(1).describe('Seed of the forest.'),
      })
      .prefault({})
      .describe('The Random Forest resource optimizer.'),
    accuracyThresholdPercent: z
      .number()
      .min(0)
      .max(100)
      .default(70)
      .describe('Retrain a learned model early when its matured-forecast accuracy (scaling_prediction_accuracy_percent, docs/forecasting.md) falls under this.'),
    accuracyWindow: duration.default(86400).describe('Trailing window of matured forecasts that accuracy is computed over.'),
    maxConcurrentTrainings: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Deprecated, no effect: the LSTM is one global model (one training at a time). Kept so that existing files load; setting it logs a deprecation warning.'),
  })
  .prefault({})
  .describe('Learned models: the LSTM, the Random Forest optimizer, and when they are retrained (the interval is scaling.modelRetrainInterval).');
