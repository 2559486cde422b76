/**
 * Which certificate authorities the external-metrics server trusts, and for what: client
 * certificates that authenticate as themselves (`clientCAs`, kube-apiserver's --client-ca-file),
 * and the front proxy whose X-Remote-* headers carry the user (`requestHeader`, the
 * --requestheader-* flags). The two roles are kept apart: a certificate is checked against each
 * pool on its own, by signature, so a certificate from the client CA never makes X-Remote-*
 * headers trusted, whatever else the client sends with it.
 */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { type ChainVerdict, verifyClientCertificate } from './chain-verification.js';

/** Front-proxy (aggregation layer) settings. Header names are lowercase, as Node delivers them. */
export interface RequestHeaderSettings {
  readonly clientCAs: readonly X509Certificate[];
  /** Common names the proxy certificate may have; empty allows any certificate from `clientCAs`. */
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly uidHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeaderPrefixes: readonly string[];
}

/** Everything the authenticator trusts. Replaced as a whole when a file or the ConfigMap changes. */
export interface TrustSettings {
  readonly clientCAs: readonly X509Certificate[];
  readonly requestHeader?: RequestHeaderSettings;
}

/** The client certificate of a TLS connection. */
export interface PeerCertificateInfo {
  /** True when the TLS layer verified the chain against the CAs it was given (all of them). */
  readonly authorized: boolean;
  /** The presented chain, leaf first, as Node links it (by issuer name, not signature). */
  readonly chain: readonly X509Certificate[];
}

const peers = new WeakMap<TLSSocket, PeerCertificateInfo>();

/**
 * The client certificate of a TLS connection, leaf first, built once per connection (so that
 * {@link verifyPeer} and {@link leafIdentity} remember their answers for its keep-alive life).
 */
export function tlsPeer(socket: TLSSocket): PeerCertificateInfo {
  let peer = peers.get(socket);
  if (peer !== undefined) return peer;
  const chain: X509Certificate[] = [];
  let current = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (current !== undefined && current !== null && current.raw !== undefined && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(new X509Certificate(current.raw));
    const issuer = (current as { issuerCertificate?: typeof current }).issuerCertificate;
    if (issuer === undefined || issuer === current) break;
    current = issuer;
  }
  peer = { authorized: socket.authorized, chain };
  peers.set(socket, peer);
  return peer;
}

const verdictCache = new WeakMap<PeerCertificateInfo, Map<readonly X509Certificate[], ChainVerdict>>();

/**
 * Whether the peer's leaf certificate verifies by signature against `anchors` ALONE, with the rest
 * of its chain as untrusted intermediates (chain-verification.ts has the rules). The TLS layer
 * must have accepted the chain too. `wallClockMs` is the time validity is checked at.
 *
 * A connection's certificate never changes, so the verdict is remembered per connection and per
 * anchor list (a reload brings a new list): a keep-alive connection from the aggregator carries
 * thousands of requests, and each then costs two comparisons. An accepted verdict is recomputed
 * once the time leaves the span in which every certificate of its path is valid; a refusal holds
 * for the connection's life (a client fixes its certificate on a new connection).
 */
export function verifyPeer(peer: PeerCertificateInfo | undefined, anchors: readonly X509Certificate[], wallClockMs: number): ChainVerdict {
  const leaf = peer?.chain[0];
  if (peer === undefined || leaf === undefined) return { ok: false, signedByPool: false, reason: 'no client certificate was presented' };
  if (anchors.length === 0) return { ok: false, signedByPool: false, reason: 'no CA is trusted for this role' };
  let perPeer = verdictCache.get(peer);
  const cached = perPeer?.get(anchors);
  if (cached !== undefined && (!cached.ok || (wallClockMs >= cached.validFromMs && wallClockMs <= cached.validUntilMs))) return cached;
  let verdict = verifyClientCertificate(leaf, peer.chain.slice(1), anchors, { nowMs: wallClockMs });
  if (verdict.ok && !peer.authorized) verdict = { ok: false, signedByPool: true, reason: 'the TLS layer did not accept the certificate chain' };
  if (perPeer === undefined) {
    perPeer = new Map();
    verdictCache.set(peer, perPeer);
  }
  perPeer.set(anchors, verdict);
  return verdict;
}

const leafCache = new WeakMap<PeerCertificateInfo, { readonly commonName: string | undefined; readonly organizations: readonly string[] }>();

/**
 * The leaf certificate's CN and O values, computed once per connection (a keep-alive connection
 * from the aggregator carries thousands of requests). Use only after {@link verifyPeer} accepted it.
 */
export function leafIdentity(peer: PeerCertificateInfo): { readonly commonName: string | undefined; readonly organizations: readonly string[] } {
  let identity = leafCache.get(peer);
  if (identity === undefined) {
    const leaf = peer.chain[0];
    identity = leaf === undefined ? { commonName: undefined, organizations: [] } : subjectNames(leaf);
    leafCache.set(peer, identity);
  }
  return identity;
}

/** The subject's CN and O values of a certificate. */
export function subjectNames(certificate: X509Certificate): { readonly commonName: string | undefined; readonly organizations: readonly string[] } {
  let commonName: string | undefined;
  const organizations: string[] = [];
  // Node prints the subject one attribute per line ("CN=front-proxy-client\nO=system:masters").
  for (const line of certificate.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'CN') commonName ??= value;
    else if (key === 'O') organizations.push(value);
  }
  return { commonName, organizations };
}
