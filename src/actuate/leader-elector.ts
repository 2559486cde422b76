import type { Logger } from 'pino';
import { messageOf, type Clock } from '../core/index.js';
import type { Timers } from '../engine/index.js';
import type { Election } from './election.js';
import { type ElectionState, type ElectionTiming, initialElectionState, isLeading, leaseAttemptFailed, leaseWritten, nextAttemptDelayMs, planLeaseAttempt, releaseRecord } from './lease-election.js';
import { LeaseConflictError, type LeaseStore } from './lease-store.js';

/** What a {@link LeaderElector} needs. */
export interface LeaderElectorOptions {
  readonly store: LeaseStore;
  readonly identity: string;
  readonly timing: ElectionTiming;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  /** Draws the acquire jitter, a number in [0, 1). */
  readonly random: () => number;
  /** Called after every attempt and on stop with whether this replica leads. */
  readonly onLeadership?: (isLeader: boolean) => void;
}

/**
 * Leader election over a Lease: the thin I/O loop around the pure rules of lease-election.ts.
 * Each attempt reads the Lease, then creates it, writes it (acquire or renew, guarded by the
 * resourceVersion just read) or waits; attempts never overlap, and the loop never throws.
 * The constructor starts nothing.
 */
export class LeaderElector implements Election {
  readonly identity: string;
  readonly #options: LeaderElectorOptions;
  #state: ElectionState = initialElectionState;
  /** resourceVersion of the Lease as this replica last wrote it (for the release on stop). */
  #writtenVersion: string | undefined;
  #running = false;
  #handle: unknown;
  #current: Promise<void> | undefined;
  #wasLeader = false;
  #lastError: string | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.identity = options.identity;
  }

  isLeader(): boolean {
    return isLeading(this.#state, this.#options.clock.nowMs(), this.#options.timing);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#handle !== undefined) this.#options.timers.clearTimeout(this.#handle);
    this.#handle = undefined;
    await this.#current;
    await this.#release();
    this.#state = { ...this.#state, renewedAtMs: undefined };
    this.#report();
  }

  /**
   * Makes one attempt now (the loop calls it every retry period; tests call it directly). When an
   * attempt is already running, waits for that one instead of starting another.
   */
  tick(): Promise<void> {
    this.#current ??= this.#attempt().finally(() => {
      this.#current = undefined;
    });
    return this.#current;
  }

  #loop(): void {
    if (!this.#running) return;
    void this.tick().finally(() => {
      if (!this.#running) return;
      const { clock, timing, random, timers } = this.#options;
      const delayMs = nextAttemptDelayMs(this.#state, clock.nowMs(), timing, random());
      this.#handle = timers.setTimeout(() => this.#loop(), delayMs);
    });
  }

  async #attempt(): Promise<void> {
    const { store, identity, timing, clock, logger } = this.#options;
    try {
      const stored = await store.get();
      // "Now" is taken after the read returned: a record first seen at this time was written
      // before it, which is what makes the expiry judgement safe (see lease-election.ts).
      const nowMs = clock.nowMs();
      const planned = planLeaseAttempt(this.#state, stored?.record, identity, nowMs, timing);
      this.#state = planned.state;
      const { attempt } = planned;
      if (attempt.kind === 'wait') {
        logger.debug({ holder: attempt.holderIdentity, expiresInSeconds: (attempt.expiresAtMs - nowMs) / 1000 }, 'lease held by another replica');
      } else {
        const written = attempt.kind === 'create' || stored === undefined ? await store.create(attempt.record) : await store.update(attempt.record, stored.resourceVersion);
        this.#state = leaseWritten(written.record, nowMs);
        this.#writtenVersion = written.resourceVersion;
      }
      this.#lastError = undefined;
    } catch (error) {
      this.#state = leaseAttemptFailed(this.#state, clock.nowMs(), timing);
      if (error instanceof LeaseConflictError) {
        logger.debug({ err: error }, 'lost a lease write to another replica');
      } else {
        // An unreachable API server fails every retry period: warn when the problem changes, not every time.
        const message = messageOf(error);
        if (message !== this.#lastError) logger.warn({ err: error }, 'lease attempt failed; retrying');
        this.#lastError = message;
      }
    }
    this.#report();
  }

  async #release(): Promise<void> {
    const { store, clock, timing, logger } = this.#options;
    const record = releaseRecord(this.#state, clock.nowMs(), timing);
    if (record === undefined || this.#writtenVersion === undefined) return;
    try {
      await store.update(record, this.#writtenVersion);
      logger.info('released the actuation lease');
    } catch (error) {
      // Not fatal: the others take over when the lease expires.
      logger.warn({ err: error }, 'could not release the actuation lease; others take over when it expires');
    }
  }

  #report(): void {
    const leader = this.isLeader();
    if (leader !== this.#wasLeader) {
      this.#options.logger.info({ identity: this.identity }, leader ? 'became the actuation leader' : 'no longer the actuation leader');
      this.#wasLeader = leader;
    }
    this.#options.onLeadership?.(leader);
  }
}
