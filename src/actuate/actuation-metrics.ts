import type { Resource } from '../core/index.js';

/**
 * What became of one patch actuation wanted to make: `applied` (the API accepted it), `dry_run`
 * (logged only), `failed` (the API refused or could not be reached; retried next cycle) or
 * `skipped_not_leader` (another replica holds the Lease). The `outcome` label of
 * `foresight_actuation_patches_total`.
 */
export const actuationOutcomes = ['applied', 'dry_run', 'failed', 'skipped_not_leader'] as const;

/** One of {@link actuationOutcomes}. */
export type ActuationOutcome = (typeof actuationOutcomes)[number];

/**
 * The events actuation reports, so that it can be observed without importing prom-client.
 * publish/ implements it on the catalog's `foresight_actuation_patches_total` and `foresight_leader`.
 */
export interface ActuationMetrics {
  /** One patch reached an outcome. */
  patched(resource: Resource, outcome: ActuationOutcome): void;
  /** Whether this replica holds the Lease, reported after every election attempt and on stop. */
  setLeader(isLeader: boolean): void;
}

/** Metrics that record nothing. */
export const noopActuationMetrics: ActuationMetrics = {
  patched: () => undefined,
  setLeader: () => undefined,
};
