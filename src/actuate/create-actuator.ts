import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Clock } from '../core/index.js';
import type { Timers } from '../engine/index.js';
import { type ActuationMetrics, noopActuationMetrics } from './actuation-metrics.js';
import { type ActuationSession, type ActuationSettings, type Actuator, PatchingActuator } from './actuator.js';
import { SoleElection } from './election.js';
import { type KubeConnection, type KubeEnvironment, processKubeEnvironment, providedKubeConnection, resolveKubeConnection } from './kube-connection.js';
import { KubernetesLeaseStore } from './kubernetes-lease-store.js';
import { KubernetesWorkloadScaler } from './kubernetes-workload-scaler.js';
import { LeaderElector } from './leader-elector.js';

/** What {@link createActuator} needs; only `config`, `clock` and `logger` are required. */
export interface CreateActuatorOptions {
  /** The current configuration (the service's hot-reloading accessor). */
  readonly config: () => Config;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where patches and leadership are counted (publish/ implements it on the catalog). */
  readonly metrics?: ActuationMetrics;
  /** The cluster to use; found by {@link resolveKubeConnection} when absent. */
  readonly kubeConfig?: KubeConfig;
  /** Timers of the election loop; Node's own (unref'd) when absent. */
  readonly timers?: Timers;
  /** What connection resolution and the default identity look at; the process's own when absent. */
  readonly environment?: KubeEnvironment;
  /** Draws the election's jitter; Math.random when absent. */
  readonly random?: () => number;
}

/**
 * Lease requests give up after half the renew deadline, so that a hung request still leaves
 * time for one more attempt before leadership lapses.
 */
const leaseTimeoutShare = 0.5;
/** Patches and reads of workloads give up after this many seconds; the next cycle retries. */
const patchTimeoutSeconds = 10;

const nodeTimers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * This replica's name in the Lease: the configured identity, else the pod name (POD_NAME, set
 * from the downward API) or the hostname, plus a random suffix. The suffix is what
 * kube-controller-manager adds too: two processes on one host, or a restarted pod whose old
 * process still runs, must never share an identity, or both would believe they hold the Lease.
 */
export function defaultIdentity(env: Readonly<Record<string, string | undefined>>, host: string = hostname()): string {
  const base = (env['POD_NAME'] ?? '') !== '' ? env['POD_NAME']! : host;
  return `${base}_${randomUUID().slice(0, 8)}`;
}

/**
 * Builds the actuator from the configuration. Nothing happens until `start()`: then, when
 * `actuation.enabled` is true, it finds the cluster (in-cluster service account, else KUBECONFIG
 * or ~/.kube/config) and starts leader election on the configured Lease. Without a cluster, a
 * dry run still logs what it would do (as the only replica); a live run stays off with an error
 * log naming why.
 */
export function createActuator(options: CreateActuatorOptions): Actuator {
  const { clock, logger } = options;
  const log = logger.child({ module: 'actuate' });
  const metrics = options.metrics ?? noopActuationMetrics;
  const environment = options.environment ?? processKubeEnvironment();
  const connect = (settings: ActuationSettings): ActuationSession => {
    const connection: KubeConnection = options.kubeConfig === undefined ? resolveKubeConnection(environment) : providedKubeConnection(options.kubeConfig);
    const election = settings.leaderElection;
    const identity = election.identity ?? defaultIdentity(environment.env);
    if (connection.kind === 'none') {
      if (!settings.dryRun) return { connected: false, reason: connection.reason };
      log.warn({ reason: connection.reason }, 'no Kubernetes API for the dry run: acting as the only replica, without leader election');
      return { connected: true, election: new SoleElection(identity), scaler: undefined, connection: `none (${connection.reason})` };
    }
    const lease = { name: election.leaseName, namespace: election.leaseNamespace ?? connection.namespace ?? 'default' };
    const elector = new LeaderElector({
      store: new KubernetesLeaseStore(connection.kubeConfig, lease, election.renewDeadline * leaseTimeoutShare),
      identity,
      timing: { leaseDurationSeconds: election.leaseDuration, renewDeadlineSeconds: election.renewDeadline, retryPeriodSeconds: election.retryPeriod },
      clock,
      timers: options.timers ?? nodeTimers,
      logger: log.child({ lease: `${lease.namespace}/${lease.name}` }),
      random: options.random ?? Math.random,
      onLeadership: (leader) => metrics.setLeader(leader),
    });
    log.info({ server: connection.server, source: connection.source, lease: `${lease.namespace}/${lease.name}`, identity }, 'connected to the Kubernetes API for actuation');
    return {
      connected: true,
      election: elector,
      scaler: new KubernetesWorkloadScaler(connection.kubeConfig, patchTimeoutSeconds),
      connection: `${connection.kind} (${connection.server})`,
    };
  };
  return new PatchingActuator({ config: options.config, clock, logger: log, metrics, connect });
}
