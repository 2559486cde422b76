/**
 * The timing decisions of leader election over a coordination.k8s.io/v1 Lease, as pure functions.
 *
 * The rules are client-go's (k8s.io/client-go/tools/leaderelection, `tryAcquireOrRenew`), so a
 * Foresight Lease behaves like every controller's:
 * - a replica judges whether another holder's lease has expired by its *own* clock, counting
 *   `leaseDurationSeconds` from the moment it first saw the current record, never from the
 *   holder's `renewTime` (the clocks of two pods need not agree);
 * - a released lease (empty `holderIdentity`) may be taken at once;
 * - the holder keeps `acquireTime` and `leaseTransitions` when it renews; a new holder sets
 *   `acquireTime` and adds one transition.
 *
 * One rule is stricter than client-go: a replica counts itself leader only until `renewDeadline`
 * after the *start* of its last successful write. Another replica can take over no earlier than
 * `leaseDuration` after it saw that write, which is later than the write's start; since
 * `renewDeadline < leaseDuration` (the configuration enforces it), the two periods never overlap,
 * so two replicas never both believe they lead, even when one of them stalls.
 */

/** The holder record of a Lease, with times in Unix milliseconds. */
export interface LeaseRecord {
  /** The replica that holds the lease; "" when nobody does (released). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTimeMs: number | undefined;
  readonly renewTimeMs: number | undefined;
  readonly leaseTransitions: number;
}

/** The three durations of client-go's LeaderElectionConfig, in seconds. */
export interface ElectionTiming {
  /** How long a non-holder waits, after it saw the last change of the record, before taking over. */
  readonly leaseDurationSeconds: number;
  /** How long the holder keeps acting after the start of its last successful renewal. */
  readonly renewDeadlineSeconds: number;
  /** Time between two attempts. */
  readonly retryPeriodSeconds: number;
}

/** What one replica knows about the election. Immutable: every step returns a new state. */
export interface ElectionState {
  /** The last record this replica read or wrote. */
  readonly observed: LeaseRecord | undefined;
  /** When this replica first saw `observed` (its own clock). */
  readonly observedAtMs: number;
  /** Start of this replica's last successful acquire or renew while it leads; undefined when it does not. */
  readonly renewedAtMs: number | undefined;
}

/** A replica that has seen nothing yet. */
export const initialElectionState: ElectionState = { observed: undefined, observedAtMs: 0, renewedAtMs: undefined };

/** What to do after reading the Lease. */
export type LeaseAttempt =
  | { readonly kind: 'create'; readonly record: LeaseRecord }
  | { readonly kind: 'update'; readonly record: LeaseRecord }
  | { readonly kind: 'wait'; readonly holderIdentity: string; readonly expiresAtMs: number };

/**
 * client-go's JitterFactor: a replica that does not lead waits between 1 and 2.2 retry periods,
 * so that replicas started together do not keep colliding.
 */
export const acquireJitterFactor = 1.2;

function sameRecord(a: LeaseRecord | undefined, b: LeaseRecord): boolean {
  return (
    a !== undefined &&
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTimeMs === b.acquireTimeMs &&
    a.renewTimeMs === b.renewTimeMs &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/**
 * Decides, from the Lease just read (`current`, undefined when it does not exist), whether to
 * create it, write it (acquire or renew), or wait because another replica holds it. Returns the
 * state with the observation recorded: a replica that sees another holder stops leading at once.
 */
export function planLeaseAttempt(
  state: ElectionState,
  current: LeaseRecord | undefined,
  identity: string,
  nowMs: number,
  timing: ElectionTiming,
): { readonly state: ElectionState; readonly attempt: LeaseAttempt } {
  const fresh: LeaseRecord = {
    holderIdentity: identity,
    leaseDurationSeconds: timing.leaseDurationSeconds,
    acquireTimeMs: nowMs,
    renewTimeMs: nowMs,
    leaseTransitions: 0,
  };
  if (current === undefined) return { state, attempt: { kind: 'create', record: fresh } };

  const observedAtMs = sameRecord(state.observed, current) ? state.observedAtMs : nowMs;
  const seen: ElectionState = { ...state, observed: current, observedAtMs };
  const holder = current.holderIdentity;
  if (holder !== '' && holder !== identity) {
    // A record without a duration (written by hand) gets ours rather than counting as expired.
    const durationSeconds = current.leaseDurationSeconds > 0 ? current.leaseDurationSeconds : timing.leaseDurationSeconds;
    const expiresAtMs = observedAtMs + durationSeconds * 1000;
    if (expiresAtMs > nowMs) {
      return { state: { ...seen, renewedAtMs: undefined }, attempt: { kind: 'wait', holderIdentity: holder, expiresAtMs } };
    }
  }
  const ours = holder === identity;
  return {
    state: seen,
    attempt: {
      kind: 'update',
      record: {
        ...fresh,
        acquireTimeMs: ours ? (current.acquireTimeMs ?? nowMs) : nowMs,
        leaseTransitions: ours ? current.leaseTransitions : current.leaseTransitions + 1,
      },
    },
  };
}

/**
 * The write of `record`, started at `startedAtMs`, succeeded: this replica leads from then on.
 * What it knew before no longer matters, so the state is built afresh.
 */
export function leaseWritten(record: LeaseRecord, startedAtMs: number): ElectionState {
  return { observed: record, observedAtMs: startedAtMs, renewedAtMs: startedAtMs };
}

/**
 * An attempt failed (the read failed, or the write lost a conflict). Leadership survives until its
 * deadline, so that one lost request does not stop actuation; after that it is gone.
 */
export function leaseAttemptFailed(state: ElectionState, nowMs: number, timing: ElectionTiming): ElectionState {
  return isLeading(state, nowMs, timing) ? state : { ...state, renewedAtMs: undefined };
}

/** True while this replica may act: it renewed the lease less than `renewDeadline` ago. */
export function isLeading(state: ElectionState, nowMs: number, timing: ElectionTiming): boolean {
  return state.renewedAtMs !== undefined && nowMs < state.renewedAtMs + timing.renewDeadlineSeconds * 1000;
}

/**
 * The record that releases the lease on a clean stop, as client-go's `ReleaseOnCancel` writes it
 * (no holder, a one-second duration), so that another replica takes over at once instead of
 * after a whole lease duration. Undefined when this replica does not lead.
 */
export function releaseRecord(state: ElectionState, nowMs: number, timing: ElectionTiming): LeaseRecord | undefined {
  if (!isLeading(state, nowMs, timing) || state.observed === undefined) return undefined;
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTimeMs: nowMs, renewTimeMs: nowMs, leaseTransitions: state.observed.leaseTransitions };
}

/**
 * Milliseconds until the next attempt. The leader renews every retry period; the others add
 * client-go's jitter (`jitter` is a number in [0, 1), drawn by the caller).
 */
export function nextAttemptDelayMs(state: ElectionState, nowMs: number, timing: ElectionTiming, jitter: number): number {
  const periodMs = timing.retryPeriodSeconds * 1000;
  return isLeading(state, nowMs, timing) ? periodMs : periodMs * (1 + acquireJitterFactor * jitter);
}
