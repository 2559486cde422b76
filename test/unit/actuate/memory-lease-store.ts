import { LeaseConflictError, type LeaseRecord, type LeaseStore, type StoredLease } from '../../../src/actuate/index.js';

/**
 * One Lease shared by several replicas in memory, with the API server's optimistic concurrency:
 * a write at a stale resourceVersion, or a create of an existing Lease, is a conflict. Every call
 * yields once before it touches the record, so replicas driven concurrently really interleave.
 */
export class MemoryLease {
  #stored: StoredLease | undefined;
  #version = 0;
  /** Set to make every call fail, as an unreachable API server would. */
  failure: Error | undefined;
  readonly writes: { readonly by: string; readonly record: LeaseRecord }[] = [];

  get current(): StoredLease | undefined {
    return this.#stored;
  }

  /** The store one replica sees (`by` names it in `writes`). */
  storeFor(by: string): LeaseStore {
    return {
      get: async () => {
        await this.#yield();
        return this.#stored;
      },
      create: async (record) => {
        await this.#yield();
        if (this.#stored !== undefined) throw new LeaseConflictError('already exists');
        return this.#write(by, record);
      },
      update: async (record, resourceVersion) => {
        await this.#yield();
        if (this.#stored === undefined) throw new Error('not found');
        if (this.#stored.resourceVersion !== resourceVersion) throw new LeaseConflictError('conflict');
        return this.#write(by, record);
      },
    };
  }

  async #yield(): Promise<void> {
    await Promise.resolve();
    if (this.failure !== undefined) throw this.failure;
  }

  #write(by: string, record: LeaseRecord): StoredLease {
    this.#stored = { record, resourceVersion: String(++this.#version) };
    this.writes.push({ by, record });
    return this.#stored;
  }
}
