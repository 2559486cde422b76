/**
 * Authorization of external-metrics requests, as Kubernetes' delegated authorizer does it: members
 * of `system:masters` are always allowed (the aggregator's availability checks run as
 * `system:kube-aggregator` in that group), everyone else is checked with a SubjectAccessReview when
 * one is configured, and allowed once authenticated when none is (local use, documented).
 */
import { type AccessAttributes, describeAccess, type UserInfo } from './identity.js';
import { failureMessage } from './messages.js';
import type { AccessReviewer } from './reviews.js';

/** Allowed, or refused with 403 (denied) or 503 (the review could not be made; the HPA then holds). */
export type AuthorizationDecision = { readonly allowed: true } | { readonly allowed: false; readonly code: 403 | 503; readonly message: string };

/** The authorization port. Never rejects. */
export interface Authorizer {
  authorize(user: UserInfo, attributes: AccessAttributes): Promise<AuthorizationDecision>;
}

/** Groups that are never reviewed (the generic apiserver's AlwaysAllowGroups default). */
export const alwaysAllowGroups: readonly string[] = Object.freeze(['system:masters']);

const allowed: AuthorizationDecision = Object.freeze({ allowed: true });

/** Builds the authorizer; without a reviewer every authenticated user is allowed. */
export function createAuthorizer(options: { readonly accessReviewer?: AccessReviewer | undefined; readonly alwaysAllowGroups?: readonly string[] }): Authorizer {
  const trustedGroups = options.alwaysAllowGroups ?? alwaysAllowGroups;
  return {
    async authorize(user, attributes) {
      if (options.accessReviewer === undefined || user.groups.some((g) => trustedGroups.includes(g))) return allowed;
      try {
        const review = await options.accessReviewer.review(user, attributes);
        if (review.allowed) return allowed;
        const why = review.reason ?? review.evaluationError;
        return { allowed: false, code: 403, message: `forbidden: ${describeAccess(user, attributes)}${why === undefined || why === '' ? '' : `: ${why}`}` };
      } catch (error) {
        return { allowed: false, code: 503, message: `authorization is unavailable: the SubjectAccessReview could not be made (${failureMessage(error)})` };
      }
    },
  };
}
