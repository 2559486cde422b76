import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../core/index.js';
import type { Timers } from '../engine/index.js';
import type { ActuationMetrics } from './actuation-metrics.js';
import type { ActuationSession, ActuationSettings } from './actuator.js';
import { SoleElection } from './election.js';
import { type KubeConnection, providedKubeConnection, resolveKubeConnection } from './kube-connection.js';
import { defaultIdentity, type KubeEnvironment } from './kube-environment.js';
import { KubernetesLeaseStore } from './kubernetes-lease-store.js';
import { KubernetesWorkloadScaler } from './kubernetes-workload-scaler.js';
import { LeaderElector } from './leader-elector.js';

/**
 * The part of actuation that needs `@kubernetes/client-node`: finding the cluster and building the
 * Lease election and the workload scaler. `createActuator` imports this file only when actuation
 * is enabled, so a service that only publishes forecasts never loads the client.
 */

/** What {@link connectSession} needs from `createActuator`'s options, defaults filled in. */
export interface SessionContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ActuationMetrics;
  readonly environment: KubeEnvironment;
  readonly timers: Timers;
  readonly random: () => number;
  readonly kubeConfig?: KubeConfig;
}

/**
 * Lease requests give up after half the renew deadline, so that a hung request still leaves
 * time for one more attempt before leadership lapses.
 */
const leaseTimeoutShare = 0.5;
/** Patches and reads of workloads give up after this many seconds; the next cycle retries. */
const patchTimeoutSeconds = 10;

/**
 * Finds the cluster and builds the session; a dry run without one acts as the only replica.
 */
export function connectSession(context: SessionContext, settings: ActuationSettings): ActuationSession {
  const { clock, log, metrics, environment } = context;
  const connection: KubeConnection = context.kubeConfig === undefined ? resolveKubeConnection(environment) : providedKubeConnection(context.kubeConfig);
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
    timers: context.timers,
    logger: log.child({ lease: `${lease.namespace}/${lease.name}` }),
    random: context.random,
    onLeadership: (leader) => metrics.setLeader(leader),
  });
  log.info({ server: connection.server, source: connection.source, lease: `${lease.namespace}/${lease.name}`, identity }, 'connected to the Kubernetes API for actuation');
  return {
    connected: true,
    election: elector,
    scaler: new KubernetesWorkloadScaler(connection.kubeConfig, patchTimeoutSeconds),
    connection: `${connection.kind} (${connection.server})`,
  };
}
