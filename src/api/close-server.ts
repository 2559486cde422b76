/**
 * The graceful stop of the HTTP port and the external-metrics port: stop accepting connections,
 * close the idle keep-alive ones at once (a client polling every 15 s would otherwise hold the
 * stop until its connection times out), let in-flight requests finish, and, with `cutAfterMs`,
 * cut the connections still open after that grace.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

/**
 * Resolves once `server` has closed. Without `cutAfterMs` it waits for in-flight requests however
 * long they take (the caller bounds the whole shutdown); with it, connections still open after
 * `cutAfterMs` are closed, so a client that never finishes a request cannot hold the stop.
 */
export function closeServer(server: HttpServer | HttpsServer, cutAfterMs?: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const cut = cutAfterMs === undefined ? undefined : setTimeout(() => server.closeAllConnections(), cutAfterMs);
    // The grace must not keep the process alive by itself.
    cut?.unref();
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
