/** The kinds of workload whose scale subresource actuation patches. */
export type WorkloadKind = 'Deployment' | 'StatefulSet';

/** A Deployment or StatefulSet. */
export interface WorkloadTarget {
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly namespace: string;
}

/** The ConfigMap data key that holds the database connection pool size. */
export interface PoolSizeTarget {
  readonly name: string;
  readonly namespace: string;
  readonly key: string;
}

/**
 * Writes replica counts and the pool size to the cluster. Every method throws on failure (an
 * error whose message names the object and the API answer); the caller counts it and retries on
 * its next cycle. Methods may run concurrently for different objects.
 */
export interface WorkloadScaler {
  /** The replicas the workload's scale subresource asks for now (`spec.replicas`). */
  readReplicas(target: WorkloadTarget): Promise<number>;
  /** Sets `spec.replicas` of the workload's scale subresource. */
  setReplicas(target: WorkloadTarget, replicas: number): Promise<void>;
  /** Sets the pool size key of the ConfigMap (as a decimal string, as ConfigMap data must be). */
  setPoolSize(target: PoolSizeTarget, size: number): Promise<void>;
}
