import { describe, expect, test } from 'vitest';
import {
  type AccessAttributes,
  type AccessReviewer,
  cachedAccessReviewer,
  cachedTokenReviewer,
  createAuthenticator,
  createAuthorizer,
  createCertificate,
  type DistinctHeaders,
  parseExtensionApiserverAuthentication,
  type PeerCertificateInfo,
  type TokenReviewer,
  type TrustSettings,
  type UserInfo,
} from '../../../../src/publish/index.js';
import { ManualClock } from '../../../support/manual-clock.js';

const nowMs = Date.now();
const issue = (commonName: string, usage: 'ca' | 'client' | 'server', issuer?: ReturnType<typeof createCertificate>, organizations?: string[]) =>
  createCertificate({ subject: { commonName, ...(organizations === undefined ? {} : { organizations }) }, usage, notBeforeMs: nowMs - 60_000, validForSeconds: 3600 }, issuer);

const frontProxyCA = issue('front-proxy-ca', 'ca');
const clientCA = issue('client-ca', 'ca');
const rogueCA = issue('rogue-ca', 'ca');
const proxyCert = issue('front-proxy-client', 'client', frontProxyCA);
const otherProxyCert = issue('someone-else', 'client', frontProxyCA);
const userCert = issue('alice', 'client', clientCA, ['team-a', 'system:authenticated']);
const serverCertFromClientCA = issue('not-a-client', 'server', clientCA);
const rogueCert = issue('front-proxy-client', 'client', rogueCA);

const peer = (cert: ReturnType<typeof createCertificate> | undefined, authorized = true): PeerCertificateInfo | undefined =>
  cert === undefined ? undefined : { authorized, chain: [cert.certificate] };

const requestHeader = {
  clientCAs: [frontProxyCA.certificate],
  allowedNames: ['front-proxy-client'],
  usernameHeaders: ['x-remote-user'],
  uidHeaders: ['x-remote-uid'],
  groupHeaders: ['x-remote-group'],
  extraHeaderPrefixes: ['x-remote-extra-'],
};
const trust: TrustSettings = { clientCAs: [clientCA.certificate], requestHeader };

const aggregatorHeaders: DistinctHeaders = {
  'x-remote-user': ['system:serviceaccount:kube-system:horizontal-pod-autoscaler'],
  'x-remote-group': ['system:serviceaccounts', 'system:authenticated'],
  'x-remote-uid': ['1234-abcd'],
  'x-remote-extra-authentication.kubernetes.io%2fpod-name': ['kube-controller-manager-0'],
  'x-remote-extra-scopes': ['a', 'b'],
};

