/**
 * TLS for the KEDA external scaler's gRPC port: the certificate files are read and checked here, and
 * handed to @grpc/grpc-js as credentials that can change while the server runs.
 *
 * grpc-js 1.14 swaps a live server's TLS context through `experimental.createCertificateProviderServerCredentials`:
 * the server registers a watcher and calls `setSecureContext` on its HTTP/2 server whenever the
 * provider announces new material, so new connections get the new certificate and open ones (with
 * their StreamIsActive streams) go on untouched. Its own FileWatcherCertificateProvider is not used:
 * when a file is missing or unreadable it announces "no certificate", and the server then drops
 * every new connection until the files are fixed; and it never checks that a key belongs to its
 * certificate. The provider here only ever announces material that loaded and passed Node's own
 * TLS check, so a bad rotation leaves the previous certificate serving.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { failureMessage } from '../auth/index.js';

/** The files of `keda.grpc.tls`, resolved: TLS needs the pair, mutual TLS also the client CA. */
export interface KedaTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCAFile?: string | undefined;
}

/** Thrown when a `keda.grpc.tls` file is unusable; the message names the key and the file. */
export class KedaTlsError extends Error {
  override readonly name = 'KedaTlsError';
}

/** The certificate material at one point in time, checked and ready to serve. */
export interface KedaTlsMaterial {
  /** PEM of the serving certificate and its chain, leaf first, as read. */
  readonly certChainPem: Buffer;
  readonly keyPem: Buffer;
  /** PEM of the CAs client certificates must chain to (mutual TLS), as read. */
  readonly clientCAPem: Buffer | undefined;
  /** The serving (leaf) certificate, for logs. */
  readonly serving: X509Certificate;
  readonly clientCAs: readonly X509Certificate[];
  /** A digest of every input, to tell whether a reload changed anything. */
  readonly digest: string;
}

async function readFileNamed(path: string, key: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new KedaTlsError(`cannot read keda.grpc.tls.${key} "${path}": ${failureMessage(error)}`);
  }
}

