// Feature engineering and windowing (pure): calendar encodings, the per-step feature catalog of the
// design (system, queue, temporal, historical), lag features for direct regression models, z-score
// normalisation stored with models, and sliding windows for sequence models.
export * from './calendar.js';
export * from './catalog.js';
export * from './lag-features.js';
export * from './normalization.js';
export * from './windowing.js';
