import type { Config } from './schema.js';

/** A configuration key that still loads but no longer does anything, and what to do instead. */
export interface ConfigDeprecation {
  readonly path: string;
  readonly message: string;
}

/**
 * The deprecated keys a loaded configuration sets. Pure: the caller logs them (at start and on
 * every reload), so a file written for an older version keeps loading and its author learns why a
 * key stopped mattering.
 */
export function configDeprecations(config: Config): ConfigDeprecation[] {
  const out: ConfigDeprecation[] = [];
  if (config.ml.maxConcurrentTrainings !== undefined) {
    out.push({
      path: 'ml.maxConcurrentTrainings',
      message: 'ml.maxConcurrentTrainings has no effect since the LSTM is one global model (one training at a time); remove it from the configuration',
    });
  }
  return out;
}
