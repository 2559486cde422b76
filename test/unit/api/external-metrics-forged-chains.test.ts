/**
 * Regression tests of issue 10, item 1, against the real TLS server: a client-supplied certificate
 * chain must never make X-Remote-* headers trusted. Every chain of test/support/trust-pki.ts (made
 * with openssl at test time: the exact forged chain, look-alike CAs, broken intermediates,
 * path-length and usage violations, and the genuine front-proxy certificates) is presented over
 * TLS with `X-Remote-User: admin` and `X-Remote-Group: system:masters`, to a namespace where the
 * SubjectAccessReview denies everyone but the HPA. The answer, and the user the server asked the
 * SubjectAccessReview about, must be what kube-apiserver would give.
 *
 * No kube-apiserver runs here: the recording stand-in of fake-kube-api-server.ts serves the
 * extension-apiserver-authentication ConfigMap and answers the reviews.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExternalMetricsServer } from '../../../src/api/extension-server/index.js';
import { requireBinaries } from '../../support/binaries.js';
import { ManualClock } from '../../support/manual-clock.js';
import { type ChainName, makeTrustPki, type TrustPki } from '../../support/trust-pki.js';
import { makeSnapshot, storeOf } from '../publish/external-metrics/snapshot-fixture.js';
import { call, configFromYaml, makeTestPki, startServer, type TestPki } from './external-metrics-harness.js';
import { FakeKubeApiServer, writeKubeconfigFor } from './fake-kube-api-server.js';

/** 200; 403 with the user the SubjectAccessReview was asked about; or 401 with the reason. */
type Outcome = { readonly status: 200 } | { readonly status: 403; readonly reviewedUser: string; readonly groups: readonly string[] } | { readonly status: 401; readonly message: RegExp };

const ok: Outcome = { status: 200 };
const alice: Outcome = { status: 403, reviewedUser: 'alice', groups: ['team-a'] };
const clientNamedLikeProxy: Outcome = { status: 403, reviewedUser: 'front-proxy-client', groups: [] };
const untrusted: Outcome = { status: 401, message: /^Unauthorized: the client certificate is not signed by a trusted CA$/ };
const refusedProxy = (reason: RegExp): Outcome => ({ status: 401, message: new RegExp(`^Unauthorized: the front-proxy client certificate is refused: .*${reason.source}`) });
const wrongName: Outcome = { status: 401, message: /^Unauthorized: the front-proxy client certificate CN "someone-else" is not one of the allowed names \(front-proxy-client\)$/ };

/** Each chain, and what it gets when the allowed names are [front-proxy-client] and when they are empty. */
const cases: readonly (readonly [ChainName, Outcome, Outcome])[] = [
  // The aggregator's own certificate: X-Remote-* is trusted (system:masters needs no review).
  ['genuineProxy', ok, ok],
  ['genuineProxyViaIntermediate', ok, ok],
  // A client-CA certificate is its own user, headers or not, whatever is appended to it. (Before
  // the fix, the two forged chains got 200: the first with empty allowed names, the second with any.)
  ['alice', alice, alice],
  ['forgedIssueChain', alice, alice],
  ['forgedIssueChainNamedFrontProxyClient', clientNamedLikeProxy, clientNamedLikeProxy],
  ['crossSignedByLookalikeRoot', alice, alice],
  ['clientCaNamedFrontProxyClient', clientNamedLikeProxy, clientNamedLikeProxy],
  // Signed by nobody we trust, whatever the names and key identifiers say.
  ['homemadeIntermediateWithProxySki', untrusted, untrusted],
  ['lookalikeProxyCaAsLeaf', untrusted, untrusted],
  ['intermediateWithoutKeyCertSign', untrusted, untrusted],
  // Signed by the front-proxy CA, but refused; or not an allowed name.
  ['proxyWrongName', wrongName, ok],
  ['proxyCaAsLeaf', refusedProxy(/"CN=front-proxy-ca" is a CA certificate/), refusedProxy(/"CN=front-proxy-ca" is a CA certificate/)],
  ['expiredIntermediate', refusedProxy(/"CN=expired-intermediate" expired at/), refusedProxy(/"CN=expired-intermediate" expired at/)],
  ['notYetValidIntermediate', refusedProxy(/"CN=future-intermediate" is not valid before/), refusedProxy(/"CN=future-intermediate" is not valid before/)],
  ['expiredLeaf', refusedProxy(/"CN=front-proxy-client" expired at/), refusedProxy(/"CN=front-proxy-client" expired at/)],
  ['notYetValidLeaf', refusedProxy(/"CN=front-proxy-client" is not valid before/), refusedProxy(/"CN=front-proxy-client" is not valid before/)],
  ['leafWithoutClientAuth', refusedProxy(/is not valid for client authentication \(extendedKeyUsage\)/), refusedProxy(/is not valid for client authentication/)],
  ['leafWithoutDigitalSignature', refusedProxy(/keyUsage has neither digitalSignature nor keyAgreement/), refusedProxy(/keyUsage has neither digitalSignature nor keyAgreement/)],
  ['intermediateWithoutCaFlag', refusedProxy(/issuer "CN=not-a-ca" is not a CA/), refusedProxy(/issuer "CN=not-a-ca" is not a CA/)],
  ['intermediateForServersOnly', refusedProxy(/issuer "CN=servers-only" restricts its certificates/), refusedProxy(/issuer "CN=servers-only" restricts its certificates/)],
  ['pathLengthOfAnchorExceeded', refusedProxy(/issuer "CN=front-proxy-ca-2" allows 0 intermediate/), refusedProxy(/issuer "CN=front-proxy-ca-2" allows 0 intermediate/)],
  ['pathLengthOfIntermediateExceeded', refusedProxy(/issuer "CN=front-proxy-intermediate" allows 0 intermediate/), refusedProxy(/issuer "CN=front-proxy-intermediate" allows 0 intermediate/)],
  ['unhandledCriticalExtension', refusedProxy(/critical extension this server does not handle/), refusedProxy(/critical extension this server does not handle/)],
];

