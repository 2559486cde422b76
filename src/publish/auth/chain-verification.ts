/**
 * Verifies a TLS client certificate against ONE pool of trust anchors, independently of the TLS
 * layer, the way kube-apiserver's x509 authenticators call Go's `Certificate.Verify` with
 * `Roots` = that pool alone, `Intermediates` = what the client sent, and `KeyUsages` = client auth.
 *
 * Why a second verification: the TLS server is given the union of the client CA and the
 * front-proxy CA, so `socket.authorized` says only that SOME path reaches SOME trusted CA, and
 * the chain Node shows (`getPeerCertificate(true)`) is the one the client sent, linked by issuer
 * name and key identifier, not by signature. Which CA vouches for the leaf, and so which identity
 * it gets, is decided here, by signatures.
 *
 * Contract. `verifyClientCertificate(leaf, presented, anchors, { nowMs })` accepts exactly when
 * there is a path `leaf → i1 → … → ik → anchor` with `anchor` in `anchors`, `i1…ik` taken from
 * `presented` (untrusted; any order; duplicates and copies of anchors are harmless) and
 * `k ≤ maxIntermediates`, such that:
 * - every link is a signature: each certificate names the next as issuer (OpenSSL's
 *   `X509_check_issued` through `checkIssued`: names, key identifiers, and the issuer's keyUsage
 *   allows certificate signing) AND its signature verifies with the next one's public key;
 * - every certificate of the path, the anchor included, is valid at `nowMs`;
 * - every issuer (intermediate or anchor) has basicConstraints `CA:TRUE`, `keyCertSign` when it
 *   has a keyUsage, and a pathLenConstraint (if any) at least the number of intermediates below it;
 * - the leaf is not a CA, its extendedKeyUsage (if any) includes clientAuth or
 *   anyExtendedKeyUsage, and its keyUsage (if any) includes digitalSignature or keyAgreement;
 * - every issuer's extendedKeyUsage (if any) also includes clientAuth or anyExtendedKeyUsage, as
 *   Go requires of the whole chain;
 * - no certificate of the path has a critical extension other than basicConstraints, keyUsage,
 *   extendedKeyUsage, subjectAltName, issuerAltName, key identifiers or certificatePolicies, and
 *   none has nameConstraints (not evaluated here, so refused rather than ignored).
 * Otherwise it refuses, saying whether any signature path to the pool exists (`signedByPool`), so
 * that callers tell "not ours" from "ours, but invalid", with a reason naming the certificate.
 *
 * Pure (the time is an argument), no I/O. The work is bounded whatever the client sends: at most
 * `maxIntermediates` intermediates per path, {@link maxSignatureChecks} signature checks and
 * {@link maxCandidateChecks} issuer candidates per call; a search cut short refuses. Callers cache
 * the verdict per connection (trust.ts).
 */
import type { X509Certificate } from 'node:crypto';
import { type CertificateProfile, certificateProfile, extensionOids } from '../pki/index.js';

/** A verified path, leaf first, and the time span in which all of it is valid. */
export interface VerifiedChain {
  readonly ok: true;
  readonly path: readonly X509Certificate[];
  readonly validFromMs: number;
  readonly validUntilMs: number;
}

/** A refusal. `signedByPool` is true when a path of signatures reaches the pool but breaks a rule. */
export interface RefusedChain {
  readonly ok: false;
  readonly signedByPool: boolean;
  readonly reason: string;
}

export type ChainVerdict = VerifiedChain | RefusedChain;

export interface ChainVerificationOptions {
  /** The time to check validity at, ms since the epoch. */
  readonly nowMs: number;
  /** Intermediates allowed between the leaf and the anchor (default 4). */
  readonly maxIntermediates?: number;
}

/** Signature checks one call may make, whatever the client sends. */
export const maxSignatureChecks = 32;
/** Issuer candidates one call may consider (a name comparison each), whatever the client sends. */
export const maxCandidateChecks = 1_000;

const clientAuthOid = '1.3.6.1.5.5.7.3.2';
const anyExtendedKeyUsageOid = '2.5.29.37.0';
const handledCritical: ReadonlySet<string> = new Set([
  extensionOids.basicConstraints,
  extensionOids.keyUsage,
  extensionOids.extendedKeyUsage,
  extensionOids.subjectAltName,
  extensionOids.issuerAltName,
  extensionOids.subjectKeyIdentifier,
  extensionOids.authorityKeyIdentifier,
  extensionOids.certificatePolicies,
]);

/** The subject on one line, for messages. */
export function describeCertificate(certificate: X509Certificate): string {
  return JSON.stringify(certificate.subject.split('\n').join(', '));
}

function allowsClientAuth(profile: CertificateProfile): boolean {
  const usages = profile.extendedKeyUsage;
  return usages === undefined || usages.includes(clientAuthOid) || usages.includes(anyExtendedKeyUsageOid);
}

/** What is wrong with any certificate of a path, whatever its place. */
function commonProblem(certificate: X509Certificate, profile: CertificateProfile, nowMs: number): string | undefined {
  const name = describeCertificate(certificate);
  if (nowMs > profile.notAfterMs) return `${name} expired at ${new Date(profile.notAfterMs).toISOString()}`;
  if (nowMs < profile.notBeforeMs) return `${name} is not valid before ${new Date(profile.notBeforeMs).toISOString()}`;
  const unhandled = profile.criticalExtensions.find((oid) => !handledCritical.has(oid));
  if (unhandled !== undefined) return `${name} has a critical extension this server does not handle (${unhandled})`;
  if (profile.extensions.includes(extensionOids.nameConstraints)) return `${name} has nameConstraints, which this server does not evaluate`;
  return undefined;
}

