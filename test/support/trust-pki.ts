/**
 * The certificates of the trust regression tests (issue 10, item 1), made with openssl at test
 * time: a front-proxy CA and a client CA as a cluster has them, genuine client certificates, and
 * every forged or broken chain the verifier must refuse. The pure verifier test and the TLS server
 * test share these cases, so each case is checked both ways.
 */
import type { X509Certificate } from 'node:crypto';
import { type OpensslCertificate, OpensslWorkspace, profiles } from './openssl-ca.js';

/** What a client presents: its chain (leaf first) as one PEM, and the leaf's key. */
export interface PresentedChain {
  readonly certPem: string;
  readonly keyPem: string;
  readonly leaf: X509Certificate;
  /** The certificates after the leaf, as sent. */
  readonly rest: readonly X509Certificate[];
}

/** The chains, by name. */
export const chainNames = [
  'genuineProxy',
  'genuineProxyViaIntermediate',
  'alice',
  'forgedIssueChain',
  'forgedIssueChainNamedFrontProxyClient',
  'crossSignedByLookalikeRoot',
  'homemadeIntermediateWithProxySki',
  'lookalikeProxyCaAsLeaf',
  'proxyCaAsLeaf',
  'proxyWrongName',
  'clientCaNamedFrontProxyClient',
  'expiredIntermediate',
  'notYetValidIntermediate',
  'expiredLeaf',
  'notYetValidLeaf',
  'leafWithoutClientAuth',
  'leafWithoutDigitalSignature',
  'intermediateWithoutCaFlag',
  'intermediateWithoutKeyCertSign',
  'intermediateForServersOnly',
  'pathLengthOfAnchorExceeded',
  'pathLengthOfIntermediateExceeded',
  'unhandledCriticalExtension',
] as const;

export type ChainName = (typeof chainNames)[number];

/** The trust anchors and every chain. */
export interface TrustPki {
  readonly workspace: OpensslWorkspace;
  /** The front-proxy CA bundle: the main CA, and a second one with pathlen:0. */
  readonly proxyCAs: readonly OpensslCertificate[];
  readonly clientCA: OpensslCertificate;
  readonly chains: Readonly<Record<ChainName, PresentedChain>>;
  dispose(): void;
}

const presented = (leaf: OpensslCertificate, ...rest: OpensslCertificate[]): PresentedChain => ({
  certPem: [leaf, ...rest].map((c) => c.certPem).join(''),
  keyPem: leaf.keyPem,
  leaf: leaf.certificate,
  rest: rest.map((c) => c.certificate),
});

