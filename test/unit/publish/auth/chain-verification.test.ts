/**
 * The pure client-certificate verifier against certificates openssl makes at test time: which pool
 * (front-proxy CA or client CA) each genuine, forged or broken chain verifies against, and why the
 * others are refused. The same chains go through the real TLS server in
 * test/unit/api/external-metrics-forged-chains.test.ts.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { certificateProfile, maxSignatureChecks, verifyClientCertificate } from '../../../../src/publish/index.js';
import { requireBinaries } from '../../../support/binaries.js';
import { profiles } from '../../../support/openssl-ca.js';
import { type ChainName, makeTrustPki, type TrustPki } from '../../../support/trust-pki.js';

/** What a pool says: verified, not signed by it at all, or signed by it but refused for a reason. */
type Expected = 'verified' | 'untrusted' | RegExp;

const cases: readonly (readonly [ChainName, Expected, Expected])[] = [
  // chain                                  front-proxy pool                                              client pool
  ['genuineProxy', 'verified', 'untrusted'],
  ['genuineProxyViaIntermediate', 'verified', 'untrusted'],
  ['alice', 'untrusted', 'verified'],
  ['forgedIssueChain', 'untrusted', 'verified'],
  ['forgedIssueChainNamedFrontProxyClient', 'untrusted', 'verified'],
  ['crossSignedByLookalikeRoot', 'untrusted', 'verified'],
  ['homemadeIntermediateWithProxySki', 'untrusted', 'untrusted'],
  ['lookalikeProxyCaAsLeaf', 'untrusted', 'untrusted'],
  ['proxyCaAsLeaf', /"CN=front-proxy-ca" is a CA certificate \(basicConstraints CA:TRUE\), not a client certificate/, 'untrusted'],
  ['proxyWrongName', 'verified', 'untrusted'],
  ['clientCaNamedFrontProxyClient', 'untrusted', 'verified'],
  ['expiredIntermediate', /"CN=expired-intermediate" expired at /, 'untrusted'],
  ['notYetValidIntermediate', /"CN=future-intermediate" is not valid before /, 'untrusted'],
  ['expiredLeaf', /"CN=front-proxy-client" expired at /, 'untrusted'],
  ['notYetValidLeaf', /"CN=front-proxy-client" is not valid before /, 'untrusted'],
  ['leafWithoutClientAuth', /"CN=front-proxy-client" is not valid for client authentication \(extendedKeyUsage\)/, 'untrusted'],
  ['leafWithoutDigitalSignature', /may not sign a TLS handshake \(keyUsage has neither digitalSignature nor keyAgreement\)/, 'untrusted'],
  ['intermediateWithoutCaFlag', /issuer "CN=not-a-ca" is not a CA \(basicConstraints lacks CA:TRUE\)/, 'untrusted'],
  // OpenSSL's checkIssued already refuses an issuer whose keyUsage lacks keyCertSign: no link at all.
  ['intermediateWithoutKeyCertSign', 'untrusted', 'untrusted'],
  ['intermediateForServersOnly', /issuer "CN=servers-only" restricts its certificates to extended key usages without client authentication/, 'untrusted'],
  ['pathLengthOfAnchorExceeded', /issuer "CN=front-proxy-ca-2" allows 0 intermediate certificate\(s\) below it \(pathLenConstraint\), the chain has 1/, 'untrusted'],
  ['pathLengthOfIntermediateExceeded', /issuer "CN=front-proxy-intermediate" allows 0 intermediate certificate\(s\) below it \(pathLenConstraint\), the chain has 1/, 'untrusted'],
  ['unhandledCriticalExtension', /"CN=unhandled-critical" has a critical extension this server does not handle \(1\.3\.6\.1\.4\.1\.55555\.1\)/, 'untrusted'],
];

const haveOpenssl = requireBinaries('openssl');
let pki: TrustPki;
beforeAll(() => {
  if (haveOpenssl) pki = makeTrustPki();
});
afterAll(() => pki?.dispose());
const nowMs = () => Date.now();