/** Every certificate of a PEM bundle; throws naming the file when there is none or one is broken. */
function certificatesOf(pem: Buffer, path: string, key: string): X509Certificate[] {
  const blocks = pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new KedaTlsError(`keda.grpc.tls.${key} "${path}" holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new KedaTlsError(`keda.grpc.tls.${key} "${path}": certificate ${index + 1} is not a valid X.509 certificate: ${failureMessage(error)}`);
    }
  });
}

function privateKeyOf(pem: Buffer, path: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new KedaTlsError(`keda.grpc.tls.keyFile "${path}" is not a PEM private key: ${failureMessage(error)}`);
  }
}

/**
 * Reads and checks the files: the certificate parses, the key is the certificate's, the client CA
 * bundle holds certificates, and Node's TLS accepts the whole (what grpc-js will do with it). An
 * expired certificate is loaded (clients decide; `unsafeSsl` ones still connect) and reported by
 * {@link certificateWarnings}.
 *
 * @throws KedaTlsError naming the configuration key and the file.
 */
export async function loadKedaTlsMaterial(files: KedaTlsFiles): Promise<KedaTlsMaterial> {
  const [certChainPem, keyPem, clientCAPem] = await Promise.all([
    readFileNamed(files.certFile, 'certFile'),
    readFileNamed(files.keyFile, 'keyFile'),
    files.clientCAFile === undefined ? Promise.resolve(undefined) : readFileNamed(files.clientCAFile, 'clientCAFile'),
  ]);
  const chain = certificatesOf(certChainPem, files.certFile, 'certFile');
  const serving = chain[0]!;
  const key = privateKeyOf(keyPem, files.keyFile);
  if (!serving.checkPrivateKey(key)) {
    throw new KedaTlsError(`keda.grpc.tls.keyFile "${files.keyFile}" is not the private key of the certificate in keda.grpc.tls.certFile "${files.certFile}" (a rotation half done?)`);
  }
  const clientCAs = clientCAPem === undefined || files.clientCAFile === undefined ? [] : certificatesOf(clientCAPem, files.clientCAFile, 'clientCAFile');
  try {
    createSecureContext({ cert: certChainPem, key: keyPem, ...(clientCAPem === undefined ? {} : { ca: clientCAPem }) });
  } catch (error) {
    const named = `keda.grpc.tls.certFile "${files.certFile}", keyFile "${files.keyFile}"${files.clientCAFile === undefined ? '' : ` and clientCAFile "${files.clientCAFile}"`}`;
    throw new KedaTlsError(`${named} are refused by TLS: ${failureMessage(error)}`);
  }
  const digest = createHash('sha256')
    .update(certChainPem)
    .update('\0')
    .update(keyPem)
    .update('\0')
    .update(clientCAPem ?? '')
    .digest('hex');
  return { certChainPem, keyPem, clientCAPem, serving, clientCAs, digest };
}

/**
 * What is wrong with loaded material that does not stop it from serving: an expired or not yet
 * valid serving certificate or client CA. Empty when all is well.
 */
export function certificateWarnings(material: KedaTlsMaterial, nowMs: number): string[] {
  const warnings: string[] = [];
  const check = (certificate: X509Certificate, what: string) => {
    if (Date.parse(certificate.validTo) <= nowMs) warnings.push(`${what} expired at ${new Date(Date.parse(certificate.validTo)).toISOString()}`);
    else if (Date.parse(certificate.validFrom) > nowMs) warnings.push(`${what} is not valid before ${new Date(Date.parse(certificate.validFrom)).toISOString()}`);
  };
  check(material.serving, 'the serving certificate (keda.grpc.tls.certFile)');
  material.clientCAs.forEach((ca, index) => {
    check(ca, `client CA ${index + 1} (keda.grpc.tls.clientCAFile)`);
  });
  return warnings;
}

type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;
type CaListener = grpc.experimental.CaCertificateUpdateListener;

/**
 * A CertificateProvider that announces only what it is given. Listeners are told the current
 * material on the next tick, never synchronously: grpc-js adds its server watcher only after it has
 * registered with the provider, so a synchronous answer would reach nobody and the server would
 * drop every connection until the next change.
 */
class MaterialProvider implements grpc.experimental.CertificateProvider {
  #material: KedaTlsMaterial;
  readonly #identityListeners = new Set<IdentityListener>();
  readonly #caListeners = new Set<CaListener>();

  constructor(material: KedaTlsMaterial) {
    this.#material = material;
  }

  #identity(): grpc.experimental.IdentityCertificateUpdate {
    return { certificate: this.#material.certChainPem, privateKey: this.#material.keyPem };
  }

  #ca(): grpc.experimental.CaCertificateUpdate | null {
    return this.#material.clientCAPem === undefined ? null : { caCertificate: this.#material.clientCAPem };
  }

  set(material: KedaTlsMaterial): void {
    this.#material = material;
    // The CA first, then the identity: grpc-js rebuilds the context on each, and both
    // intermediate and final contexts are valid (every file was checked on its own).
    const ca = this.#ca();
    for (const listener of this.#caListeners) listener(ca);
    const identity = this.#identity();
    for (const listener of this.#identityListeners) listener(identity);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    process.nextTick(() => {
      if (this.#caListeners.has(listener)) listener(this.#ca());
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    process.nextTick(() => {
      if (this.#identityListeners.has(listener)) listener(this.#identity());
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }
}

/** Server credentials whose certificate material can be replaced while the server runs. */
export interface ReloadableServerCredentials {
  readonly credentials: grpc.ServerCredentials;
  /** True when clients must present a certificate from the client CA (fixed at creation). */
  readonly mutual: boolean;
  /** Serves `material` to new connections from now on; open connections keep theirs. */
  update(material: KedaTlsMaterial): void;
}

/**
 * Builds TLS server credentials over `initial`. With a client CA, clients must present a
 * certificate that chains to it (the handshake fails otherwise); without one, none is asked for.
 * Whether a client CA is used is fixed here: grpc-js sets `requestCert` when it creates the HTTP/2
 * server, so adding or removing `clientCAFile` needs a restart, while the files' content can change
 * at any time.
 */
export function createReloadableCredentials(initial: KedaTlsMaterial): ReloadableServerCredentials {
  const provider = new MaterialProvider(initial);
  const mutual = initial.clientCAPem !== undefined;
  // grpc-js 1.14 declares the parameters as (caCertificateProvider, identityCertificateProvider,
  // requireClientCertificate) but passes them on positionally to a constructor that takes
  // (identity, ca, requireClientCertificate): the first argument is the identity, the second the
  // optional CA. With mutual TLS the same provider fills both, which is right in either reading;
  // without it the CA is null. test/integration/keda-grpc.test.ts runs both, so a change in
  // grpc-js shows there.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, mutual ? provider : null, mutual);
  return {
    credentials,
    mutual,
    update(material) {
      provider.set(material);
    },
  };
}
