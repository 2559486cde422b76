/**
 * The certificate files of a TLS port that serves from files and may reload them: a serving
 * certificate (with its chain), its key, and optionally the CA bundle client certificates must
 * chain to. Read and checked here, once for the KEDA gRPC port (`keda.grpc.tls`) and the HTTP port
 * (`server.tls`), so both refuse the same bad files with the same messages, each naming its keys.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { ForesightError, messageOf, readPemFile } from '../../core/index.js';

/** The files, resolved: TLS needs the pair, mutual TLS also the client CA. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCAFile?: string | undefined;
}

/** Thrown when a TLS file is unusable; the message names the configuration key and the file. */
export class TlsFilesError extends ForesightError {
  override readonly name: string = 'TlsFilesError';

  constructor(message: string) {
    super('FORESIGHT_ERR_TLS_FILES', message);
  }
}

/** The certificate material at one point in time, checked and ready to serve. */
export interface TlsMaterial {
  /** The configuration section the files were named in (`keda.grpc.tls`, `server.tls`), for messages. */
  readonly section: string;
  /** PEM of the serving certificate and its chain, leaf first, as read. */
  readonly certChainPem: Buffer;
  readonly keyPem: Buffer;
  /** PEM of the CAs client certificates must chain to (mutual TLS), as read. */
  readonly clientCAPem: Buffer | undefined;
  /** The serving (leaf) certificate, for logs and expiry metrics. */
  readonly serving: X509Certificate;
  readonly clientCAs: readonly X509Certificate[];
  /** A digest of every input, to tell whether a reload changed anything. */
  readonly digest: string;
}

async function readFileNamed(path: string, key: string): Promise<Buffer> {
  return readPemFile(path, key).catch((error: unknown) => {
    throw new TlsFilesError(messageOf(error));
  });
}

/** Every certificate of a PEM bundle; throws naming the file when there is none or one is broken. */
function certificatesOf(pem: Buffer, path: string, key: string): X509Certificate[] {
  const blocks = pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new TlsFilesError(`${key} "${path}" holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsFilesError(`${key} "${path}": certificate ${index + 1} is not a valid X.509 certificate: ${messageOf(error)}`);
    }
  });
}

function privateKeyOf(pem: Buffer, path: string, key: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new TlsFilesError(`${key} "${path}" is not a PEM private key: ${messageOf(error)}`);
  }
}

/**
 * Reads and checks the files named in `section`: the certificate parses, the key is the
 * certificate's, the client CA bundle holds certificates, and Node's TLS accepts the whole. An
 * expired certificate is loaded (clients decide) and reported by {@link certificateWarnings}.
 *
 * @throws TlsFilesError naming the configuration key and the file.
 */
export async function loadTlsMaterial(files: TlsFiles, section: string): Promise<TlsMaterial> {
  const [certChainPem, keyPem, clientCAPem] = await Promise.all([
    readFileNamed(files.certFile, `${section}.certFile`),
    readFileNamed(files.keyFile, `${section}.keyFile`),
    files.clientCAFile === undefined ? Promise.resolve(undefined) : readFileNamed(files.clientCAFile, `${section}.clientCAFile`),
  ]);
  const chain = certificatesOf(certChainPem, files.certFile, `${section}.certFile`);
  const serving = chain[0]!;
  const key = privateKeyOf(keyPem, files.keyFile, `${section}.keyFile`);
  if (!serving.checkPrivateKey(key)) {
    throw new TlsFilesError(`${section}.keyFile "${files.keyFile}" is not the private key of the certificate in ${section}.certFile "${files.certFile}" (a rotation half done?)`);
  }
  const clientCAs = clientCAPem === undefined || files.clientCAFile === undefined ? [] : certificatesOf(clientCAPem, files.clientCAFile, `${section}.clientCAFile`);
  try {
    createSecureContext({ cert: certChainPem, key: keyPem, ...(clientCAPem === undefined ? {} : { ca: clientCAPem }) });
  } catch (error) {
    const named = `${section}.certFile "${files.certFile}", keyFile "${files.keyFile}"${files.clientCAFile === undefined ? '' : ` and clientCAFile "${files.clientCAFile}"`}`;
    throw new TlsFilesError(`${named} are refused by TLS: ${messageOf(error)}`);
  }
  const digest = createHash('sha256')
    .update(certChainPem)
    .update('\0')
    .update(keyPem)
    .update('\0')
    .update(clientCAPem ?? '')
    .digest('hex');
  return { section, certChainPem, keyPem, clientCAPem, serving, clientCAs, digest };
}

/**
 * What is wrong with loaded material that does not stop it from serving: an expired or not yet
 * valid serving certificate or client CA. Empty when all is well.
 */
export function certificateWarnings(material: TlsMaterial, nowMs: number): string[] {
  const warnings: string[] = [];
  const check = (certificate: X509Certificate, what: string) => {
    if (Date.parse(certificate.validTo) <= nowMs) warnings.push(`${what} expired at ${new Date(Date.parse(certificate.validTo)).toISOString()}`);
    else if (Date.parse(certificate.validFrom) > nowMs) warnings.push(`${what} is not valid before ${new Date(Date.parse(certificate.validFrom)).toISOString()}`);
  };
  check(material.serving, `the serving certificate (${material.section}.certFile)`);
  material.clientCAs.forEach((ca, index) => {
    check(ca, `client CA ${index + 1} (${material.section}.clientCAFile)`);
  });
  return warnings;
}
