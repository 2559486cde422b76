import { createAdaptiveDetector } from './adaptive.js';
import { detectorSettings } from './detector.js';
import type { AnomalyDetector, DetectorSettings } from './detector.js';
import { createMadDetector } from './mad.js';
import { createSeasonalDetector } from './seasonal.js';
import { createZScoreDetector } from './zscore.js';

/**
 * Every detector by name: the only place that lists them. The names are the ones the
 * configuration (`anomaly.detector`) and `foresight detect --detector` accept; a type-level test
 * keeps the configuration's list equal to this one. Simplest first.
 */
const factories = {
  zscore: createZScoreDetector,
  mad: createMadDetector,
  seasonal: createSeasonalDetector,
  adaptive: (settings?: DetectorSettings) => createAdaptiveDetector(settings),
} as const satisfies Readonly<Record<string, (settings?: DetectorSettings) => AnomalyDetector>>;

/** The name of a registered detector. */
export type DetectorName = keyof typeof factories;

/** All registered detector names, simplest first. */
export const detectorNames: readonly DetectorName[] = Object.freeze(Object.keys(factories) as DetectorName[]);

/** The service's default: the best detector on the NAB standard profile (see bench/anomaly.ts). */
export const defaultDetectorName: DetectorName = 'adaptive';

/** True when `name` is a registered detector. */
export function isDetectorName(name: string): name is DetectorName {
  return Object.hasOwn(factories, name);
}

/** A detector by name, with the given settings (the reference settings by default). */
export function createDetector(name: DetectorName, settings?: DetectorSettings): AnomalyDetector;
/** A detector by name, or undefined for an unknown name. */
export function createDetector(name: string, settings?: DetectorSettings): AnomalyDetector | undefined;
export function createDetector(name: string, settings: DetectorSettings = detectorSettings()): AnomalyDetector | undefined {
  return isDetectorName(name) ? factories[name](settings) : undefined;
}
