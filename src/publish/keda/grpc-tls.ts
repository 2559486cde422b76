/**
 * TLS for the KEDA external scaler's gRPC port: the certificate files (read and checked by pki/tls-files.ts) are
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
import * as grpc from '@grpc/grpc-js';
import type { TlsMaterial } from '../pki/index.js';

type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;
type CaListener = grpc.experimental.CaCertificateUpdateListener;

/**
 * A CertificateProvider that announces only what it is given. Listeners are told the current
 * material on the next tick, never synchronously: grpc-js adds its server watcher only after it has
 * registered with the provider, so a synchronous answer would reach nobody and the server would
 * drop every connection until the next change.
 */
class MaterialProvider implements grpc.experimental.CertificateProvider {
  #material: TlsMaterial;
  readonly #identityListeners = new Set<IdentityListener>();
  readonly #caListeners = new Set<CaListener>();

  constructor(material: TlsMaterial) {
    this.#material = material;
  }

  #identity(): grpc.experimental.IdentityCertificateUpdate {
    return { certificate: this.#material.certChainPem, privateKey: this.#material.keyPem };
  }

  #ca(): grpc.experimental.CaCertificateUpdate | null {
    return this.#material.clientCAPem === undefined ? null : { caCertificate: this.#material.clientCAPem };
  }

  set(material: TlsMaterial): void {
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
  update(material: TlsMaterial): void;
}

/**
 * Builds TLS server credentials over `initial`. With a client CA, clients must present a
 * certificate that chains to it (the handshake fails otherwise); without one, none is asked for.
 * Whether a client CA is used is fixed here: grpc-js sets `requestCert` when it creates the HTTP/2
 * server, so adding or removing `clientCAFile` needs a restart, while the files' content can change
 * at any time.
 */
export function createReloadableCredentials(initial: TlsMaterial): ReloadableServerCredentials {
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
