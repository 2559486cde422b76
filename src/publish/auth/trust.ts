/**
 * Which certificate authorities the external-metrics server trusts, and for what: client
 * certificates that authenticate as themselves (`clientCAs`, kube-apiserver's --client-ca-file),
 * and the front proxy whose X-Remote-* headers carry the user (`requestHeader`, the
 * --requestheader-* flags). The two roles are kept apart: a certificate from the client CA never
 * makes X-Remote-* headers trusted.
 */
import type { X509Certificate } from 'node:crypto';

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
  /** The presented chain, leaf first. */
  readonly chain: readonly X509Certificate[];
}

/** The extendedKeyUsage OID of TLS client authentication. */
const clientAuthOid = '1.3.6.1.5.5.7.3.2';

const anchorCache = new WeakMap<PeerCertificateInfo, Map<readonly X509Certificate[], boolean>>();

/**
 * True when the peer's verified chain ends at one of `anchors`. The TLS layer already checked the
 * chain and validity against the union of all trusted CAs; this tells which of them it chains to.
 * Results are remembered per connection (and per anchor list), since a connection's certificate
 * never changes.
 */
export function chainsTo(peer: PeerCertificateInfo | undefined, anchors: readonly X509Certificate[]): boolean {
  if (peer === undefined || !peer.authorized || peer.chain.length === 0 || anchors.length === 0) return false;
  let perPeer = anchorCache.get(peer);
  const cached = perPeer?.get(anchors);
  if (cached !== undefined) return cached;
  const result = peer.chain.some((certificate) =>
    anchors.some((anchor) => certificate.fingerprint256 === anchor.fingerprint256 || (certificate.checkIssued(anchor) && certificate.verify(anchor.publicKey))),
  );
  if (perPeer === undefined) {
    perPeer = new Map();
    anchorCache.set(peer, perPeer);
  }
  perPeer.set(anchors, result);
  return result;
}

/** True when the leaf may be used for TLS client authentication (no extendedKeyUsage means any use). */
export function allowsClientAuth(leaf: X509Certificate): boolean {
  const usages = leaf.keyUsage as readonly string[] | undefined;
  return usages === undefined || usages.length === 0 || usages.includes(clientAuthOid);
}

const leafCache = new WeakMap<PeerCertificateInfo, { readonly commonName: string | undefined; readonly organizations: readonly string[]; readonly clientAuth: boolean }>();

/**
 * The leaf certificate's CN, O values and whether it allows client authentication, computed once per
 * connection (a keep-alive connection from the aggregator carries thousands of requests).
 */
export function leafIdentity(peer: PeerCertificateInfo): { readonly commonName: string | undefined; readonly organizations: readonly string[]; readonly clientAuth: boolean } {
  let identity = leafCache.get(peer);
  if (identity === undefined) {
    const leaf = peer.chain[0];
    identity = leaf === undefined ? { commonName: undefined, organizations: [], clientAuth: false } : { ...subjectNames(leaf), clientAuth: allowsClientAuth(leaf) };
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
