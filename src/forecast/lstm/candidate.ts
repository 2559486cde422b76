import { prefix } from '../../core/index.js';
import type { RegularSeries } from '../../core/index.js';
import type { CandidateFit } from '../ensemble.js';
import { withFallback } from '../fallback.js';
import type { ForecastSpec } from '../forecaster.js';
import { createNaiveForecaster } from '../naive.js';
import { trainLstm } from './lstm-forecaster.js';
import type { LstmOptions, LstmTrainHooks, TrainedLstm } from './lstm-forecaster.js';

/** An LSTM candidate for `auto`, and the trained network behind it (to dispose when done). */
export interface LstmCandidate {
  readonly candidate: CandidateFit;
  readonly trained?: TrainedLstm;
}

/**
 * Trains the LSTM once, on the part of `train` before the validation split, and offers that one
 * network as both fits of an `auto` candidate: it is scored on the validation origins like every
 * other candidate, and forecasts with the same weights if it is chosen (training it a second time
 * on all of `train` would double the cost for little gain). Naive covers the origins before its
 * first full window. A network that cannot be trained becomes an ineligible candidate with the reason.
 */
export async function fitLstmCandidate(train: RegularSeries, spec: ForecastSpec, splitIndex: number, options: Partial<LstmOptions> = {}, hooks: LstmTrainHooks = {}): Promise<LstmCandidate> {
  const splitPart = prefix(train, splitIndex + 1);
  const trained = await trainLstm({ target: splitPart }, spec, options, hooks);
  if (!trained.ok) return { candidate: { name: 'lstm', failure: trained.error } };
  const naiveSplit = createNaiveForecaster().fit(splitPart, spec);
  const naiveTrain = createNaiveForecaster().fit(train, spec);
  if (!naiveSplit.ok) return { candidate: { name: 'lstm', failure: naiveSplit.error }, trained: trained.value };
  if (!naiveTrain.ok) return { candidate: { name: 'lstm', failure: naiveTrain.error }, trained: trained.value };
  return {
    candidate: { name: 'lstm', onSplit: withFallback(trained.value, naiveSplit.value), onTrain: withFallback(trained.value, naiveTrain.value) },
    trained: trained.value,
  };
}