describe('front-proxy authentication (X-Remote-* trusted only from the request-header CA)', () => {
  const authenticator = createAuthenticator({ trust: () => trust });

  test('a proxy certificate with an allowed name: the user, groups, uid and extra come from the headers', async () => {
    const result = await authenticator.authenticate({ peer: peer(proxyCert), headers: aggregatorHeaders });
    expect(result).toEqual({
      ok: true,
      method: 'front-proxy',
      user: {
        username: 'system:serviceaccount:kube-system:horizontal-pod-autoscaler',
        uid: '1234-abcd',
        groups: ['system:serviceaccounts', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/pod-name': ['kube-controller-manager-0'], scopes: ['a', 'b'] },
      },
    });
  });

  test('a proxy certificate whose name is not allowed: headers are ignored, refused', async () => {
    const result = await authenticator.authenticate({ peer: peer(otherProxyCert), headers: aggregatorHeaders });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe(401);
      expect(result.message).toMatch(/CN "someone-else" is not one of the allowed names \(front-proxy-client\)/);
    }
  });

  test('an empty allowed-names list accepts any certificate from the request-header CA', async () => {
    const open = createAuthenticator({ trust: () => ({ clientCAs: [], requestHeader: { ...requestHeader, allowedNames: [] } }) });
    const result = await open.authenticate({ peer: peer(otherProxyCert), headers: { 'x-remote-user': ['bob'] } });
    expect(result).toMatchObject({ ok: true, method: 'front-proxy', user: { username: 'bob', groups: [] } });
  });

  test('a certificate from the client CA never makes X-Remote-* trusted: it is its own user', async () => {
    const result = await authenticator.authenticate({ peer: peer(userCert), headers: { ...aggregatorHeaders, 'x-remote-group': ['system:masters'] } });
    expect(result).toEqual({ ok: true, method: 'client-certificate', user: { username: 'alice', groups: ['team-a', 'system:authenticated'], extra: {} } });
  });

  test('a rogue certificate with the proxy name, or one the TLS layer did not verify, is refused', async () => {
    expect(await authenticator.authenticate({ peer: peer(rogueCert), headers: aggregatorHeaders })).toEqual({
      ok: false,
      code: 401,
      message: 'Unauthorized: the client certificate is not signed by a trusted CA',
    });
    for (const presented of [peer(proxyCert, false), peer(userCert, false)]) {
      const result = await authenticator.authenticate({ peer: presented, headers: aggregatorHeaders });
      expect(result).toMatchObject({ ok: false, code: 401, message: expect.stringMatching(/is refused: the TLS layer did not accept the certificate chain/) });
    }
  });

  test('a proxy certificate without a user header authenticates only if it is also a client certificate', async () => {
    const noUser = await authenticator.authenticate({ peer: peer(proxyCert), headers: {} });
    expect(noUser.ok).toBe(false);
    const both = createAuthenticator({ trust: () => ({ ...trust, clientCAs: [clientCA.certificate, frontProxyCA.certificate] }) });
    expect(await both.authenticate({ peer: peer(proxyCert), headers: {} })).toMatchObject({ ok: true, method: 'client-certificate', user: { username: 'front-proxy-client' } });
  });

  test('a server certificate is not a client certificate', async () => {
    const result = await authenticator.authenticate({ peer: peer(serverCertFromClientCA), headers: {} });
    expect(result).toMatchObject({ ok: false, code: 401, message: expect.stringMatching(/not valid for client authentication/) });
  });

  test('an intermediate in the presented chain leads to the anchor', async () => {
    const intermediate = issue('intermediate', 'ca', clientCA);
    const leaf = issue('carol', 'client', intermediate);
    const result = await authenticator.authenticate({ peer: { authorized: true, chain: [leaf.certificate, intermediate.certificate] }, headers: {} });
    expect(result).toMatchObject({ ok: true, user: { username: 'carol' } });
  });

  test('no credentials at all: 401', async () => {
    expect(await authenticator.authenticate({ peer: undefined, headers: {} })).toEqual({ ok: false, code: 401, message: 'Unauthorized: no client certificate and no bearer token were presented' });
  });
});

describe('bearer tokens (TokenReview)', () => {
  const reviewer = (answers: Record<string, 'ok' | 'no' | 'down'>): TokenReviewer & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      async review(token) {
        calls.push(token);
        const answer = answers[token];
        if (answer === 'down') throw new Error('connect ECONNREFUSED 10.0.0.1:443');
        return answer === 'ok' ? { authenticated: true, user: { username: `sa:${token}`, groups: ['system:serviceaccounts'], extra: {} } } : { authenticated: false, error: 'token expired' };
      },
    };
  };

  test.each([
    ['Bearer good', { ok: true, method: 'token', user: { username: 'sa:good' } }],
    ['bearer good', { ok: true, method: 'token' }],
    ['Bearer bad', { ok: false, code: 401, message: expect.stringMatching(/not accepted by the TokenReview: token expired/) }],
    ['Bearer down', { ok: false, code: 503, message: expect.stringMatching(/TokenReview could not be made \(connect ECONNREFUSED/) }],
    ['Basic dXNlcjpwYXNz', { ok: false, code: 401 }],
  ])('%s', async (authorization, expected) => {
    const authenticator = createAuthenticator({ trust: () => trust, tokenReviewer: reviewer({ good: 'ok', bad: 'no', down: 'down' }) });
    expect(await authenticator.authenticate({ peer: undefined, headers: { authorization: [authorization] } })).toMatchObject(expected);
  });

  test('without a TokenReview a token is refused with a hint', async () => {
    const authenticator = createAuthenticator({ trust: () => trust });
    expect(await authenticator.authenticate({ peer: undefined, headers: { authorization: ['Bearer x'] } })).toMatchObject({
      ok: false,
      code: 401,
      message: expect.stringMatching(/tokenReview is off/),
    });
  });

  test('answers are cached for the TTL, shared while in flight, and failures are not cached', async () => {
    const clock = new ManualClock();
    const inner = reviewer({ good: 'ok', bad: 'no', down: 'down' });
    const cached = cachedTokenReviewer(inner, { clock, ttlSeconds: 10 });
    await Promise.all([cached.review('good'), cached.review('good'), cached.review('good')]);
    expect(inner.calls).toEqual(['good']);
    clock.advance(9.9);
    await cached.review('good');
    await cached.review('bad');
    await cached.review('bad');
    expect(inner.calls).toEqual(['good', 'bad']);
    clock.advance(0.2);
    await cached.review('good');
    expect(inner.calls).toEqual(['good', 'bad', 'good']);
    await expect(cached.review('down')).rejects.toThrow(/ECONNREFUSED/);
    await expect(cached.review('down')).rejects.toThrow(/ECONNREFUSED/);
    expect(inner.calls.filter((t) => t === 'down')).toHaveLength(2);
  });
});

