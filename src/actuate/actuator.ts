import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { messageOf, type Clock, type Resource } from '../core/index.js';
import type { ResourceDecision, Snapshot } from '../engine/index.js';
import type { ActuationMetrics, ActuationOutcome } from './actuation-metrics.js';
import type { Election } from './election.js';
import type { PoolSizeTarget, WorkloadScaler, WorkloadTarget } from './workload-scaler.js';

/** The `actuation` section of the configuration. */
export type ActuationSettings = Config['actuation'];

/** The object one resource's recommendation is written to. */
export type ActuationTarget = { readonly type: 'workload'; readonly workload: WorkloadTarget } | { readonly type: 'pool'; readonly pool: PoolSizeTarget };

/** The target configured for `resource`, or undefined when it is left alone. */
export function actuationTargetOf(settings: ActuationSettings, resource: Resource): ActuationTarget | undefined {
  if (resource === 'db_connections') {
    const pool = settings.targets.db_connections;
    return pool === undefined ? undefined : { type: 'pool', pool };
  }
  const workload = settings.targets[resource];
  return workload === undefined ? undefined : { type: 'workload', workload };
}

/** A target as people write it: "Deployment shop/worker", "ConfigMap shop/db-pool[poolSize]". */
export function describeTarget(target: ActuationTarget): string {
  return target.type === 'workload' ? `${target.workload.kind} ${target.workload.namespace}/${target.workload.name}` : `ConfigMap ${target.pool.namespace}/${target.pool.name}[${target.pool.key}]`;
}

/** What became of the last patch of one resource. */
export interface ResourceActuation {
  readonly resource: Resource;
  readonly target: string;
  readonly outcome: ActuationOutcome;
  /** The replicas (pool size) the patch set or would set. */
  readonly replicas: number;
  readonly atMs: number;
  /** The API's answer when the patch failed. */
  readonly error?: string;
}

/** What actuation is doing, for logs and the status API. */
export interface ActuationStatus {
  /** `off` when disabled or not connected, `dry_run` when it only logs, `live` when it patches. */
  readonly mode: 'off' | 'dry_run' | 'live';
  /** How the cluster is reached, or why it is not. */
  readonly connection: string;
  readonly identity: string | undefined;
  readonly leader: boolean;
  /** The last outcome per resource, for resources that reached one since start. */
  readonly resources: readonly ResourceActuation[];
}

/**
 * Writes the recommendations of each snapshot to the cluster: the `scale` subresource of the
 * Deployment or StatefulSet mapped to a resource, the pool size ConfigMap for db_connections.
 * Only the leader of the Lease writes, only what differs from the observed value, at most once
 * per `minPatchInterval` per resource; in dry-run it only logs and counts. Errors are logged,
 * counted and retried on the next snapshot; `apply` never rejects.
 * The constructor starts nothing: `start()` starts the leader election, `stop()` releases it.
 */
export interface Actuator {
  /** Connects and starts the leader election, when actuation is enabled (idempotent). Never rejects. */
  start(): Promise<void>;
  /** Stops the election (releasing the Lease) and waits for patches in flight. */
  stop(): Promise<void>;
  /** Acts on the decisions of `snapshot`; call it after every cycle. Never rejects. */
  apply(snapshot: Snapshot): Promise<void>;
  /** What actuation is doing now. */
  status(): ActuationStatus;
}

/** What `start()` finds: the election and, when a cluster is reachable, the scaler. */
export type ActuationSession =
  | { readonly connected: true; readonly election: Election; readonly scaler: WorkloadScaler | undefined; readonly connection: string }
  | { readonly connected: false; readonly reason: string };

type ConnectedSession = Extract<ActuationSession, { connected: true }>;

/** What a {@link PatchingActuator} is built from. */
export interface PatchingActuatorDeps {
  /** The current configuration, read on every `apply`, so that targets, dryRun and the interval reload. */
  readonly config: () => Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ActuationMetrics;
  /**
   * Connects to the cluster and builds the election; called by `start()` when actuation is
   * enabled. `scaler` is undefined only for a dry run without a cluster.
   */
  readonly connect: (settings: ActuationSettings) => Promise<ActuationSession>;
}