/** Makes every certificate; about 40 openssl runs. */
export function makeTrustPki(): TrustPki {
  const ws = new OpensslWorkspace();
  const issue = ws.issue.bind(ws);
  const ca = (name: string, subject: string, issuer?: OpensslCertificate, extra: readonly string[] = [], dates: { notBeforeSeconds?: number; notAfterSeconds?: number } = {}) =>
    issue({
      name,
      subject,
      ...(issuer === undefined ? {} : { issuer }),
      extensions: [...profiles.ca.filter((line) => !extra.some((e) => e.split('=')[0] === line.split('=')[0])), ...extra],
      ...dates,
    });
  const client = (name: string, subject: string, issuer: OpensslCertificate, extra: readonly string[] = [], dates: { notBeforeSeconds?: number; notAfterSeconds?: number } = {}) =>
    issue({ name, subject, issuer, extensions: [...profiles.client.filter((line) => !extra.some((e) => e.split('=')[0] === line.split('=')[0])), ...extra], ...dates });

  // The cluster's two CAs, as kubeadm makes them (front-proxy-ca signs front-proxy-client).
  const proxyCA = ca('proxy-ca', '/CN=front-proxy-ca');
  const proxyCAPathLen0 = ca('proxy-ca-pathlen0', '/CN=front-proxy-ca-2', undefined, ['basicConstraints=critical,CA:TRUE,pathlen:0']);
  const clientCA = ca('client-ca', '/CN=kubernetes');
  const proxySki = ws.subjectKeyIdentifier(proxyCA);
  const clientSki = ws.subjectKeyIdentifier(clientCA);

  const proxyClient = client('front-proxy-client', '/CN=front-proxy-client', proxyCA);
  const proxyIntermediate = ca('proxy-intermediate', '/CN=front-proxy-intermediate', proxyCA, ['basicConstraints=critical,CA:TRUE,pathlen:0']);
  const proxyClientViaIntermediate = client('front-proxy-client-2', '/CN=front-proxy-client', proxyIntermediate);
  const alice = client('alice', '/CN=alice/O=team-a', clientCA);
  const clientNamedLikeProxy = client('client-ca-front-proxy-client', '/CN=front-proxy-client', clientCA);

  // The reproduction of the issue, command for command.
  ws.run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'f.key',
    '-out',
    'f.crt',
    '-subj',
    '/CN=front-proxy-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
    '-addext',
    `subjectKeyIdentifier=${proxySki}`,
  ]);
  ws.run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'i.key', '-out', 'i.csr', '-subj', '/CN=kubernetes']);
  ws.write('i.ext', `basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=${clientSki}\nauthorityKeyIdentifier=keyid\n`);
  ws.run(['x509', '-req', '-in', 'i.csr', '-CA', 'f.crt', '-CAkey', 'f.key', '-CAcreateserial', '-out', 'fi.crt', '-extfile', 'i.ext', '-days', '30']);
  const forgedIntermediate = ws.load('forged-intermediate', 'fi.crt', 'i.key');

  // A root that looks like the proxy CA (name and key identifier), with a key of its own.
  const lookalikeProxyCA = ca('lookalike-proxy-ca', '/CN=front-proxy-ca', undefined, [`subjectKeyIdentifier=${proxySki}`]);
  // The client CA's own key, "cross-signed" by the lookalike: alice's signature verifies with it.
  const crossSigned = issue({
    name: 'cross-signed-client-ca',
    subject: '/CN=kubernetes',
    issuer: lookalikeProxyCA,
    keyOf: clientCA,
    extensions: [...profiles.ca.slice(0, 2), `subjectKeyIdentifier=${clientSki}`, 'authorityKeyIdentifier=keyid'],
  });
  // An intermediate named like the proxy CA, carrying its key identifier, under a root of the attacker.
  const attackerRoot = ca('attacker-root', '/CN=attacker-root');
  const homemade = ca('homemade-proxy-ca', '/CN=front-proxy-ca', attackerRoot, [`subjectKeyIdentifier=${proxySki}`]);
  const homemadeLeaf = client('homemade-leaf', '/CN=front-proxy-client/O=system:masters', homemade);

  const expiredIntermediate = ca('expired-intermediate', '/CN=expired-intermediate', proxyCA, [], { notBeforeSeconds: -7200, notAfterSeconds: -60 });
  const notYetValidIntermediate = ca('future-intermediate', '/CN=future-intermediate', proxyCA, [], { notBeforeSeconds: 3600, notAfterSeconds: 86_400 });
  const notCA = ca('not-ca-intermediate', '/CN=not-a-ca', proxyCA, ['basicConstraints=critical,CA:FALSE']);
  const noCertSign = ca('no-certsign-intermediate', '/CN=no-certsign', proxyCA, ['keyUsage=critical,digitalSignature']);
  const serversOnly = ca('servers-only-intermediate', '/CN=servers-only', proxyCA, ['extendedKeyUsage=serverAuth']);
  const underPathLen0Anchor = ca('under-pathlen0-anchor', '/CN=under-pathlen0-anchor', proxyCAPathLen0);
  const subIntermediate = ca('sub-intermediate', '/CN=sub-intermediate', proxyIntermediate);
  const constrained = ca('unhandled-critical-intermediate', '/CN=unhandled-critical', proxyCA, ['1.3.6.1.4.1.55555.1=critical,ASN1:NULL']);

  const leafUnder = (name: string, issuer: OpensslCertificate) => client(name, '/CN=front-proxy-client', issuer);
  const chains: Record<ChainName, PresentedChain> = {
    genuineProxy: presented(proxyClient),
    genuineProxyViaIntermediate: presented(proxyClientViaIntermediate, proxyIntermediate),
    alice: presented(alice),
    forgedIssueChain: presented(alice, forgedIntermediate, proxyCA),
    forgedIssueChainNamedFrontProxyClient: presented(clientNamedLikeProxy, forgedIntermediate, proxyCA),
    crossSignedByLookalikeRoot: presented(alice, crossSigned, proxyCA),
    homemadeIntermediateWithProxySki: presented(homemadeLeaf, homemade, attackerRoot, proxyCA),
    lookalikeProxyCaAsLeaf: presented(lookalikeProxyCA, proxyCA),
    proxyCaAsLeaf: presented(proxyCA),
    proxyWrongName: presented(client('someone-else', '/CN=someone-else', proxyCA)),
    clientCaNamedFrontProxyClient: presented(clientNamedLikeProxy),
    expiredIntermediate: presented(leafUnder('under-expired', expiredIntermediate), expiredIntermediate),
    notYetValidIntermediate: presented(leafUnder('under-future', notYetValidIntermediate), notYetValidIntermediate),
    expiredLeaf: presented(client('expired-leaf', '/CN=front-proxy-client', proxyCA, [], { notBeforeSeconds: -7200, notAfterSeconds: -60 })),
    notYetValidLeaf: presented(client('future-leaf', '/CN=front-proxy-client', proxyCA, [], { notBeforeSeconds: 3600, notAfterSeconds: 86_400 })),
    leafWithoutClientAuth: presented(client('server-leaf', '/CN=front-proxy-client', proxyCA, ['extendedKeyUsage=serverAuth'])),
    leafWithoutDigitalSignature: presented(client('encipher-leaf', '/CN=front-proxy-client', proxyCA, ['keyUsage=critical,keyEncipherment'])),
    intermediateWithoutCaFlag: presented(leafUnder('under-not-ca', notCA), notCA),
    intermediateWithoutKeyCertSign: presented(leafUnder('under-no-certsign', noCertSign), noCertSign),
    intermediateForServersOnly: presented(leafUnder('under-servers-only', serversOnly), serversOnly),
    pathLengthOfAnchorExceeded: presented(leafUnder('under-pathlen0-anchor-leaf', underPathLen0Anchor), underPathLen0Anchor),
    pathLengthOfIntermediateExceeded: presented(leafUnder('under-sub-intermediate', subIntermediate), subIntermediate, proxyIntermediate),
    unhandledCriticalExtension: presented(leafUnder('under-unhandled-critical', constrained), constrained),
  };
  return { workspace: ws, proxyCAs: [proxyCA, proxyCAPathLen0], clientCA, chains, dispose: () => ws.dispose() };
}
