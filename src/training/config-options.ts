import type { Config } from '../config/index.js';
import type { LstmOptions } from '../forecast/index.js';

/** The LSTM settings of the `ml.lstm` config section as LstmOptions (the service's and `foresight train`'s). */
export function lstmOptionsFromConfig(lstm: Config['ml']['lstm']): Partial<LstmOptions> {
  return {
    lookbackSteps: lstm.lookbackSteps,
    features: lstm.features,
    units: lstm.units,
    dropout: lstm.dropout,
    denseUnits: lstm.denseUnits,
    epochs: lstm.epochs,
    batchSize: lstm.batchSize,
    learningRate: lstm.learningRate,
    maxWindows: lstm.maxWindows,
    seed: lstm.seed,
  };
}
