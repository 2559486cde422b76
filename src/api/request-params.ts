/**
 * Refusals of the HTTP API and the query-parameter parsing the routes share (`/scaling/*` and the
 * web view's JSON): unknown parameters are refused, not ignored, and every refusal is an
 * {@link HttpError} that the routes answer with a Kubernetes `Status` body.
 */
import type { Request } from 'express';
import { type ErrorCode, ForesightError } from '../core/index.js';

/** A refused request: the HTTP status to answer with, and the stable code logs and tests tell refusals apart by. */
export class HttpError extends ForesightError {
  override readonly name: string = 'HttpError';

  constructor(
    readonly statusCode: 400 | 404 | 429 | 503,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/** A 400 for a bad query parameter. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, 'FORESIGHT_ERR_INPUT_INVALID', message);
}

/** The 503 of a route that needs a snapshot before the first cycle completed. */
export function notReady(): HttpError {
  return new HttpError(503, 'FORESIGHT_ERR_NOT_READY', 'no forecast yet: the first reconcile cycle has not completed');
}

/** Refuses query parameters a route does not know, so that typos are not silently ignored. */
export function allowOnly(req: Request, names: readonly string[]): void {
  for (const name of Object.keys(req.query)) {
    if (!names.includes(name)) throw badRequest(`unknown query parameter "${name}"${names.length > 0 ? `; allowed: ${names.join(', ')}` : ''}`);
  }
}

/** A single string query parameter, or undefined; repeated parameters are refused. */
export function single(req: Request, name: string): string | undefined {
  const raw: unknown = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw badRequest(`query parameter "${name}" must be given once`);
  return raw;
}

/** `?hours=`: a positive number, at most the configured history retention (`defaultHours` when absent). */
export function parseHours(raw: unknown, maxHours: number, defaultHours: number): number {
  if (raw === undefined) return Math.min(defaultHours, maxHours);
  if (typeof raw !== 'string' || !/^\d+(\.\d+)?$/.test(raw)) throw badRequest(`query parameter "hours" must be a positive number, got ${JSON.stringify(raw)}`);
  const hours = Number(raw);
  if (hours <= 0 || hours > maxHours) throw badRequest(`query parameter "hours" must be greater than 0 and at most ${maxHours} (snapshot.historyRetention), got ${raw}`);
  return hours;
}