describe.skipIf(!haveOpenssl)('verifyClientCertificate: a leaf verifies by signature against one pool alone', () => {
  const check = (verdict: ReturnType<typeof verifyClientCertificate>, expected: Expected) => {
    if (expected === 'verified') expect(verdict).toMatchObject({ ok: true });
    else if (expected === 'untrusted') expect(verdict).toMatchObject({ ok: false, signedByPool: false, reason: expect.stringMatching(/is not signed by a trusted CA/) });
    else expect(verdict).toMatchObject({ ok: false, signedByPool: true, reason: expect.stringMatching(expected) });
  };

  test.each(cases)('%s: front-proxy pool → %s, client pool → %s', (name, proxy, client) => {
    const chain = pki.chains[name];
    check(
      verifyClientCertificate(
        chain.leaf,
        chain.rest,
        pki.proxyCAs.map((c) => c.certificate),
        { nowMs: nowMs() },
      ),
      proxy,
    );
    check(verifyClientCertificate(chain.leaf, chain.rest, [pki.clientCA.certificate], { nowMs: nowMs() }), client);
  });

  test('an accepted path is leaf → intermediates → anchor, with the span in which all of it is valid', () => {
    const chain = pki.chains.genuineProxyViaIntermediate;
    const verdict = verifyClientCertificate(
      chain.leaf,
      chain.rest,
      pki.proxyCAs.map((c) => c.certificate),
      { nowMs: nowMs() },
    );
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.path.map((c) => c.subject)).toEqual(['CN=front-proxy-client', 'CN=front-proxy-intermediate', 'CN=front-proxy-ca']);
    const spans = verdict.path.map((c) => certificateProfile(c));
    expect(verdict.validFromMs).toBe(Math.max(...spans.map((s) => s.notBeforeMs)));
    expect(verdict.validUntilMs).toBe(Math.min(...spans.map((s) => s.notAfterMs)));
    // The same chain an instant past the end of that span is refused, for the certificate that ends first.
    const late = verifyClientCertificate(
      chain.leaf,
      chain.rest,
      pki.proxyCAs.map((c) => c.certificate),
      { nowMs: verdict.validUntilMs + 1000 },
    );
    expect(late).toMatchObject({ ok: false, signedByPool: true, reason: expect.stringMatching(/expired at/) });
  });

  test('intermediates may come in any order, with duplicates and copies of the anchor, and only the pool gives trust', () => {
    const chain = pki.chains.genuineProxyViaIntermediate;
    const [proxyCA] = pki.proxyCAs;
    const shuffled = [proxyCA!.certificate, ...pki.chains.alice.rest, chain.rest[0]!, chain.rest[0]!, chain.leaf];
    expect(
      verifyClientCertificate(
        chain.leaf,
        shuffled,
        pki.proxyCAs.map((c) => c.certificate),
        { nowMs: nowMs() },
      ),
    ).toMatchObject({ ok: true });
    // A presented copy of the anchor is no anchor: with the pool empty of it, nothing verifies.
    expect(verifyClientCertificate(chain.leaf, shuffled, [pki.clientCA.certificate], { nowMs: nowMs() })).toMatchObject({ ok: false, signedByPool: false });
  });

  test('the intermediates allowed per path are bounded', () => {
    const chain = pki.chains.genuineProxyViaIntermediate;
    expect(
      verifyClientCertificate(
        chain.leaf,
        chain.rest,
        pki.proxyCAs.map((c) => c.certificate),
        { nowMs: nowMs(), maxIntermediates: 0 },
      ),
    ).toMatchObject({ ok: false, signedByPool: false });
    expect(
      verifyClientCertificate(
        chain.leaf,
        chain.rest,
        pki.proxyCAs.map((c) => c.certificate),
        { nowMs: nowMs(), maxIntermediates: 1 },
      ),
    ).toMatchObject({ ok: true });
  });

  test('the work per call is bounded, however many mutually signed intermediates the client sends', () => {
    // Self-made CAs sharing one name and one key sign each other validly: every pair is a link, and
    // every path among them is a candidate that never reaches the pool. The search stops at the
    // budget and refuses.
    const ws = pki.workspace;
    const first = ws.issue({ name: 'loop-0', subject: '/CN=loop-ca', extensions: profiles.ca });
    const loop = [first, ...Array.from({ length: 9 }, (_, i) => ws.issue({ name: `loop-${i + 1}`, subject: '/CN=loop-ca', keyOf: first, extensions: profiles.ca }))];
    const leaf = ws.issue({ name: 'loop-leaf', subject: '/CN=front-proxy-client', issuer: first, extensions: profiles.client });
    const verdict = verifyClientCertificate(
      leaf.certificate,
      loop.map((c) => c.certificate),
      pki.proxyCAs.map((c) => c.certificate),
      { nowMs: nowMs() },
    );
    expect(verdict).toMatchObject({ ok: false, signedByPool: false, reason: expect.stringMatching(new RegExp(`within the verification budget \\(${maxSignatureChecks} signature checks`)) });
  });
});

describe.skipIf(!haveOpenssl)('certificateProfile reads what openssl wrote', () => {
  test('a CA with pathlen, a client leaf, and a certificate with an unknown critical extension', () => {
    const [proxyCA, pathLen0] = pki.proxyCAs;
    expect(certificateProfile(proxyCA!.certificate)).toMatchObject({ isCA: true, maxPathLength: undefined, keyUsage: new Set(['keyCertSign', 'cRLSign']), extendedKeyUsage: undefined });
    expect(certificateProfile(pathLen0!.certificate)).toMatchObject({ isCA: true, maxPathLength: 0, criticalExtensions: expect.arrayContaining(['2.5.29.19', '2.5.29.15']) });
    const leaf = pki.chains.alice.leaf;
    expect(certificateProfile(leaf)).toMatchObject({ isCA: false, keyUsage: new Set(['digitalSignature']), extendedKeyUsage: ['1.3.6.1.5.5.7.3.2'] });
    const profile = certificateProfile(leaf);
    // openssl prints the dates to the second; the profile reads them from the DER.
    expect(profile.notBeforeMs).toBe(Date.parse(leaf.validFrom));
    expect(profile.notAfterMs).toBe(Date.parse(leaf.validTo));
    const unhandled = pki.chains.unhandledCriticalExtension.rest[0]!;
    expect(certificateProfile(unhandled).criticalExtensions).toContain('1.3.6.1.4.1.55555.1');
  });

  test('a certificate with a GeneralizedTime (year 2050 and later) end date', () => {
    const far = pki.workspace.issue({ name: 'far-future', subject: '/CN=far', extensions: profiles.ca, notAfterSeconds: 40 * 365 * 86_400 });
    expect(certificateProfile(new X509Certificate(far.certPem)).notAfterMs).toBe(Date.parse(far.certificate.validTo));
  });
});
