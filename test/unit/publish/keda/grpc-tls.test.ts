/**
 * Loading the `keda.grpc.tls` files (pki/tls-files.ts, shared with `server.tls`): what is accepted, and for everything else an error that names
 * the configuration key and the file. Certificates come from the project's own PKI code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CertificateAndKey, certificateWarnings, createCertificate, loadTlsMaterial, type TlsFiles, TlsFilesError } from '../../../../src/publish/pki/index.js';
import { configFromYaml } from '../../../support/service.js';

const hourSeconds = 3600;
const loadKeda = (files: TlsFiles) => loadTlsMaterial(files, 'keda.grpc.tls');
const nowMs = Date.UTC(2026, 10, 2, 12, 0, 0);

function issue(nowAtMs: number): { ca: CertificateAndKey; serving: CertificateAndKey; otherServing: CertificateAndKey } {
  const notBeforeMs = nowAtMs - hourSeconds * 1000;
  const ca = createCertificate({ subject: { commonName: 'test-ca' }, usage: 'ca', notBeforeMs, validForSeconds: 48 * hourSeconds });
  const leaf = () => createCertificate({ subject: { commonName: 'foresight' }, usage: 'server', hosts: ['localhost'], notBeforeMs, validForSeconds: 24 * hourSeconds }, ca);
  return { ca, serving: leaf(), otherServing: leaf() };
}

describe('loadTlsMaterial of keda.grpc.tls', () => {
  let dir: string;
  let pki: ReturnType<typeof issue>;
  const path = (name: string) => join(dir, name);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'foresight-keda-tls-'));
    pki = issue(nowMs);
    writeFileSync(path('tls.crt'), pki.serving.certPem + pki.ca.certPem);
    writeFileSync(path('tls.key'), pki.serving.keyPem);
    writeFileSync(path('other.key'), pki.otherServing.keyPem);
    writeFileSync(path('ca.crt'), pki.ca.certPem);
    writeFileSync(path('garbage.pem'), 'not a certificate\n');
    writeFileSync(path('broken.crt'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reads a certificate chain, its key and a client CA bundle', async () => {
    const material = await loadKeda({ certFile: path('tls.crt'), keyFile: path('tls.key'), clientCAFile: path('ca.crt') });
    expect(material.serving.fingerprint256).toBe(pki.serving.certificate.fingerprint256);
    expect(material.clientCAs.map((c) => c.fingerprint256)).toEqual([pki.ca.certificate.fingerprint256]);
    expect(material.certChainPem.toString()).toBe(pki.serving.certPem + pki.ca.certPem);
    expect(certificateWarnings(material, nowMs)).toEqual([]);
  });

  test('the digest changes with any file and only then', async () => {
    const files = { certFile: path('tls.crt'), keyFile: path('tls.key') };
    const a = await loadKeda(files);
    const b = await loadKeda(files);
    const withCa = await loadKeda({ ...files, clientCAFile: path('ca.crt') });
    expect(b.digest).toBe(a.digest);
    expect(withCa.digest).not.toBe(a.digest);
    expect(a.clientCAPem).toBeUndefined();
  });

  const refused: readonly { name: string; files: () => { certFile: string; keyFile: string; clientCAFile?: string }; message: () => string }[] = [
    { name: 'a missing certificate file', files: () => ({ certFile: path('nope.crt'), keyFile: path('tls.key') }), message: () => `cannot read keda.grpc.tls.certFile ${path('nope.crt')}: ENOENT` },
    { name: 'a missing key file', files: () => ({ certFile: path('tls.crt'), keyFile: path('nope.key') }), message: () => `cannot read keda.grpc.tls.keyFile ${path('nope.key')}: ENOENT` },
    {
      name: 'a missing client CA file',
      files: () => ({ certFile: path('tls.crt'), keyFile: path('tls.key'), clientCAFile: path('nope.crt') }),
      message: () => `cannot read keda.grpc.tls.clientCAFile ${path('nope.crt')}`,
    },
    {
      name: 'a certificate file without a certificate',
      files: () => ({ certFile: path('garbage.pem'), keyFile: path('tls.key') }),
      message: () => `keda.grpc.tls.certFile "${path('garbage.pem')}" holds no PEM certificate`,
    },
    {
      name: 'a broken certificate',
      files: () => ({ certFile: path('broken.crt'), keyFile: path('tls.key') }),
      message: () => `keda.grpc.tls.certFile "${path('broken.crt')}": certificate 1 is not a valid X.509 certificate`,
    },
    {
      name: 'a key file without a key',
      files: () => ({ certFile: path('tls.crt'), keyFile: path('garbage.pem') }),
      message: () => `keda.grpc.tls.keyFile "${path('garbage.pem')}" is not a PEM private key`,
    },
    {
      name: 'the key of another certificate (a rotation half done)',
      files: () => ({ certFile: path('tls.crt'), keyFile: path('other.key') }),
      message: () => `keda.grpc.tls.keyFile "${path('other.key')}" is not the private key of the certificate in keda.grpc.tls.certFile "${path('tls.crt')}"`,
    },
    {
      name: 'a client CA file without a certificate',
      files: () => ({ certFile: path('tls.crt'), keyFile: path('tls.key'), clientCAFile: path('garbage.pem') }),
      message: () => `keda.grpc.tls.clientCAFile "${path('garbage.pem')}" holds no PEM certificate`,
    },
  ];
  for (const tc of refused) {
    test(`refuses ${tc.name}, naming the key and the file`, async () => {
      const error = await loadKeda(tc.files()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TlsFilesError);
      expect(error).toMatchObject({ name: 'TlsFilesError', code: 'FORESIGHT_ERR_TLS_FILES' });
      expect((error as Error).message).toContain(tc.message());
    });
  }
});

describe('certificateWarnings', () => {
  test('names an expired serving certificate and a client CA not yet valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foresight-keda-tls-'));
    try {
      const old = issue(nowMs - 30 * 24 * hourSeconds * 1000);
      const future = issue(nowMs + 30 * 24 * hourSeconds * 1000);
      writeFileSync(join(dir, 'tls.crt'), old.serving.certPem);
      writeFileSync(join(dir, 'tls.key'), old.serving.keyPem);
      writeFileSync(join(dir, 'ca.crt'), future.ca.certPem);
      const material = await loadKeda({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), clientCAFile: join(dir, 'ca.crt') });
      const warnings = certificateWarnings(material, nowMs);
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toMatch(/^the serving certificate \(keda\.grpc\.tls\.certFile\) expired at 2026-10-0\dT/);
      expect(warnings[1]).toMatch(/^client CA 1 \(keda\.grpc\.tls\.clientCAFile\) is not valid before 2026-12-0\dT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('keda.grpc.tls in the configuration', () => {
  test('defaults to plaintext with a 30 s reload interval', () => {
    expect(configFromYaml('{}').keda.grpc.tls).toEqual({ reloadInterval: 30 });
  });

  test('refuses half a pair, and a client CA without TLS, naming the key', () => {
    expect(() => configFromYaml('keda: { grpc: { tls: { certFile: /a.crt } } }')).toThrow(/keda\.grpc\.tls\.keyFile.*set both tls\.certFile and tls\.keyFile/s);
    expect(() => configFromYaml('keda: { grpc: { tls: { clientCAFile: /ca.crt } } }')).toThrow(/keda\.grpc\.tls\.clientCAFile.*only asked for over TLS/s);
  });
});
