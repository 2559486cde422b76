/**
 * Guards of the HTTP port: the bearer token (server.auth) and the rate of cycles that
 * POST /scaling/evaluate may start (server.evaluatePerMinute). Both answer with a Kubernetes
 * `Status` body; neither reads more than a small token file.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config/index.js';
import type { Clock } from '../core/index.js';
import { failureStatus } from '../publish/index.js';

/** A token file bigger than this is refused (a token is a few hundred bytes; a JWT a few KB). */
const maxTokenFileBytes = 16 * 1024;
/** Routes a kubelet probes: never guarded, or a token rotation would restart every pod. */
const probePaths: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz']);

/** Reads the token file again only when it changed (a Secret's rotation replaces it). */
class TokenFile {
  #key = '';
  #digest: Buffer | undefined;

  async digest(path: string): Promise<Buffer> {
    const info = await stat(path);
    if (!info.isFile()) throw new Error(`server.auth.bearerTokenFile ${path} is not a regular file`);
    if (info.size > maxTokenFileBytes) throw new Error(`server.auth.bearerTokenFile ${path} is ${info.size} bytes, more than ${maxTokenFileBytes}`);
    const key = `${path}|${info.ino}|${info.size}|${info.mtimeMs}`;
    if (key !== this.#key || this.#digest === undefined) {
      const token = (await readFile(path, 'utf8')).trim();
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
