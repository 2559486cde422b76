/**
 * Certificates made by the `openssl` binary at test time, with whatever extensions, dates, names
 * and signing keys a test asks for, including the wrong ones an attacker would use. Built by an
 * implementation independent of the project's own DER writer, so that the verifier is not tested
 * only against certificates it might misread the same way it writes them.
 *
 * Every certificate goes through `openssl ca` (the only openssl 3.0 command that takes arbitrary
 * start and end dates), with a throwaway database in the workspace folder.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and key made by openssl. */
export interface OpensslCertificate {
  readonly name: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly certificate: X509Certificate;
}

/** What to make. */
export interface CertificateSpec {
  /** File name stem, unique in the workspace. */
  readonly name: string;
  /** The subject as openssl writes it: "/CN=front-proxy-client/O=system:masters". */
  readonly subject: string;
  /** The signer; self-signed when absent. */
  readonly issuer?: OpensslCertificate;
  /** openssl extension lines (basicConstraints=critical,CA:TRUE …); none when empty. */
  readonly extensions: readonly string[];
  /** Validity as seconds from now (negative: in the past); default from 1 hour ago to 1 day ahead. */
  readonly notBeforeSeconds?: number;
  readonly notAfterSeconds?: number;
  /** Reuse the key of another certificate (a cross-signed copy has its subject's key). */
  readonly keyOf?: OpensslCertificate;
}

/** Extension lines of the usual kinds of certificate. */
export const profiles = {
  ca: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'],
  client: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'],
} as const;

const caConfig = `[ca]
default_ca = any
[any]
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = anything
unique_subject = no
preserve = yes
[anything]
commonName = supplied
organizationName = optional
`;

/** openssl's date form, GeneralizedTime. */
function opensslTime(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/** A folder where openssl issues certificates; dispose() removes it. */
export class OpensslWorkspace {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'foresight-openssl-'));
    writeFileSync(join(this.dir, 'ca.cnf'), caConfig);
    writeFileSync(join(this.dir, 'index.txt'), '');
    writeFileSync(join(this.dir, 'serial'), '1000\n');
    mkdirSync(join(this.dir, 'issued'));
  }

  #openssl(args: readonly string[]): string {
    return execFileSync('openssl', args, { cwd: this.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Runs openssl in the workspace, for a test's own commands. */
  run(args: readonly string[]): string {
    return this.#openssl(args);
  }

  /** A file of the workspace. */
  file(name: string): string {
    return join(this.dir, name);
  }

  /** Writes a file into the workspace and returns its path. */
  write(name: string, text: string): string {
    writeFileSync(this.file(name), text);
    return this.file(name);
  }

  /** Reads a certificate and key the test made with its own commands. */
  load(name: string, certFile: string, keyFile: string): OpensslCertificate {
    const certPem = readFileSync(this.file(certFile), 'utf8');
    return { name, certFile: this.file(certFile), keyFile: this.file(keyFile), certPem, keyPem: readFileSync(this.file(keyFile), 'utf8'), certificate: new X509Certificate(certPem) };
  }

  /** Issues one certificate as `spec` says. */
  issue(spec: CertificateSpec): OpensslCertificate {
    const keyFile = spec.keyOf?.keyFile ?? this.file(`${spec.name}.key`);
    // Keys come from node:crypto: one openssl process fewer per certificate.
    if (spec.keyOf === undefined) writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const csr = this.file(`${spec.name}.csr`);
    this.#openssl(['req', '-new', '-key', keyFile, '-subj', spec.subject, '-out', csr]);
    const extFile = this.write(`${spec.name}.ext`, `${spec.extensions.join('\n')}\n`);
    const certFile = this.file(`${spec.name}.crt`);
    const nowMs = Date.now();
    const signer = spec.issuer === undefined ? ['-selfsign', '-keyfile', keyFile] : ['-cert', spec.issuer.certFile, '-keyfile', spec.issuer.keyFile];
    this.#openssl([
      'ca',
      '-batch',
      '-notext',
      '-config',
      'ca.cnf',
      ...signer,
      '-in',
      csr,
      '-out',
      certFile,
      ...(spec.extensions.length === 0 ? [] : ['-extfile', extFile]),
      '-startdate',
      opensslTime(nowMs + (spec.notBeforeSeconds ?? -3600) * 1000),
      '-enddate',
      opensslTime(nowMs + (spec.notAfterSeconds ?? 86_400) * 1000),
    ]);
    const certPem = readFileSync(certFile, 'utf8');
    return { name: spec.name, certFile, keyFile, certPem, keyPem: readFileSync(keyFile, 'utf8'), certificate: new X509Certificate(certPem) };
  }

  /** The subjectKeyIdentifier of a certificate as openssl prints it ("AB:CD:…"). */
  subjectKeyIdentifier(certificate: OpensslCertificate): string {
    return this.#openssl(['x509', '-in', certificate.certFile, '-noout', '-ext', 'subjectKeyIdentifier']).trim().split('\n').at(-1)!.trim();
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
