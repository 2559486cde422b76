/**
 * Authentication of external-metrics requests, in the order and with the rules of Kubernetes'
 * delegated authentication for extension API servers:
 *
 * 1. Front proxy: a client certificate whose leaf verifies by signature against the request-header
 *    CA alone (chain-verification.ts), with a common name in the allowed names (any, when the
 *    list is empty). Only then are `X-Remote-User`, `X-Remote-Group`, `X-Remote-Extra-*` and
 *    `X-Remote-Uid` read. A proxy certificate without a user header authenticates nothing by
 *    itself (the next steps still apply).
 * 2. Client certificate: a leaf that verifies by signature against the client CA alone is the
 *    user `CN` in groups `O`; X-Remote-* headers are ignored.
 * 3. Bearer token: checked with a TokenReview, when one is configured.
 * 4. Anything else is anonymous, and refused (401).
 */
import { failureMessage } from './messages.js';
import type { AuthenticationMethod, UserInfo } from './identity.js';
import type { TokenReviewer } from './reviews.js';
import { leafIdentity, type PeerCertificateInfo, type RequestHeaderSettings, type TrustSettings, verifyPeer } from './trust.js';

/** Request headers as Node's `headersDistinct` gives them: lowercase names, every value kept. */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

/** What authentication looks at. */
export interface AuthenticationRequest {
  readonly peer: PeerCertificateInfo | undefined;
  readonly headers: DistinctHeaders;
}

/** Who the request is from, or why it is refused (401, or 503 when a TokenReview could not be made). */
export type AuthenticationResult = { readonly ok: true; readonly user: UserInfo; readonly method: AuthenticationMethod } | { readonly ok: false; readonly code: 401 | 503; readonly message: string };

/** The authentication port. Never rejects. */
export interface Authenticator {
  authenticate(request: AuthenticationRequest): Promise<AuthenticationResult>;
}

/** What the authenticator trusts; `trust` is read per request so that reloads apply at once. */
export interface AuthenticatorOptions {
  readonly trust: () => TrustSettings;
  /** Present when bearer tokens are checked with a TokenReview. */
  readonly tokenReviewer?: TokenReviewer | undefined;
  /**
   * The time certificates' validity is checked at (default: the system clock). Not the service's
   * clock, which may replay the past: the TLS layer and the client judge validity by wall time.
   */
  readonly wallClockMs?: () => number;
}

function firstValue(headers: DistinctHeaders, names: readonly string[]): string | undefined {
  for (const name of names) {
    for (const value of headers[name] ?? []) if (value !== '') return value;
  }
  return undefined;
}

/** Extra keys are lowercase and path-unescaped, as Kubernetes' request-header authenticator does. */
function extraKey(raw: string): string {
  try {
    return decodeURIComponent(raw.toLowerCase());
  } catch {
    return raw.toLowerCase();
  }
}

/** The user the front proxy vouches for, an error, or undefined when it names no user. */
function fromRequestHeaders(request: AuthenticationRequest, settings: RequestHeaderSettings, nowMs: number): { user: UserInfo } | { error: string } | undefined {
  const verdict = verifyPeer(request.peer, settings.clientCAs, nowMs);
  if (!verdict.ok) return verdict.signedByPool ? { error: `the front-proxy client certificate is refused: ${verdict.reason}` } : undefined;
  const { commonName } = leafIdentity(request.peer!);
  if (settings.allowedNames.length > 0 && (commonName === undefined || !settings.allowedNames.includes(commonName))) {
    return { error: `the front-proxy client certificate CN ${JSON.stringify(commonName ?? '')} is not one of the allowed names (${settings.allowedNames.join(', ')})` };
  }
  const username = firstValue(request.headers, settings.usernameHeaders);
  if (username === undefined) return undefined;
  const groups = settings.groupHeaders.flatMap((name) => request.headers[name] ?? []);
  const extra: Record<string, string[]> = {};
  for (const name in request.headers) {
    const values = request.headers[name];
    const prefix = settings.extraHeaderPrefixes.find((p) => name.startsWith(p));
    if (prefix === undefined || values === undefined || name.length === prefix.length) continue;
    const key = extraKey(name.slice(prefix.length));
    extra[key] = [...(extra[key] ?? []), ...values];
  }
  const uid = firstValue(request.headers, settings.uidHeaders);
  return { user: { username, ...(uid === undefined ? {} : { uid }), groups, extra } };
}

function fromClientCertificate(request: AuthenticationRequest, clientCAs: TrustSettings['clientCAs'], nowMs: number): UserInfo | { error: string } | undefined {
  const verdict = verifyPeer(request.peer, clientCAs, nowMs);
  if (!verdict.ok) return verdict.signedByPool ? { error: `the client certificate is refused: ${verdict.reason}` } : undefined;
  const { commonName, organizations } = leafIdentity(request.peer!);
  if (commonName === undefined || commonName === '') return { error: 'the client certificate has no common name (CN) to use as the user name' };
  return { username: commonName, groups: organizations, extra: {} };
}

const bearerPattern = /^Bearer\s+(\S+)\s*$/i;

/**
 * Builds the authenticator. Front-proxy and certificate checks are synchronous and remembered per
 * connection; only a bearer token costs a (cached) TokenReview.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const wallClockMs = options.wallClockMs ?? Date.now;
  return {
    async authenticate(request) {
      const trust = options.trust();
      const nowMs = wallClockMs();
      const problems: string[] = [];
      if (trust.requestHeader !== undefined) {
        const proxied = fromRequestHeaders(request, trust.requestHeader, nowMs);
        if (proxied !== undefined && 'user' in proxied) return { ok: true, user: proxied.user, method: 'front-proxy' };
        if (proxied !== undefined) problems.push(proxied.error);
      }
      const certificateUser = fromClientCertificate(request, trust.clientCAs, nowMs);
      if (certificateUser !== undefined && 'username' in certificateUser) return { ok: true, user: certificateUser, method: 'client-certificate' };
      if (certificateUser !== undefined) problems.push(certificateUser.error);

      const authorization = request.headers['authorization']?.[0];
      const token = authorization === undefined ? undefined : bearerPattern.exec(authorization)?.[1];
      if (token !== undefined && options.tokenReviewer !== undefined) {
        try {
          const review = await options.tokenReviewer.review(token);
          if (review.authenticated) return { ok: true, user: review.user, method: 'token' };
          problems.push(`the bearer token was not accepted by the TokenReview${review.error === undefined ? '' : `: ${review.error}`}`);
        } catch (error) {
          return { ok: false, code: 503, message: `authentication is unavailable: the TokenReview could not be made (${failureMessage(error)})` };
        }
      } else if (token !== undefined) {
        problems.push('bearer tokens are not accepted here (externalMetrics.tokenReview is off)');
      }
      if (problems.length === 0) {
        problems.push(
          request.peer !== undefined && request.peer.chain.length > 0 ? 'the client certificate is not signed by a trusted CA' : 'no client certificate and no bearer token were presented',
        );
      }
      return { ok: false, code: 401, message: `Unauthorized: ${problems.join('; ')}` };
    },
  };
}
