import { ForesightError } from '../core/index.js';
import type { LeaseRecord } from './lease-election.js';

/** A Lease as read or written, with the resourceVersion that guards the next write. */
export interface StoredLease {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

/**
 * Where the election Lease lives (the Kubernetes API in production, a map in unit tests).
 * Every method may throw: {@link LeaseConflictError} when another replica wrote first, any other
 * error when the store could not be reached. Calls are made one at a time by one elector.
 */
export interface LeaseStore {
  /** The Lease, or undefined when it does not exist. */
  get(): Promise<StoredLease | undefined>;
  /** Creates the Lease; a {@link LeaseConflictError} when it already exists. */
  create(record: LeaseRecord): Promise<StoredLease>;
  /** Replaces the Lease if it is still at `resourceVersion`; a {@link LeaseConflictError} when it is not. */
  update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease>;
}

/**
 * Another replica changed the Lease between our read and our write (HTTP 409: `AlreadyExists` on
 * create, `Conflict` on a stale resourceVersion). Expected under contention: the attempt simply
 * failed, and the next one reads the new record.
 */
export class LeaseConflictError extends ForesightError {
  override readonly name: string = 'LeaseConflictError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('FORESIGHT_ERR_LEASE_CONFLICT', message, options);
  }
}
