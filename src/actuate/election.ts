/** Tells whether this replica may act now. */
export interface Election {
  /** True while this replica leads; false before the first successful attempt and after stop. */
  isLeader(): boolean;
  /** This replica's identity in the Lease (for logs and status). */
  readonly identity: string;
  /** Starts the attempts (idempotent). */
  start(): void;
  /** Stops the attempts and gives the Lease up if this replica holds it. */
  stop(): Promise<void>;
}

/**
 * The election of a replica that is alone by construction: used only for a dry run without a
 * Kubernetes connection, where there is no Lease to hold and nothing is ever written.
 */
export class SoleElection implements Election {
  readonly identity: string;
  #running = false;

  constructor(identity: string) {
    this.identity = identity;
  }

  isLeader(): boolean {
    return this.#running;
  }

  start(): void {
    this.#running = true;
  }

  stop(): Promise<void> {
    this.#running = false;
    return Promise.resolve();
  }
}
