import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { createCertificate, ensureLocalPki, localPkiFiles, parseCertificateBundle, writeLocalKubeconfig } from '../../../../src/publish/index.js';
import { requireBinaries } from '../../../support/binaries.js';

const nowMs = Date.UTC(2026, 10, 2, 12, 0, 0);
const ca = createCertificate({ subject: { commonName: 'test-ca' }, usage: 'ca', notBeforeMs: nowMs, validForSeconds: 86_400 });
const server = createCertificate(
  { subject: { commonName: 'foresight' }, usage: 'server', hosts: ['localhost', 'foresight.monitoring.svc', '127.0.0.1', '::1', 'fd00::2:1'], notBeforeMs: nowMs, validForSeconds: 3600 },
  ca,
);
const client = createCertificate({ subject: { commonName: 'front-proxy-client', organizations: ['system:masters'] }, usage: 'client', notBeforeMs: nowMs, validForSeconds: 3600 }, ca);

describe('certificates made with node:crypto and the DER writer', () => {
  test('a CA that signs leaves Node accepts', () => {
    expect(ca.certificate.ca).toBe(true);
    expect(server.certificate.ca).toBe(false);
    for (const leaf of [server, client]) {
      expect(leaf.certificate.checkIssued(ca.certificate)).toBe(true);
      expect(leaf.certificate.verify(ca.certificate.publicKey)).toBe(true);
      expect(leaf.certificate.checkPrivateKey(leaf.privateKey)).toBe(true);
    }
    expect(ca.certificate.verify(ca.certificate.publicKey)).toBe(true);
  });

  test('subject, SANs, key usage and validity are as asked', () => {
    expect(client.certificate.subject.split('\n')).toEqual(['O=system:masters', 'CN=front-proxy-client']);
    expect(server.certificate.issuer).toBe('CN=test-ca');
    expect(server.certificate.subjectAltName).toBe('DNS:localhost, DNS:foresight.monitoring.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FD00:0:0:0:0:0:2:1');
    expect(server.certificate.checkHost('foresight.monitoring.svc')).toBe('foresight.monitoring.svc');
    expect(server.certificate.checkIP('::1')).toBe('::1');
    expect(server.certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(client.certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(new Date(server.certificate.validFrom).getTime()).toBe(nowMs);
    expect(new Date(server.certificate.validTo).getTime()).toBe(nowMs + 3_600_000);
  });

  test('dates from 2050 on are GeneralizedTime (RFC 5280), and parse back', () => {
    const late = createCertificate({ subject: { commonName: 'late' }, usage: 'ca', notBeforeMs: Date.UTC(2049, 11, 31, 0, 0, 0), validForSeconds: 2 * 86_400 });
    expect(new Date(late.certificate.validTo).toISOString()).toBe('2050-01-02T00:00:00.000Z');
  });

  test('serial numbers are positive and distinct', () => {
    const serials = new Set(Array.from({ length: 20 }, () => createCertificate({ subject: { commonName: 'x' }, usage: 'ca', notBeforeMs: nowMs, validForSeconds: 60 }).certificate.serialNumber));
    expect(serials.size).toBe(20);
    for (const serial of serials) expect(Number.parseInt(serial.slice(0, 1), 16)).toBeLessThan(8);
  });

  test('a PEM bundle parses into its certificates', () => {
    expect(parseCertificateBundle(`${ca.certPem}${server.certPem}`).map((c) => c.subject)).toEqual(['CN=test-ca', 'CN=foresight']);
    expect(parseCertificateBundle('no certificate here')).toEqual([]);
  });
});

describe.skipIf(!requireBinaries('openssl'))('cross-checked by OpenSSL', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foresight-pki-openssl-'));
    await writeFile(join(dir, 'ca.crt'), ca.certPem);
    await writeFile(join(dir, 'server.crt'), server.certPem);
    await writeFile(join(dir, 'client.crt'), client.certPem);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('openssl verifies the chain for the TLS server and client purposes', () => {
    // -attime: the certificates are made for a fixed date, so the check must not depend on today's.
    const at = String(nowMs / 1000 + 60);
    const verify = (purpose: string, file: string) => execFileSync('openssl', ['verify', '-attime', at, '-purpose', purpose, '-CAfile', join(dir, 'ca.crt'), join(dir, file)], { encoding: 'utf8' });
    expect(verify('sslserver', 'server.crt')).toContain('server.crt: OK');
    expect(verify('sslclient', 'client.crt')).toContain('client.crt: OK');
    expect(() => verify('sslserver', 'client.crt')).toThrow();
  });

  test('openssl reads the extensions as written', () => {
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'server.crt'), '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/Version: 3 \(0x2\)/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature/);
    expect(text).toMatch(/Subject Key Identifier/);
    expect(text).toMatch(/Authority Key Identifier/);
  });
});

describe('the local PKI', () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'foresight-local-pki-')), 'pki');
  });
  afterEach(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  test('is generated once, then reused as long as it fits', async () => {
    const first = await ensureLocalPki({ dir, nowMs });
    expect(first.generated).toEqual(['ca', 'serving', 'client']);
    expect(first.client.certificate.subject).toBe('O=system:masters\nCN=foresight-local-admin');
    expect(first.serving.certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, localPkiFiles.caKey))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, localPkiFiles.clientKey))).mode & 0o777).toBe(0o600);

    const again = await ensureLocalPki({ dir, nowMs: nowMs + 86_400_000 });
    expect(again.generated).toEqual([]);
    expect(again.ca.certificate.fingerprint256).toBe(first.ca.certificate.fingerprint256);
  });

  test('a new host re-issues only the serving certificate', async () => {
    const first = await ensureLocalPki({ dir, nowMs });
    const widened = await ensureLocalPki({ dir, nowMs, hosts: ['foresight.example.test'] });
    expect(widened.generated).toEqual(['serving']);
    expect(widened.serving.certificate.checkHost('foresight.example.test')).toBe('foresight.example.test');
    expect(widened.client.certificate.fingerprint256).toBe(first.client.certificate.fingerprint256);
  });

  test('expiring or unreadable parts are regenerated', async () => {
    await ensureLocalPki({ dir, nowMs });
    const nearExpiry = await ensureLocalPki({ dir, nowMs: nowMs + 360 * 86_400_000 });
    expect(nearExpiry.generated).toEqual(['serving', 'client']);
    await writeFile(join(dir, localPkiFiles.caCert), 'garbage');
    expect((await ensureLocalPki({ dir, nowMs })).generated).toEqual(['ca', 'serving', 'client']);
  });

  test('the kubeconfig embeds the CA and the client certificate', async () => {
    const pki = await ensureLocalPki({ dir, nowMs });
    const path = await writeLocalKubeconfig(pki, 'https://127.0.0.1:6443');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const kubeconfig = parse(await readFile(path, 'utf8')) as {
      clusters: { cluster: Record<string, string> }[];
      users: { user: Record<string, string> }[];
      'current-context': string;
    };
    const decode = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');
    expect(kubeconfig['current-context']).toBe('foresight-local');
    expect(kubeconfig.clusters[0]!.cluster['server']).toBe('https://127.0.0.1:6443');
    expect(decode(kubeconfig.clusters[0]!.cluster['certificate-authority-data'])).toBe(pki.ca.certPem);
    expect(decode(kubeconfig.users[0]!.user['client-certificate-data'])).toBe(pki.client.certPem);
    expect(decode(kubeconfig.users[0]!.user['client-key-data'])).toBe(pki.client.keyPem);
  });
});
