/**
 * Who a request comes from, and what it asks to do: the vocabulary shared by authentication
 * (front-proxy headers, client certificates, TokenReview) and authorization (SubjectAccessReview).
 * Field meanings are those of Kubernetes `user.Info` and `authorizer.Attributes`.
 */

/** An authenticated user. `extra` keys are lowercase, as Kubernetes normalises them. */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** How a user was authenticated. */
export type AuthenticationMethod = 'front-proxy' | 'client-certificate' | 'token';

/** What a request does, in the terms a SubjectAccessReview uses. */
export type AccessAttributes =
  | {
      readonly kind: 'resource';
      readonly verb: 'list';
      readonly group: string;
      readonly version: string;
      /** The metric name. */
      readonly resource: string;
      readonly namespace: string;
    }
  | { readonly kind: 'nonResource'; readonly verb: 'get'; readonly path: string };

/** A short human description of an access, in Kubernetes' own words, for 403 messages. */
export function describeAccess(user: UserInfo, attributes: AccessAttributes): string {
  return attributes.kind === 'resource'
    ? `User ${JSON.stringify(user.username)} cannot ${attributes.verb} resource ${JSON.stringify(attributes.resource)} in API group ${JSON.stringify(attributes.group)} in the namespace ${JSON.stringify(attributes.namespace)}`
    : `User ${JSON.stringify(user.username)} cannot ${attributes.verb} path ${JSON.stringify(attributes.path)}`;
}