/** The {@link Actuator}. */
export class PatchingActuator implements Actuator {
  readonly #deps: PatchingActuatorDeps;
  #session: ConnectedSession | undefined;
  #connection = 'not started';
  /** Where the lifecycle is; when there is no session, it says why. */
  #phase: 'not_started' | 'connecting' | 'running' | 'disabled_at_start' | 'no_connection' | 'stopped' = 'not_started';
  #applying: Promise<void> | undefined;
  readonly #lastPatchMs = new Map<Resource, number>();
  readonly #last = new Map<Resource, ResourceActuation>();
  readonly #warned = new Set<string>();

  constructor(deps: PatchingActuatorDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    if (this.#phase !== 'not_started') return;
    const settings = this.#deps.config().actuation;
    const log = this.#deps.logger;
    if (!settings.enabled) {
      this.#phase = 'disabled_at_start';
      this.#connection = 'actuation disabled';
      log.debug('actuation is disabled (actuation.enabled: false)');
      return;
    }
    this.#phase = 'connecting';
    let session: ActuationSession;
    try {
      session = await this.#deps.connect(settings);
    } catch (error) {
      session = { connected: false, reason: `could not connect: ${messageOf(error)}` };
    }
    // stop() while connecting wins: the election never starts.
    if (this.#phase !== 'connecting') return;
    if (!session.connected) {
      this.#phase = 'no_connection';
      this.#connection = session.reason;
      log.error({ reason: session.reason }, 'actuation is enabled but no Kubernetes API is reachable; actuation stays off');
      return;
    }
    this.#phase = 'running';
    this.#session = session;
    this.#connection = session.connection;
    const mapped = resourcesOf(settings);
    if (mapped.length === 0) log.warn('actuation is enabled but actuation.targets maps no resource; nothing will be patched');
    log.info(
      { mode: settings.dryRun ? 'dry_run' : 'live', connection: session.connection, identity: session.election.identity, resources: mapped },
      settings.dryRun ? 'actuation started in dry-run mode: patches are logged and counted, not made' : 'actuation started: the leader patches mapped workloads',
    );
    session.election.start();
  }

  async stop(): Promise<void> {
    this.#phase = 'stopped';
    await this.#applying;
    const session = this.#session;
    this.#session = undefined;
    if (session !== undefined) await session.election.stop();
  }

  apply(snapshot: Snapshot): Promise<void> {
    // Cycles are serial, but a slow API server could make patches outlive a cycle: the newer
    // snapshot is then skipped rather than queued, and the one after it acts on fresh decisions.
    if (this.#applying !== undefined) {
      this.#deps.logger.debug({ cycle: snapshot.cycle }, 'previous patches still running; skipping this snapshot');
      return this.#applying;
    }
    const run = this.#applyAll(snapshot)
      // Every expected failure is handled per resource; this only keeps a bug from becoming a crash.
      .catch((error: unknown) => this.#deps.logger.error({ err: error }, 'actuation failed unexpectedly'))
      .finally(() => {
        this.#applying = undefined;
      });
    this.#applying = run;
    return run;
  }

  status(): ActuationStatus {
    const settings = this.#deps.config().actuation;
    const session = this.#session;
    const live = session !== undefined && settings.enabled;
    return {
      mode: !live ? 'off' : settings.dryRun || session.scaler === undefined ? 'dry_run' : 'live',
      connection: this.#connection,
      identity: session?.election.identity,
      leader: session?.election.isLeader() ?? false,
      resources: [...this.#last.values()],
    };
  }

  async #applyAll(snapshot: Snapshot): Promise<void> {
    const settings = this.#deps.config().actuation;
    const session = this.#session;
    if (!settings.enabled) return;
    if (session === undefined) {
      // A missing connection was logged as an error at start; a stopped actuator stays quiet.
      if (this.#phase === 'disabled_at_start') this.#warnOnce('enabled-by-reload', 'actuation.enabled was turned on by a reload; actuation starts at the next restart');
      if (this.#phase === 'not_started') this.#warnOnce('not-started', 'apply() was called before start(); nothing is patched');
      return;
    }
    const work: Promise<void>[] = [];
    for (const decision of snapshot.decisions) {
      const target = actuationTargetOf(settings, decision.resource);
      if (target !== undefined) work.push(this.#act(decision, target, settings, session));
    }
    await Promise.all(work);
  }

  async #act(decision: ResourceDecision, target: ActuationTarget, settings: ActuationSettings, session: ConnectedSession): Promise<void> {
    const { clock, logger } = this.#deps;
    const { resource } = decision;
    const desired = decision.recommendedReplicas;
    const where = describeTarget(target);
    const log = logger.child({ resource, target: where });
    if (!Number.isSafeInteger(desired) || desired < 0) {
      log.warn({ recommended: desired }, 'recommendation is not a whole non-negative number; not patching');
      return;
    }
    let observed = decision.currentReplicas;
    if (observed === desired) return;
    if (!session.election.isLeader()) {
      this.#record(resource, where, 'skipped_not_leader', desired);
      return;
    }
    const sinceMs = clock.nowMs() - (this.#lastPatchMs.get(resource) ?? Number.NEGATIVE_INFINITY);
    if (sinceMs < settings.minPatchInterval * 1000) {
      log.debug({ recommended: desired, waitSeconds: settings.minPatchInterval - sinceMs / 1000 }, 'patched recently; waiting for actuation.minPatchInterval');
      return;
    }
    const { scaler } = session;
    // Prometheus may have no replica count (kube-state-metrics missing or lagging): ask the scale
    // subresource itself, so that "only when it differs" holds. The pool size has no such read
    // (it needs no `get` on ConfigMaps); its merge patch is idempotent anyway.
    if (observed === null && target.type === 'workload' && scaler !== undefined) {
      try {
        observed = await scaler.readReplicas(target.workload);
      } catch (error) {
        log.warn({ err: error }, 'could not read the current replicas; retrying next cycle');
        this.#record(resource, where, 'failed', desired, error);
        return;
      }
      if (observed === desired) return;
    }
    const fields = { observed, recommended: desired, direction: decision.direction, reasons: decision.reasons };
    if (settings.dryRun || scaler === undefined) {
      if (!settings.dryRun) this.#warnOnce('no-scaler', 'actuation.dryRun was turned off, but there is no Kubernetes connection; still only logging');
      log.info(fields, 'dry run: would patch');
      this.#lastPatchMs.set(resource, clock.nowMs());
      this.#record(resource, where, 'dry_run', desired);
      return;
    }
    // The read above may have taken a while: leadership is checked again right before writing.
    if (!session.election.isLeader()) {
      this.#record(resource, where, 'skipped_not_leader', desired);
      return;
    }
    try {
      if (target.type === 'workload') await scaler.setReplicas(target.workload, desired);
      else await scaler.setPoolSize(target.pool, desired);
    } catch (error) {
      log.warn({ err: error, ...fields }, 'patch failed; retrying next cycle');
      this.#record(resource, where, 'failed', desired, error);
      return;
    }
    this.#lastPatchMs.set(resource, clock.nowMs());
    log.info(fields, 'patched');
    this.#record(resource, where, 'applied', desired);
  }

  #record(resource: Resource, target: string, outcome: ActuationOutcome, replicas: number, error?: unknown): void {
    this.#deps.metrics.patched(resource, outcome);
    const message = error === undefined ? undefined : messageOf(error);
    this.#last.set(resource, { resource, target, outcome, replicas, atMs: this.#deps.clock.nowMs(), ...(message === undefined ? {} : { error: message }) });
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#deps.logger.warn(message);
  }
}

/** The resources the settings map to an object. */
function resourcesOf(settings: ActuationSettings): Resource[] {
  return (Object.keys(settings.targets) as Resource[]).filter((resource) => actuationTargetOf(settings, resource) !== undefined);
}
