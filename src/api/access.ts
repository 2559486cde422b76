/**
 * Guards of the HTTP port: the client certificate (server.tls.clientCAFile), the bearer token
 * (server.auth) and the rate of cycles that POST /scaling/evaluate may start
 * (server.evaluatePerMinute). Each answers with a Kubernetes `Status` body; none reads more than a
 * small token file.
 */
import { createHash, timingSafeEqual, type X509Certificate } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config/index.js';
import { type Clock, checkSmallFile, readSmallFile, type SmallFileOptions } from '../core/index.js';
import { describeCertificate, failureStatus, leafIdentity, tlsPeer, verifyPeer } from '../publish/index.js';

/** A token file bigger than this is refused (a token is a few hundred bytes; a JWT a few KB). */
const maxTokenFileBytes = 16 * 1024;
/**
 * Routes a kubelet probes: never guarded. The kubelet sends neither a token nor a client
 * certificate (an HTTPS probe does not even verify the server), and a token or CA rotation must not
 * restart every pod; metrics-server and kube-rbac-proxy exempt their health paths the same way.
 */
export const probePaths: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz']);

/** Reads the token file again only when it changed (a Secret's rotation replaces it). */
class TokenFile {
  #key = '';
  #digest: Buffer | undefined;

  async digest(path: string): Promise<Buffer> {
    // Links are followed: the token is mounted from a Secret, whose files are links into ..data.
    const options: SmallFileOptions = { maxBytes: maxTokenFileBytes, what: 'server.auth.bearerTokenFile', symlinks: 'follow' };
    const info = await checkSmallFile(path, options);
    const key = `${path}|${info.ino}|${info.size}|${info.mtimeMs}`;
    if (key !== this.#key || this.#digest === undefined) {
      const token = (await readSmallFile(path, options)).toString('utf8').trim();
      if (token === '') throw new Error(`server.auth.bearerTokenFile ${path} is empty`);
      this.#digest = sha256(token);
      this.#key = key;
    }
    return this.#digest;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

const bearerPattern = /^Bearer\s+(\S+)\s*$/i;

/**
 * Express middleware asking for `Authorization: Bearer <token>` on the guarded routes when
 * `server.auth.bearerTokenFile` is set. Tokens are compared as SHA-256 digests in constant time.
 */
export function bearerGuard(config: () => Config): (req: Request, res: Response, next: NextFunction) => void {
  const file = new TokenFile();
  return (req, res, next) => {
    const { bearerTokenFile, scope } = config().server.auth;
    const guarded = bearerTokenFile !== undefined && !probePaths.has(req.path) && (scope === 'all' || (req.method === 'POST' && req.path === '/scaling/evaluate'));
    if (!guarded) return next();
    file.digest(bearerTokenFile).then(
      (expected) => {
        const sent = bearerPattern.exec(req.headers.authorization ?? '')?.[1];
        if (sent !== undefined && timingSafeEqual(sha256(sent), expected)) return next();
        res.set('WWW-Authenticate', 'Bearer realm="foresight"');
        res
          .status(401)
          .json(
            failureStatus(
              401,
              sent === undefined
                ? 'Unauthorized: this route needs "Authorization: Bearer <token>" (server.auth)'
                : 'Unauthorized: the bearer token is not the one configured (server.auth.bearerTokenFile)',
            ),
          );
      },
      (error: unknown) => {
        // The service cannot check tokens: refuse, never let the request through.
        res.status(503).json(failureStatus(503, `cannot check bearer tokens: ${error instanceof Error ? error.message : String(error)}`));
      },
    );
  };
}

/** What client certificates are checked against: the CAs in use and the allowed common names. */
export interface ClientCertificateTrust {
  /** The CAs of server.tls.clientCAFile as now served (a reload replaces the list). */
  readonly clientCAs: readonly X509Certificate[];
  /** server.tls.allowedNames; empty accepts every certificate the CAs sign. */
  readonly allowedNames: readonly string[];
}

/**
 * Express middleware asking for a client certificate on every route but the probes when
 * `trust()` gives one (server.tls.clientCAFile is set). The leaf must verify by signature against
 * those CAs alone, with the rest of the presented chain as untrusted intermediates: the same
 * verification as the external-metrics API's client CA (publish/auth/chain-verification.ts), so a
 * chain the client made up never vouches for itself. No certificate, or one the CAs do not sign:
 * 401. A verified certificate whose CN is not in `allowedNames`: 403. Validity is judged by wall
 * time (`wallClockMs`), as the TLS layer and the client do, never by the service's clock.
 */
export function clientCertificateGuard(trust: () => ClientCertificateTrust | undefined, wallClockMs: () => number = Date.now): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const current = trust();
    if (current === undefined || probePaths.has(req.path)) return next();
    const peer = req.socket instanceof TLSSocket ? tlsPeer(req.socket) : undefined;
    const verdict = verifyPeer(peer, current.clientCAs, wallClockMs());
    if (!verdict.ok) {
      const leaf = peer?.chain[0];
      const why =
        leaf === undefined
          ? 'no client certificate was presented; this port asks for one signed by a CA of server.tls.clientCAFile'
          : verdict.signedByPool
            ? `the client certificate is refused: ${verdict.reason}`
            : `the client certificate ${describeCertificate(leaf)} is not signed by a CA of server.tls.clientCAFile`;
      res.status(401).json(failureStatus(401, `Unauthorized: ${why}`));
      return;
    }
    const { commonName } = leafIdentity(peer!);
    if (current.allowedNames.length > 0 && (commonName === undefined || !current.allowedNames.includes(commonName))) {
      res.status(403).json(failureStatus(403, `Forbidden: the client certificate CN ${JSON.stringify(commonName ?? '')} is not one of server.tls.allowedNames (${current.allowedNames.join(', ')})`));
      return;
    }
    next();
  };
}

/**
 * A token bucket of `perMinute` cycles, refilled continuously on the injected clock, so a burst
 * of `perMinute` is allowed and then one every `60 / perMinute` seconds.
 */
export class CycleRateLimit {
  #tokens: number | undefined;
  #atMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly perMinute: () => number,
  ) {}

  /** Takes one token: undefined when allowed, else the seconds until one is free. */
  take(): number | undefined {
    const nowMs = this.clock.nowMs();
    const capacity = this.perMinute();
    const refill = ((nowMs - this.#atMs) / 60_000) * capacity;
    this.#tokens = Math.min(capacity, (this.#tokens ?? capacity) + Math.max(0, refill));
    this.#atMs = nowMs;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 60) / capacity));
  }
}
