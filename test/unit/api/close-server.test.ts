/**
 * closeServer (src/api/close-server.ts), the graceful stop of the HTTP port and the
 * external-metrics port, on a real server on 127.0.0.1. Every wait is on an event (a response,
 * a socket's `close`, the promise); no duration is asserted.
 */
import { Agent, createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer } from '../../../src/api/close-server.js';

let server: Server | undefined;
const agents: Agent[] = [];

afterEach(() => {
  for (const agent of agents.splice(0)) agent.destroy();
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** A server whose handler calls `handle`; resolves once it listens. */
async function listen(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const created = createServer(handle);
  server = created;
  await new Promise<void>((resolve) => created.listen(0, '127.0.0.1', resolve));
  return (created.address() as AddressInfo).port;
}

/** Sends a GET (over a keep-alive agent unless told); `socketClosed` resolves when the client's connection closes. */
function request(port: number, keepAlive = true): { readonly response: Promise<{ status: number | undefined; body: string }>; readonly socketClosed: Promise<void> } {
  const agent = new Agent({ keepAlive });
  agents.push(agent);
  let onSocketClose: () => void = () => {};
  const socketClosed = new Promise<void>((resolve) => {
    onSocketClose = resolve;
  });
  const response = new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('socket', (socket) => socket.once('close', () => onSocketClose()));
    req.on('error', reject);
  });
  return { response, socketClosed };
}

describe('closeServer', () => {
  it('closes an idle keep-alive connection at once, so the stop does not wait for the client', async () => {
    const port = await listen((_req, res) => res.end('ok'));
    const { response, socketClosed } = request(port);
    expect(await response).toEqual({ status: 200, body: 'ok' });
    await closeServer(server!);
    await socketClosed;
    expect(server!.listening).toBe(false);
  });

  it('lets an in-flight request finish before it resolves', async () => {
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const port = await listen((_req, res) => {
      release = () => res.end('finished');
      arrived();
    });
    // Not kept alive: a connection that turns idle after the close call is kept until Node's
    // keepAliveTimeout (5 s), which this test is not about.
    const { response } = request(port, false);
    await inFlight;
    let closed = false;
    const closing = closeServer(server!).then(() => {
      closed = true;
    });
    // Still open: the request holds it (checked after the close call has run and the loop turned).
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release();
    expect(await response).toEqual({ status: 200, body: 'finished' });
    await closing;
    expect(closed).toBe(true);
  });

  it('with cutAfterMs, cuts a request that never finishes', async () => {
    const port = await listen(() => {
      // Never answers.
    });
    const { response, socketClosed } = request(port);
    const failed = response.then(
      () => 'answered',
      (error: Error & { code?: string }) => error.code,
    );
    // The server has the request once a connection is open; wait for it before closing.
    await new Promise<void>((resolve) => server!.once('request', () => resolve()));
    await closeServer(server!, 0);
    await socketClosed;
    expect(await failed).toBe('ECONNRESET');
  });
});
