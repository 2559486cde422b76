// The LSTM forecaster: the only folder that imports TensorFlow.js, always lazily (`await import`),
// so nothing outside an LSTM training or forecast ever loads it.
export * from './candidate.js';
export * from './lstm-forecaster.js';
export * from './tf-runtime.js';
export * from './global-lstm.js';
