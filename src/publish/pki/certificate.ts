/**
 * X.509 v3 certificates for the external-metrics server: a local CA, serving certificates and client
 * certificates, made with node:crypto (ECDSA P-256 keys, SHA-256 signatures) and the DER writer in
 * der.ts. No `openssl` binary is needed, so a generated certificate works in any container image.
 *
 * The certificates follow RFC 5280 closely enough for Go's crypto/x509 (kubectl, kube-apiserver)
 * and OpenSSL (Node's TLS) to accept them: v3, positive random serials, basicConstraints and
 * keyUsage critical, extendedKeyUsage for TLS server or client, subjectAltName for every host,
 * and matching subject/authority key identifiers.
 */
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { bitString, boolean, explicit, implicitPrimitive, octetString, oid, readChildren, readElement, sequence, set, smallInteger, time, unsignedInteger, utf8String } from './der.js';

/** Who a certificate is for. Client certificates carry the Kubernetes user in CN and groups in O. */
export interface CertificateSubject {
  readonly commonName: string;
  readonly organizations?: readonly string[];
}

/** What a certificate may be used for. */
export type CertificateUsage = 'ca' | 'server' | 'client' | 'server-and-client';

/** What to put in a certificate. */
export interface CertificateRequest {
  readonly subject: CertificateSubject;
  readonly usage: CertificateUsage;
  /** DNS names and IP addresses for subjectAltName (servers). */
  readonly hosts?: readonly string[];
  /** Start of validity, ms since the epoch (callers back-date a few minutes for clock skew). */
  readonly notBeforeMs: number;
  readonly validForSeconds: number;
}

/** A certificate with its private key, as PEM and as parsed objects. */
export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
}

const oids = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** PEM armour around DER. */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function encodeName(subject: CertificateSubject): Buffer {
  const rdn = (type: string, value: string) => set(sequence(oid(type), utf8String(value)));
  return sequence(...(subject.organizations ?? []).map((o) => rdn(oids.organization, o)), rdn(oids.commonName, subject.commonName));
}

/** 16 bytes of an IPv6 address in text form (with "::" compression; no embedded IPv4). */
function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  const all = [...left, ...Array.from({ length: tail === undefined ? 0 : missing }, () => '0'), ...right];
  if (all.length !== 8) throw new RangeError(`cannot encode IPv6 address "${address}"`);
  return Buffer.from(
    all.flatMap((g) => {
      const n = Number.parseInt(g, 16);
      return [n >> 8, n & 0xff];
    }),
  );
}

function encodeSubjectAltName(hosts: readonly string[]): Buffer {
  return sequence(
    ...hosts.map((host) => {
      const kind = isIP(host);
      if (kind === 4) return implicitPrimitive(7, Buffer.from(host.split('.').map(Number)));
      if (kind === 6) return implicitPrimitive(7, ipv6Bytes(host));
      return implicitPrimitive(2, Buffer.from(host, 'ascii'));
    }),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** SHA-1 of the public key's SubjectPublicKeyInfo: the key identifier (RFC 5280 §4.2.1.2 allows any unique method). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
}

function keyUsageBits(usage: CertificateUsage): Buffer {
  // Bits from the most significant: digitalSignature(0) … keyCertSign(5), cRLSign(6). ECDSA needs no keyEncipherment.
  return usage === 'ca' ? bitString(Buffer.from([0x86]), 1) : bitString(Buffer.from([0x80]), 7);
}

function extendedKeyUsage(usage: CertificateUsage): Buffer | undefined {
  switch (usage) {
    case 'ca':
      return undefined;
    case 'server':
      return sequence(oid(oids.serverAuth));
    case 'client':
      return sequence(oid(oids.clientAuth));
    case 'server-and-client':
      return sequence(oid(oids.serverAuth), oid(oids.clientAuth));
  }
}

/** A positive 127-bit random serial number (RFC 5280: positive, at most 20 octets, unpredictable). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes;
}

/**
 * The DER of a certificate's subject Name, exactly as encoded in it: a certificate it issues must
 * name its issuer with these very bytes for chain building to match.
 */
export function subjectNameDer(certificate: X509Certificate): Buffer {
  const der = certificate.raw;
  const fields = readChildren(der, readElement(der, readElement(der, 0).start));
  // version [0], serial, signature, issuer, validity, subject: the subject is the sixth field.
  const subject = fields[fields[0]?.tag === 0xa0 ? 5 : 4];
  if (subject === undefined) throw new RangeError('malformed certificate: no subject');
  return der.subarray(subject.headerStart, subject.end);
}

/**
 * Makes a certificate and a fresh P-256 key. Without `issuer` it is self-signed (a CA when
 * `usage` is "ca"); with one, it is signed by the issuer's key and names the issuer's subject.
 */
export function createCertificate(request: CertificateRequest, issuer?: CertificateAndKey): CertificateAndKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signingKey = issuer?.privateKey ?? privateKey;
  const issuerName = issuer === undefined ? encodeName(request.subject) : subjectNameDer(issuer.certificate);
  const issuerKeyId = keyIdentifier(issuer?.certificate.publicKey ?? publicKey);
  const algorithm = sequence(oid(oids.ecdsaWithSha256));
  const extensions: Buffer[] = [extension(oids.basicConstraints, true, request.usage === 'ca' ? sequence(boolean(true)) : sequence()), extension(oids.keyUsage, true, keyUsageBits(request.usage))];
  const eku = extendedKeyUsage(request.usage);
  if (eku !== undefined) extensions.push(extension(oids.extendedKeyUsage, false, eku));
  if (request.hosts !== undefined && request.hosts.length > 0) extensions.push(extension(oids.subjectAltName, false, encodeSubjectAltName(request.hosts)));
  extensions.push(extension(oids.subjectKeyIdentifier, false, octetString(keyIdentifier(publicKey))));
  extensions.push(extension(oids.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, issuerKeyId))));
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serialNumber()),
    algorithm,
    issuerName,
    sequence(time(request.notBeforeMs), time(request.notBeforeMs + request.validForSeconds * 1000)),
    encodeName(request.subject),
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signingKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  const certPem = toPem('CERTIFICATE', der);
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certPem, keyPem, certificate: new X509Certificate(der), privateKey };
}

/** Parses a PEM certificate (the first of a bundle) and its key, checking that they belong together. */
export function loadCertificateAndKey(certPem: string, keyPem: string): CertificateAndKey {
  const certificate = new X509Certificate(certPem);
  const privateKey = createPrivateKey(keyPem);
  if (!certificate.checkPrivateKey(privateKey)) throw new Error('the private key does not belong to the certificate');
  return { certPem, keyPem, certificate, privateKey };
}

/** Every certificate of a PEM bundle, in order. Throws when a block is not a certificate. */
export function parseCertificateBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}