function leafProblem(leaf: X509Certificate, profile: CertificateProfile, nowMs: number): string | undefined {
  const name = describeCertificate(leaf);
  if (profile.isCA) return `${name} is a CA certificate (basicConstraints CA:TRUE), not a client certificate`;
  if (!allowsClientAuth(profile)) return `${name} is not valid for client authentication (extendedKeyUsage)`;
  if (profile.keyUsage !== undefined && !profile.keyUsage.has('digitalSignature') && !profile.keyUsage.has('keyAgreement')) {
    return `${name} may not sign a TLS handshake (keyUsage has neither digitalSignature nor keyAgreement)`;
  }
  return commonProblem(leaf, profile, nowMs);
}

/** What is wrong with `issuer` signing for a path with `below` intermediates under it. */
function issuerProblem(issuer: X509Certificate, profile: CertificateProfile, below: number, nowMs: number): string | undefined {
  const name = describeCertificate(issuer);
  if (!profile.isCA) return `issuer ${name} is not a CA (basicConstraints lacks CA:TRUE)`;
  // checkIssued refuses such an issuer already; checked again so the rule does not rest on it.
  if (profile.keyUsage !== undefined && !profile.keyUsage.has('keyCertSign')) return `issuer ${name} may not sign certificates (keyUsage lacks keyCertSign)`;
  if (profile.maxPathLength !== undefined && below > profile.maxPathLength) {
    return `issuer ${name} allows ${profile.maxPathLength} intermediate certificate(s) below it (pathLenConstraint), the chain has ${below}`;
  }
  if (!allowsClientAuth(profile)) return `issuer ${name} restricts its certificates to extended key usages without client authentication`;
  return commonProblem(issuer, profile, nowMs);
}

/** The profile, or a refusal reason when the certificate cannot be read. */
function profileOf(certificate: X509Certificate): CertificateProfile | string {
  try {
    return certificateProfile(certificate);
  } catch (error) {
    return `${describeCertificate(certificate)} cannot be read (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** The path's rule violation, or undefined when every rule holds. */
function pathProblem(path: readonly X509Certificate[], nowMs: number): string | undefined {
  for (let index = 0; index < path.length; index++) {
    const certificate = path[index]!;
    const profile = profileOf(certificate);
    if (typeof profile === 'string') return profile;
    const problem = index === 0 ? leafProblem(certificate, profile, nowMs) : issuerProblem(certificate, profile, index - 1, nowMs);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Verifies `leaf` against `anchors`; see the module comment for the exact rules. */
export function verifyClientCertificate(leaf: X509Certificate, presented: readonly X509Certificate[], anchors: readonly X509Certificate[], options: ChainVerificationOptions): ChainVerdict {
  const maxIntermediates = options.maxIntermediates ?? 4;
  const anchorPrints = new Set(anchors.map((anchor) => anchor.fingerprint256));
  const seen = new Set<string>([leaf.fingerprint256]);
  // Copies of anchors and of the leaf are dropped: an anchor's authority comes from the pool only.
  const intermediates = presented.filter((certificate) => {
    const print = certificate.fingerprint256;
    if (seen.has(print) || anchorPrints.has(print)) return false;
    seen.add(print);
    return true;
  });
  let signatureChecks = 0;
  let candidateChecks = 0;
  let cutShort = false;
  const signs = new Map<string, boolean>();
  /** True when `child` names `parent` as its issuer and `parent`'s key verifies its signature. */
  const signedBy = (child: X509Certificate, parent: X509Certificate): boolean => {
    if (++candidateChecks > maxCandidateChecks) {
      cutShort = true;
      return false;
    }
    const key = `${child.fingerprint256}<${parent.fingerprint256}`;
    let known = signs.get(key);
    if (known === undefined) {
      if (!child.checkIssued(parent)) known = false;
      else if (signatureChecks >= maxSignatureChecks) {
        cutShort = true;
        return false;
      } else {
        signatureChecks++;
        known = child.verify(parent.publicKey);
      }
      signs.set(key, known);
    }
    return known;
  };

  let firstProblem: string | undefined;
  const search = (path: X509Certificate[]): VerifiedChain | undefined => {
    const tip = path[path.length - 1]!;
    for (const anchor of anchors) {
      if (!signedBy(tip, anchor)) continue;
      const complete = [...path, anchor];
      const problem = pathProblem(complete, options.nowMs);
      if (problem === undefined) {
        const profiles = complete.map((certificate) => certificateProfile(certificate));
        return { ok: true, path: complete, validFromMs: Math.max(...profiles.map((p) => p.notBeforeMs)), validUntilMs: Math.min(...profiles.map((p) => p.notAfterMs)) };
      }
      firstProblem ??= problem;
    }
    if (path.length > maxIntermediates) return undefined;
    for (const intermediate of intermediates) {
      if (path.includes(intermediate) || !signedBy(tip, intermediate)) continue;
      const found = search([...path, intermediate]);
      if (found !== undefined) return found;
    }
    return undefined;
  };

  const verified = search([leaf]);
  if (verified !== undefined) return verified;
  if (firstProblem !== undefined) return { ok: false, signedByPool: true, reason: firstProblem };
  return {
    ok: false,
    signedByPool: false,
    reason: cutShort
      ? `no path of signatures from ${describeCertificate(leaf)} to a trusted CA was found within the verification budget (${maxSignatureChecks} signature checks, ${maxCandidateChecks} issuer candidates)`
      : `${describeCertificate(leaf)} is not signed by a trusted CA`,
  };
}
