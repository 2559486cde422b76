/**
 * Delegated authentication and authorization: the ports to the Kubernetes TokenReview and
 * SubjectAccessReview APIs, and a short-lived cache in front of them (kube-apiserver's own
 * delegated defaults are 10 s), so that an HPA polling every 15 s costs the API server little.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../core/index.js';
import type { AccessAttributes, UserInfo } from './identity.js';

/** The outcome of a TokenReview. */
export type TokenReviewResult = { readonly authenticated: true; readonly user: UserInfo } | { readonly authenticated: false; readonly error?: string };

/** Checks a bearer token. Rejects when the review itself could not be made (API server unreachable). */
export interface TokenReviewer {
  review(token: string): Promise<TokenReviewResult>;
}

/** The outcome of a SubjectAccessReview. */
export interface AccessReviewResult {
  readonly allowed: boolean;
  readonly reason?: string;
  readonly evaluationError?: string;
}

/** Checks an access. Rejects when the review itself could not be made. */
export interface AccessReviewer {
  review(user: UserInfo, attributes: AccessAttributes): Promise<AccessReviewResult>;
}

/** How a review cache behaves. */
export interface ReviewCacheOptions {
  readonly clock: Clock;
  /** How long an answer is reused. */
  readonly ttlSeconds: number;
  /** Most answers kept; the oldest go first. */
  readonly maxEntries?: number;
}

/**
 * A time-bounded, size-bounded cache of review answers with in-flight sharing: concurrent requests
 * for the same key wait for one review. Failed reviews are not cached, so an outage heals as soon as
 * the API server answers again.
 */
class ReviewCache<T> {
  readonly #entries = new Map<string, { readonly value: T; readonly expiresAtMs: number }>();
  readonly #inFlight = new Map<string, Promise<T>>();
  readonly #options: Required<ReviewCacheOptions>;

  constructor(options: ReviewCacheOptions) {
    this.#options = { maxEntries: 10_000, ...options };
  }

  get(key: string, load: () => Promise<T>): Promise<T> {
    const nowMs = this.#options.clock.nowMs();
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expiresAtMs > nowMs) return Promise.resolve(entry.value);
    if (entry !== undefined) this.#entries.delete(key);
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const loading = load().then(
      (value) => {
        this.#inFlight.delete(key);
        if (this.#options.ttlSeconds > 0) {
          if (this.#entries.size >= this.#options.maxEntries) {
            const oldest = this.#entries.keys().next();
            if (oldest.done !== true) this.#entries.delete(oldest.value);
          }
          this.#entries.set(key, { value, expiresAtMs: this.#options.clock.nowMs() + this.#options.ttlSeconds * 1000 });
        }
        return value;
      },
      (error: unknown) => {
        this.#inFlight.delete(key);
        throw error;
      },
    );
    this.#inFlight.set(key, loading);
    return loading;
  }
}

/** A TokenReviewer that reuses answers for `ttlSeconds`. Tokens are kept only as SHA-256 digests. */
export function cachedTokenReviewer(inner: TokenReviewer, options: ReviewCacheOptions): TokenReviewer {
  const cache = new ReviewCache<TokenReviewResult>(options);
  return { review: (token) => cache.get(createHash('sha256').update(token).digest('hex'), () => inner.review(token)) };
}

/** A stable key of a user and an access. */
function accessKey(user: UserInfo, attributes: AccessAttributes): string {
  const extra = Object.keys(user.extra)
    .sort()
    .map((k) => [k, [...(user.extra[k] ?? [])].sort()]);
  return JSON.stringify([user.username, user.uid ?? '', [...user.groups].sort(), extra, attributes]);
}

/** An AccessReviewer that reuses answers (allowed and denied alike) for `ttlSeconds`. */
export function cachedAccessReviewer(inner: AccessReviewer, options: ReviewCacheOptions): AccessReviewer {
  const cache = new ReviewCache<AccessReviewResult>(options);
  return { review: (user, attributes) => cache.get(accessKey(user, attributes), () => inner.review(user, attributes)) };
}