/** Where the allowed names come from, and which column of {@link cases} applies. */
const configurations = [
  { title: 'the cluster lists front-proxy-client', configMapNames: '["front-proxy-client"]', configYaml: '', column: 1 },
  { title: "the cluster lists no names: Foresight's default front-proxy-client applies", configMapNames: '[]', configYaml: '', column: 1 },
  { title: 'no names anywhere (requestHeader.allowedNames: [])', configMapNames: '[]', configYaml: '  requestHeader: { allowedNames: [] }\n', column: 2 },
] as const;

const haveOpenssl = requireBinaries('openssl');
let servingPki: TestPki;
let trust: TrustPki;
beforeAll(async () => {
  if (!haveOpenssl) return;
  servingPki = await makeTestPki();
  trust = makeTrustPki();
});
afterAll(async () => {
  await servingPki?.dispose();
  trust?.dispose();
});

describe.skipIf(!haveOpenssl).each(configurations)('forged and broken client certificate chains against the TLS server: $title', ({ configMapNames, configYaml, column }) => {
  let dir: string;
  let kube: FakeKubeApiServer;
  let server: ExternalMetricsServer;
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 10));
  const store = storeOf(makeSnapshot({ completedAtMs: Date.UTC(2026, 10, 2, 12, 0, 0), queues: [{ queue: 'orders', depth: 10, forecasts: { 900: [1, 2, 3] } }] }));
  const path = '/apis/external.metrics.k8s.io/v1beta1/namespaces/other/predicted_queue_depth?labelSelector=queue%3Dorders';
  const impersonation = { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-em-forged-'));
    kube = new FakeKubeApiServer(servingPki.serving);
    kube.configMapData = {
      'client-ca-file': trust.clientCA.certPem,
      'requestheader-client-ca-file': trust.proxyCAs.map((ca) => ca.certPem).join(''),
      'requestheader-allowed-names': configMapNames,
      'requestheader-username-headers': '["X-Remote-User"]',
      'requestheader-group-headers': '["X-Remote-Group"]',
      'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
    };
    await kube.start();
    const kubeconfigPath = await writeKubeconfigFor(kube, servingPki.servingCA.certPem, dir);
    const config = configFromYaml(`
logLevel: silent
snapshot: { maxAge: 1h }
externalMetrics:
  host: 127.0.0.1
  port: 0
  tls: { certFile: ${servingPki.serving.certFile}, keyFile: ${servingPki.serving.keyFile} }
  kubeconfig: ${kubeconfigPath}
${configYaml}`);
    server = await startServer({ config, store, clock });
  });
  afterAll(async () => {
    await server?.stop();
    await kube?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const present = (name: ChainName, headers: Readonly<Record<string, string>>) => {
    clock.advance(11); // past the review cache's TTL (10 s), so that every request is reviewed anew
    const chain = trust.chains[name];
    return call(server.url, path, { ca: servingPki.servingCA.certPem, cert: { certPem: chain.certPem, keyPem: chain.keyPem }, headers });
  };

  test.each(cases.map((c) => [c[0], c[column]] as const))('%s with X-Remote-User: admin, X-Remote-Group: system:masters → %j', async (name, outcome) => {
    const reviewsBefore = kube.reviews('subjectaccessreviews').length;
    const answer = await present(name, impersonation);
    expect({ status: answer.status, body: answer.body }).toMatchObject({ status: outcome.status });
    const reviews = kube.reviews('subjectaccessreviews').slice(reviewsBefore);
    if (outcome.status === 200) {
      expect(reviews).toHaveLength(0); // system:masters from a trusted proxy needs no review
    } else if (outcome.status === 403) {
      expect(reviews).toHaveLength(1);
      expect((reviews[0]!.body as { spec: unknown }).spec).toEqual({
        user: outcome.reviewedUser,
        groups: outcome.groups,
        resourceAttributes: { namespace: 'other', verb: 'list', group: 'external.metrics.k8s.io', version: 'v1beta1', resource: 'predicted_queue_depth' },
      });
      expect(answer.json()).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: expect.stringContaining(`User "${outcome.reviewedUser}" cannot list`) });
    } else {
      expect(reviews).toHaveLength(0);
      expect(answer.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: expect.stringMatching(outcome.message) });
    }
  });

  test('the forged chains of the issue get exactly the answer of the bare client certificate they wrap', async () => {
    for (const [bareName, forgedName] of [
      ['alice', 'forgedIssueChain'],
      ['clientCaNamedFrontProxyClient', 'forgedIssueChainNamedFrontProxyClient'],
    ] as const) {
      const bare = await present(bareName, {});
      const forged = await present(forgedName, impersonation);
      expect(bare.status).toBe(403);
      expect(forged.status).toBe(bare.status);
      expect(forged.json()).toEqual(bare.json());
    }
  });

  test('the genuine proxy certificate forwards any user: that user is reviewed, not the certificate', async () => {
    const reviewsBefore = kube.reviews('subjectaccessreviews').length;
    const answer = await present('genuineProxyViaIntermediate', { 'X-Remote-User': 'bob', 'X-Remote-Group': 'team-b' });
    expect(answer.status).toBe(403);
    expect(
      kube
        .reviews('subjectaccessreviews')
        .slice(reviewsBefore)
        .map((r) => (r.body as { spec: { user: string; groups: string[] } }).spec),
    ).toEqual([expect.objectContaining({ user: 'bob', groups: ['team-b'] })]);
  });
});
