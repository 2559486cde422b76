/**
 * Shared pieces for the external-metrics server tests: a test PKI written to files (a serving CA, a
 * front-proxy CA standing in for the kube-apiserver aggregator, a client CA, and a rogue CA), a
 * server started on a free 127.0.0.1 port, and an HTTPS client that presents any of those
 * certificates and headers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { createExternalMetricsServer, type ExternalMetricsServer } from '../../../src/api/extension-server/index.js';
import type { Config } from '../../../src/config/index.js';
import type { Clock } from '../../../src/core/index.js';
import type { Snapshot } from '../../../src/engine/index.js';
import { type CertificateAndKey, createCertificate, type ExternalMetricsInstruments, type KubernetesDelegation, type TlsMetrics } from '../../../src/publish/index.js';
import { configFromYaml } from '../../support/service.js';

/** A certificate and its files. */
export interface Issued extends CertificateAndKey {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Every certificate the tests use. */
export interface TestPki {
  readonly dir: string;
  readonly servingCA: Issued;
  readonly serving: Issued;
  readonly frontProxyCA: Issued;
  /** The aggregator's proxy client certificate (CN front-proxy-client, as kubeadm names it). */
  readonly frontProxyClient: Issued;
  readonly clientCA: Issued;
  /** A user certificate: CN alice, O team-a. */
  readonly alice: Issued;
  readonly rogueCA: Issued;
  /** Same names as the proxy certificate, signed by nobody we trust. */
  readonly rogue: Issued;
  dispose(): Promise<void>;
}

/** Makes the test PKI in a fresh temp dir. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'foresight-em-pki-'));
  const nowMs = Date.now() - 60_000;
  const write = async (name: string, cert: CertificateAndKey): Promise<Issued> => {
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    await writeFile(certFile, cert.certPem);
    await writeFile(keyFile, cert.keyPem, { mode: 0o600 });
    return { ...cert, certFile, keyFile };
  };
  const make = (commonName: string, usage: 'ca' | 'server' | 'client', issuer?: CertificateAndKey, organizations?: string[], hosts?: string[]) =>
    createCertificate(
      { subject: { commonName, ...(organizations === undefined ? {} : { organizations }) }, usage, notBeforeMs: nowMs, validForSeconds: 86_400, ...(hosts === undefined ? {} : { hosts }) },
      issuer,
    );
  const servingCA = await write('serving-ca', make('serving-ca', 'ca'));
  const frontProxyCA = await write('front-proxy-ca', make('front-proxy-ca', 'ca'));
  const clientCA = await write('client-ca', make('client-ca', 'ca'));
  const rogueCA = await write('rogue-ca', make('front-proxy-ca', 'ca'));
  return {
    dir,
    servingCA,
    serving: await write('serving', make('foresight', 'server', servingCA, undefined, ['localhost', '127.0.0.1'])),
    frontProxyCA,
    frontProxyClient: await write('front-proxy-client', make('front-proxy-client', 'client', frontProxyCA)),
    clientCA,
    alice: await write('alice', make('alice', 'client', clientCA, ['team-a'])),
    rogueCA,
    rogue: await write('rogue', make('front-proxy-client', 'client', rogueCA, ['system:masters'])),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The `externalMetrics` section of a server that trusts the test PKI from files (no Kubernetes API). */
export function externalMetricsYaml(pki: TestPki): string {
  return `
externalMetrics:
  host: 127.0.0.1
  port: 0
  tls: { certFile: ${pki.serving.certFile}, keyFile: ${pki.serving.keyFile} }
  clientCAFile: ${pki.clientCA.certFile}
  requestHeader: { clientCAFile: ${pki.frontProxyCA.certFile}, allowedNames: [front-proxy-client] }
`;
}

/** kubectl flags that reach `url` as the aggregator would: trusting the serving CA, with the front-proxy client certificate. */
export function kubectlFlags(pki: TestPki, url: string): string[] {
  return [`--server=${url}`, `--certificate-authority=${pki.servingCA.certFile}`, `--client-certificate=${pki.frontProxyClient.certFile}`, `--client-key=${pki.frontProxyClient.keyFile}`];
}

/** A whole configuration: silent logs, horizons 15m and 1h, and {@link externalMetricsYaml}. */
export function filesModeYaml(pki: TestPki): string {
  return `logLevel: silent\nforecast: { horizons: [15m, 1h] }\n${externalMetricsYaml(pki)}`;
}

/** What a test server is started with. */
export interface StartOptions {
  readonly config: Config;
  readonly store: { latest(): Snapshot | undefined };
  readonly clock: Clock;
  readonly delegation?: KubernetesDelegation;
  readonly metrics?: ExternalMetricsInstruments;
  readonly tlsMetrics?: TlsMetrics;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Starts a server; stop it in afterAll/afterEach. */
export async function startServer(options: StartOptions): Promise<ExternalMetricsServer> {
  const server = createExternalMetricsServer({
    store: options.store,
    clock: options.clock,
    config: () => options.config,
    logger: pino({ level: 'silent' }),
    build: { version: '0.0.0-test', revision: 'test' },
    env: options.env ?? {},
    ...(options.delegation === undefined ? {} : { delegation: options.delegation }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.tlsMetrics === undefined ? {} : { tlsMetrics: options.tlsMetrics }),
  });
  await server.start();
  return server;
}

/** Loads a configuration from YAML (re-exported for the tests' convenience). */
export { configFromYaml };

/** An HTTPS answer. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  readonly serverFingerprint: string;
  json<T = Record<string, unknown>>(): T;
}

/** How to call the server: which client certificate, which headers. */
export interface CallOptions {
  readonly ca: string;
  readonly cert?: { readonly certPem: string; readonly keyPem: string };
  readonly headers?: Readonly<Record<string, string | string[]>>;
  readonly method?: string;
}

const contexts = new Map<string, SecureContext>();

/** A TLS client context per (CA, client certificate), made once: parsing PEM per connection is the slow part. */
export function clientContext(ca: string, cert?: { readonly certPem: string; readonly keyPem: string }): SecureContext {
  const key = `${ca}\n${cert?.certPem ?? ''}`;
  let context = contexts.get(key);
  if (context === undefined) {
    context = createSecureContext({ ca, ...(cert === undefined ? {} : { cert: cert.certPem, key: cert.keyPem }) });
    contexts.set(key, context);
  }
  return context;
}

/** One HTTPS request on a fresh connection, verifying the server against `ca`. */
export function call(baseUrl: string, path: string, options: CallOptions): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    // secureContext goes through to tls.connect (agent: false); the RequestOptions type does not list it.
    const requestOptions: RequestOptions & { readonly secureContext: SecureContext } = {
      host: url.hostname,
      port: url.port,
      path,
      method: options.method ?? 'GET',
      secureContext: clientContext(options.ca, options.cert),
      servername: 'localhost',
      agent: false,
      headers: { ...options.headers },
    };
    const req = httpsRequest(requestOptions, (res) => {
      // Read now: with agent: false the socket is gone once the body has been read.
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, serverFingerprint: fingerprint, json: <T>() => JSON.parse(body) as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
