/**
 * What an X.509 certificate allows, read from its DER: validity, basicConstraints (CA flag and path
 * length), keyUsage bits, extendedKeyUsage and which extensions are critical. Node's
 * X509Certificate shows the CA flag and the extended key usages but not the path length, the key
 * usage bits or criticality, which chain verification needs (publish/auth/chain-verification.ts).
 */
import type { X509Certificate } from 'node:crypto';
import { decodeOid, decodeTime, type DerElement, readChildren, readElement } from './der.js';

/** The keyUsage bits of RFC 5280 §4.2.1.3, in bit order. */
export const keyUsageNames = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;

/** One keyUsage bit. */
export type KeyUsageName = (typeof keyUsageNames)[number];

/** Extension OIDs (RFC 5280 §4.2) that certificate-using code commonly meets. */
export const extensionOids = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
} as const;

/** The constraints of one certificate. */
export interface CertificateProfile {
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** basicConstraints cA; false when the extension is absent. */
  readonly isCA: boolean;
  /** basicConstraints pathLenConstraint; undefined when absent (no limit). */
  readonly maxPathLength: number | undefined;
  /** The keyUsage bits set; undefined when the extension is absent (every use allowed). */
  readonly keyUsage: ReadonlySet<KeyUsageName> | undefined;
  /** extendedKeyUsage purposes as dotted OIDs; undefined when the extension is absent. */
  readonly extendedKeyUsage: readonly string[] | undefined;
  /** Dotted OIDs of every extension marked critical. */
  readonly criticalExtensions: readonly string[];
  /** Dotted OIDs of every extension present. */
  readonly extensions: readonly string[];
}

const profiles = new WeakMap<X509Certificate, CertificateProfile>();

function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (element === undefined || element.tag !== tag) throw new RangeError(`malformed certificate: ${what}`);
  return element;
}

function basicConstraints(der: Buffer, value: DerElement): { isCA: boolean; maxPathLength: number | undefined } {
  let isCA = false;
  let maxPathLength: number | undefined;
  for (const field of readChildren(der, expectTag(value, 0x30, 'basicConstraints is not a SEQUENCE'))) {
    if (field.tag === 0x01) isCA = der[field.start] !== 0;
    else if (field.tag === 0x02) {
      if (field.end - field.start > 4 || (der[field.start]! & 0x80) !== 0) throw new RangeError('malformed certificate: pathLenConstraint out of range');
      maxPathLength = 0;
      for (let i = field.start; i < field.end; i++) maxPathLength = maxPathLength * 256 + der[i]!;
    }
  }
  return { isCA, maxPathLength };
}

function keyUsageBits(der: Buffer, value: DerElement): Set<KeyUsageName> {
  expectTag(value, 0x03, 'keyUsage is not a BIT STRING');
  const bytes = der.subarray(value.start + 1, value.end);
  const set = new Set<KeyUsageName>();
  keyUsageNames.forEach((name, bit) => {
    const byte = bytes[bit >> 3];
    if (byte !== undefined && (byte >> (7 - (bit & 7))) & 1) set.add(name);
  });
  return set;
}

/**
 * The profile of `certificate`, read once per certificate object and remembered.
 *
 * @throws RangeError when the DER is malformed or an extension appears twice (RFC 5280 §4.2).
 */
export function certificateProfile(certificate: X509Certificate): CertificateProfile {
  const known = profiles.get(certificate);
  if (known !== undefined) return known;
  const der = certificate.raw;
  const fields = readChildren(der, expectTag(readElement(der, readElement(der, 0).start), 0x30, 'no TBSCertificate'));
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  // serial, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional [1] [2] [3].
  const validity = readChildren(der, expectTag(fields[offset + 3], 0x30, 'no validity'));
  const [notBefore, notAfter] = validity;
  if (notBefore === undefined || notAfter === undefined) throw new RangeError('malformed certificate: incomplete validity');
  const extensionsField = fields.slice(offset + 6).find((field) => field.tag === 0xa3);
  let isCA = false;
  let maxPathLength: number | undefined;
  let keyUsage: Set<KeyUsageName> | undefined;
  let extendedKeyUsage: string[] | undefined;
  const criticalExtensions: string[] = [];
  const extensions: string[] = [];
  const list = extensionsField === undefined ? [] : readChildren(der, expectTag(readChildren(der, extensionsField)[0], 0x30, 'extensions are not a SEQUENCE'));
  for (const entry of list) {
    const [id, second, third] = readChildren(der, expectTag(entry, 0x30, 'an extension is not a SEQUENCE'));
    const oid = decodeOid(der.subarray(expectTag(id, 0x06, 'extension without OID').start, id!.end));
    const critical = second?.tag === 0x01 && der[second.start] !== 0;
    const octets = expectTag(second?.tag === 0x01 ? third : second, 0x04, `extension ${oid} has no value`);
    if (extensions.includes(oid)) throw new RangeError(`malformed certificate: extension ${oid} appears twice`);
    extensions.push(oid);
    if (critical) criticalExtensions.push(oid);
    const value = readElement(der, octets.start, octets.end);
    if (oid === extensionOids.basicConstraints) ({ isCA, maxPathLength } = basicConstraints(der, value));
    else if (oid === extensionOids.keyUsage) keyUsage = keyUsageBits(der, value);
    else if (oid === extensionOids.extendedKeyUsage) {
      extendedKeyUsage = readChildren(der, expectTag(value, 0x30, 'extendedKeyUsage is not a SEQUENCE')).map((purpose) =>
        decodeOid(der.subarray(expectTag(purpose, 0x06, 'extendedKeyUsage entry is not an OID').start, purpose.end)),
      );
    }
  }
  const profile: CertificateProfile = {
    notBeforeMs: decodeTime(der, notBefore),
    notAfterMs: decodeTime(der, notAfter),
    isCA,
    maxPathLength,
    keyUsage,
    extendedKeyUsage,
    criticalExtensions,
    extensions,
  };
  profiles.set(certificate, profile);
  return profile;
}
