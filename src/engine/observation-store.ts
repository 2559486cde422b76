import type { Resource } from '../core/index.js';
import type { ResourceObservation } from '../forecast/index.js';

/**
 * Where the resource optimizer's observations survive restarts (a port: the composition root
 * adapts training's file log onto it). Without one, a restart forgets what the optimizer learnt
 * from, and it needs saturated history again before it recommends.
 */
export interface ObservationStore {
  /** The stored observations of a resource, oldest first, at most `max`; never rejects (a bad store reads as empty). */
  load(resource: Resource, max: number): Promise<ResourceObservation[]>;
  /** Adds observations (newest last), keeping about `max`; never rejects (the adapter reports its own failures). */
  append(resource: Resource, observations: readonly ResourceObservation[], max: number): Promise<void>;
}