describe('authorization (SubjectAccessReview)', () => {
  const attributes: AccessAttributes = { kind: 'resource', verb: 'list', group: 'external.metrics.k8s.io', version: 'v1beta1', resource: 'queue_depth', namespace: 'shop' };
  const alice: UserInfo = { username: 'alice', groups: ['team-a'], extra: {} };
  const reviewer = (allowed: boolean | 'down'): AccessReviewer & { calls: number } => {
    const r = {
      calls: 0,
      async review() {
        r.calls++;
        if (allowed === 'down') throw new Error('timed out');
        return allowed ? { allowed: true } : { allowed: false, reason: 'no RBAC policy matched' };
      },
    };
    return r;
  };

  test('allowed, denied (403 in Kubernetes words), unavailable (503)', async () => {
    expect(await createAuthorizer({ accessReviewer: reviewer(true) }).authorize(alice, attributes)).toEqual({ allowed: true });
    expect(await createAuthorizer({ accessReviewer: reviewer(false) }).authorize(alice, attributes)).toEqual({
      allowed: false,
      code: 403,
      message: 'forbidden: User "alice" cannot list resource "queue_depth" in API group "external.metrics.k8s.io" in the namespace "shop": no RBAC policy matched',
    });
    expect(await createAuthorizer({ accessReviewer: reviewer('down') }).authorize(alice, attributes)).toMatchObject({ allowed: false, code: 503 });
  });

  test('system:masters is never reviewed; without a reviewer every authenticated user is allowed', async () => {
    const r = reviewer(false);
    expect(await createAuthorizer({ accessReviewer: r }).authorize({ username: 'system:kube-aggregator', groups: ['system:masters'], extra: {} }, attributes)).toEqual({ allowed: true });
    expect(r.calls).toBe(0);
    expect(await createAuthorizer({}).authorize(alice, attributes)).toEqual({ allowed: true });
  });

  test('decisions are cached per user and attributes', async () => {
    const clock = new ManualClock();
    const r = reviewer(true);
    const cached = cachedAccessReviewer(r, { clock, ttlSeconds: 10 });
    await cached.review(alice, attributes);
    await cached.review({ ...alice, groups: [...alice.groups] }, attributes);
    expect(r.calls).toBe(1);
    await cached.review(alice, { ...attributes, namespace: 'other' });
    await cached.review({ ...alice, username: 'bob' }, attributes);
    expect(r.calls).toBe(3);
    clock.advance(11);
    await cached.review(alice, attributes);
    expect(r.calls).toBe(4);
  });
});

describe('kube-system/extension-apiserver-authentication', () => {
  test('a full ConfigMap: CAs as PEM text, lists as JSON', () => {
    const parsed = parseExtensionApiserverAuthentication({
      'client-ca-file': clientCA.certPem,
      'requestheader-client-ca-file': frontProxyCA.certPem,
      'requestheader-allowed-names': '["front-proxy-client"]',
      'requestheader-username-headers': '["X-Remote-User"]',
      'requestheader-group-headers': '["X-Remote-Group"]',
      'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
    });
    expect(parsed).toEqual({
      ok: true,
      value: {
        clientCAPem: clientCA.certPem,
        requestHeader: {
          clientCAPem: frontProxyCA.certPem,
          allowedNames: ['front-proxy-client'],
          usernameHeaders: ['X-Remote-User'],
          uidHeaders: ['X-Remote-Uid'],
          groupHeaders: ['X-Remote-Group'],
          extraHeaderPrefixes: ['X-Remote-Extra-'],
        },
      },
    });
  });

  test('without request-header keys only the client CA counts; an empty map trusts nothing', () => {
    expect(parseExtensionApiserverAuthentication({ 'client-ca-file': clientCA.certPem })).toEqual({ ok: true, value: { clientCAPem: clientCA.certPem } });
    expect(parseExtensionApiserverAuthentication({})).toEqual({ ok: true, value: {} });
  });

  test('a list that is not JSON is an error naming the key', () => {
    const parsed = parseExtensionApiserverAuthentication({ 'requestheader-client-ca-file': frontProxyCA.certPem, 'requestheader-allowed-names': 'front-proxy-client' });
    expect(parsed).toEqual({ ok: false, error: expect.stringMatching(/kube-system\/extension-apiserver-authentication key requestheader-allowed-names: expected a JSON list/) });
  });
});
