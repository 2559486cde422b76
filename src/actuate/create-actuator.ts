import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Clock } from '../core/index.js';
import type { Timers } from '../engine/index.js';
import { type ActuationMetrics, noopActuationMetrics } from './actuation-metrics.js';
import { type ActuationSession, type ActuationSettings, type Actuator, PatchingActuator } from './actuator.js';
import { type KubeEnvironment, processKubeEnvironment } from './kube-environment.js';
import type { SessionContext } from './kube-session.js';

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

const nodeTimers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

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
  const context: SessionContext = {
    clock,
    log,
    metrics,
    environment,
    timers: options.timers ?? nodeTimers,
    random: options.random ?? Math.random,
    ...(options.kubeConfig === undefined ? {} : { kubeConfig: options.kubeConfig }),
  };
  // The Kubernetes client (tens of MB resident) loads only when actuation is enabled and starts.
  const connect = async (settings: ActuationSettings): Promise<ActuationSession> => (await import('./kube-session.js')).connectSession(context, settings);
  return new PatchingActuator({ config: options.config, clock, logger: log, metrics, connect });
}
