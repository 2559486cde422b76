import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { z } from 'zod';
import { fieldManager, requestOptions, statusOf, toApiError } from './kubernetes-api.js';
import type { LeaseRecord } from './lease-election.js';
import { LeaseConflictError, type LeaseStore, type StoredLease } from './lease-store.js';

/** Where the Lease is. */
export interface LeaseRef {
  readonly name: string;
  readonly namespace: string;
}

/**
 * The Lease spec as read from the API. Parsed rather than trusted: another program may have
 * written the object, and client-node hands times of type MicroTime over as raw strings even
 * though its types say Date.
 */
const leaseSpecSchema = z.looseObject({
  holderIdentity: z.string().optional(),
  leaseDurationSeconds: z.number().int().optional(),
  acquireTime: z.union([z.string(), z.date()]).optional(),
  renewTime: z.union([z.string(), z.date()]).optional(),
  leaseTransitions: z.number().int().nonnegative().optional(),
});

function timeMs(value: string | Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The LeaseStore of a coordination.k8s.io/v1 Lease, through @kubernetes/client-node. */
export class KubernetesLeaseStore implements LeaseStore {
  readonly #api: CoordinationV1Api;
  readonly #lease: LeaseRef;
  readonly #timeoutMs: number;
  readonly #where: string;

  /** `timeoutSeconds` bounds each request, so that a hung API server cannot stall the election. */
  constructor(kubeConfig: KubeConfig, lease: LeaseRef, timeoutSeconds: number) {
    this.#api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.#lease = lease;
    this.#timeoutMs = timeoutSeconds * 1000;
    this.#where = `lease ${lease.namespace}/${lease.name}`;
  }

  async get(): Promise<StoredLease | undefined> {
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name: this.#lease.name, namespace: this.#lease.namespace }, requestOptions(this.#timeoutMs));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toApiError(`GET ${this.#where}`, error);
    }
    return this.#stored(lease, 'GET');
  }

  async create(record: LeaseRecord): Promise<StoredLease> {
    let lease: V1Lease;
    try {
      lease = await this.#api.createNamespacedLease({ namespace: this.#lease.namespace, body: this.#body(record, undefined), fieldManager }, requestOptions(this.#timeoutMs));
    } catch (error) {
      throw this.#writeError('POST', error);
    }
    return this.#stored(lease, 'POST');
  }

  async update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease> {
    let lease: V1Lease;
    try {
      lease = await this.#api.replaceNamespacedLease(
        { name: this.#lease.name, namespace: this.#lease.namespace, body: this.#body(record, resourceVersion), fieldManager },
        requestOptions(this.#timeoutMs),
      );
    } catch (error) {
      throw this.#writeError('PUT', error);
    }
    return this.#stored(lease, 'PUT');
  }

  #writeError(method: string, error: unknown): Error {
    // 409 is AlreadyExists on create and Conflict (stale resourceVersion) on replace: both mean
    // that another replica wrote first.
    if (statusOf(error) === 409) return new LeaseConflictError(`${method} ${this.#where}: another replica wrote it first`, { cause: error });
    return toApiError(`${method} ${this.#where}`, error);
  }

  /**
   * The object to write. Times are V1MicroTime, which client-node serialises with the six
   * fractional digits the API server's MicroTime requires (a plain Date's three are refused).
   */
  #body(record: LeaseRecord, resourceVersion: string | undefined): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#lease.name, namespace: this.#lease.namespace, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        ...(record.acquireTimeMs === undefined ? {} : { acquireTime: new V1MicroTime(record.acquireTimeMs) }),
        ...(record.renewTimeMs === undefined ? {} : { renewTime: new V1MicroTime(record.renewTimeMs) }),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }

  #stored(lease: V1Lease, method: string): StoredLease {
    const resourceVersion = lease.metadata?.resourceVersion;
    if (resourceVersion === undefined || resourceVersion === '') throw new Error(`${method} ${this.#where}: the answer has no metadata.resourceVersion`);
    const parsed = leaseSpecSchema.safeParse(lease.spec ?? {});
    if (!parsed.success) throw new Error(`${method} ${this.#where}: unexpected spec: ${z.prettifyError(parsed.error)}`);
    const spec = parsed.data;
    return {
      resourceVersion,
      record: {
        holderIdentity: spec.holderIdentity ?? '',
        leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
        acquireTimeMs: timeMs(spec.acquireTime),
        renewTimeMs: timeMs(spec.renewTime),
        leaseTransitions: spec.leaseTransitions ?? 0,
      },
    };
  }
}
