/**
 * The listener of the HTTP port (`server.host`, `server.port`): plain HTTP, or HTTPS when
 * `server.tls.certFile` and `keyFile` are set, asking for a client certificate when
 * `server.tls.clientCAFile` is. The TLS layer only asks (`rejectUnauthorized: false`): the express
 * app decides per path (access.ts), so that kubelet probes, which present no certificate, still
 * reach /healthz and /readyz, and every other refusal is a 401 or 403 with a `Status` body rather
 * than a handshake error a client cannot read.
 *
 * What the port is (HTTP or HTTPS, asking for certificates or not) is fixed at start, as host and
 * port are; the files' contents are re-read every `server.tls.reloadInterval`, and new material
 * applies to new connections (a bad rotation is refused and the previous material keeps serving).
 */
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { singleFlight } from '../core/index.js';
import { certificateWarnings, loadTlsMaterial, noTlsMetrics, type TlsFiles, type TlsMaterial, type TlsMetrics } from '../publish/index.js';
import type { ClientCertificateTrust } from './access.js';
import { closeServer } from './close-server.js';
import { answerParserErrors } from './parser-errors.js';

/** What the listener is built from. */
export interface HttpListenerDeps {
  /** The express app (or any request listener). */
  readonly app: RequestListener;
  readonly config: () => Config;
  readonly logger: Logger;
  /** Certificate expiry and reload outcomes (`server="http"`); none by default. */
  readonly tlsMetrics?: TlsMetrics;
  /** The time certificate warnings are judged at (default: the system clock). */
  readonly wallClockMs?: () => number;
}

/** The HTTP port. */
export interface HttpListener {
  /** Loads the TLS files when configured (rejecting with a TlsFilesError naming the key and file), then listens. */
  start(): Promise<void>;
  /** Stops the reload timer and closes the server once open requests end. */
  stop(): Promise<void>;
  /** `http://host:port` or `https://host:port`, once started (127.0.0.1 when bound to all interfaces). */
  readonly url: string;
  /** Re-reads the TLS files now (the timer does it every `server.tls.reloadInterval`); resolves true when something changed. */
  reload(): Promise<boolean>;
  /** What client certificates are checked against, or undefined when the port asks for none. */
  clientCertificates(): ClientCertificateTrust | undefined;
}

const section = 'server.tls';

/**
 * `scheme://host:port` of a listening server, for clients on this machine: 127.0.0.1 when it is
 * bound to every interface. Throws naming `what` when it does not listen.
 */
export function listeningUrl(server: { address(): AddressInfo | string | null } | undefined, scheme: 'http' | 'https', what: string): string {
  const address = server?.address();
  if (address === undefined || address === null || typeof address === 'string') throw new Error(`${what} is not listening`);
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** The TLS files of the configuration, or undefined for plain HTTP. */
function tlsFilesOf(tls: Config['server']['tls']): TlsFiles | undefined {
  if (tls.certFile === undefined || tls.keyFile === undefined) return undefined;
  return { certFile: tls.certFile, keyFile: tls.keyFile, clientCAFile: tls.clientCAFile };
}

function secureContextOptions(material: TlsMaterial) {
  return { cert: material.certChainPem, key: material.keyPem, ...(material.clientCAPem === undefined ? {} : { ca: material.clientCAPem }) };
}

function inUse(material: TlsMaterial) {
  return { serving: material.serving, clientCAs: material.clientCAs };
}

/** Creates the listener; nothing happens until `start()`. */
export function createHttpListener(deps: HttpListenerDeps): HttpListener {
  const tlsMetrics = deps.tlsMetrics ?? noTlsMetrics;
  const wallClockMs = deps.wallClockMs ?? Date.now;
  let server: HttpServer | HttpsServer | undefined;
  let files: TlsFiles | undefined;
  let material: TlsMaterial | undefined;
  let reloadTimer: NodeJS.Timeout | undefined;

  const warnAbout = (m: TlsMaterial): void => {
    for (const warning of certificateWarnings(m, wallClockMs())) deps.logger.warn({ problem: warning }, 'HTTP port certificate problem: clients that verify it will refuse the connection');
  };

  // A timer's reload and one asked for by hand share one read of the files.
  const reload = singleFlight(async (): Promise<boolean> => {
    const https = server;
    if (files === undefined || material === undefined || https === undefined || !('setSecureContext' in https)) return false;
    let next: TlsMaterial;
    try {
      next = await loadTlsMaterial(files, section);
    } catch (error) {
      if (server !== undefined) tlsMetrics.reloaded('http', 'failed');
      deps.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'HTTP port certificate change refused; the previous certificates keep serving');
      return false;
    }
    if (server === undefined) return false;
    if (next.digest === material.digest) {
      tlsMetrics.reloaded('http', 'unchanged');
      return false;
    }
    // loadTlsMaterial has built a context from the same inputs, so this does not throw.
    https.setSecureContext(secureContextOptions(next));
    material = next;
    tlsMetrics.reloaded('http', 'changed', inUse(next));
    warnAbout(next);
    deps.logger.info({ servingCertificateExpires: next.serving.validTo, clientCAs: next.clientCAs.length }, 'HTTP port certificates reloaded; new connections use them');
    return true;
  });

  const urlOf = (): string => listeningUrl(server, material === undefined ? 'http' : 'https', 'the service');

  return {
    reload,
    get url(): string {
      return urlOf();
    },
    clientCertificates() {
      if (material === undefined || material.clientCAs.length === 0) return undefined;
      return { clientCAs: material.clientCAs, allowedNames: deps.config().server.tls.allowedNames };
    },
    async start() {
      if (server !== undefined) return;
      const { host, port, tls } = deps.config().server;
      files = tlsFilesOf(tls);
      material = files === undefined ? undefined : await loadTlsMaterial(files, section);
      const created =
        material === undefined
          ? createHttpServer(deps.app)
          : createHttpsServer({ ...secureContextOptions(material), requestCert: material.clientCAPem !== undefined, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, deps.app);
      answerParserErrors(created);
      // A failed handshake (no common protocol, a client that hung up) never reaches the app: not an error of ours.
      created.on('tlsClientError', (error: Error) => deps.logger.debug({ err: error.message }, 'TLS handshake failed on the HTTP port'));
      await new Promise<void>((resolve, reject) => {
        created.once('error', reject);
        created.listen(port, host, () => {
          created.off('error', reject);
          resolve();
        });
      });
      server = created;
      if (material !== undefined) {
        tlsMetrics.started('http', inUse(material));
        warnAbout(material);
        reloadTimer = setInterval(() => void reload(), tls.reloadInterval * 1000);
        reloadTimer.unref();
      }
    },
    async stop() {
      if (reloadTimer !== undefined) clearInterval(reloadTimer);
      reloadTimer = undefined;
      const closing = server;
      server = undefined;
      if (closing === undefined) return;
      if (material !== undefined) tlsMetrics.stopped('http');
      await closeServer(closing);
    },
  };
}
