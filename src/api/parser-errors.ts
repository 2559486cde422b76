/**
 * Answers the requests Node's HTTP parser refuses before any handler runs with a Kubernetes
 * `Status` body, like every other refusal of Foresight, instead of Node's bare status line: a
 * request line and headers over `maxHeaderSize` (16 KiB unless `--max-http-header-size` says
 * otherwise; a long URL counts, as it is part of the request line) get 431, a request not received
 * within `requestTimeout` 408, and any other malformed request 400. As in Node's own handling,
 * nothing is written when the peer is gone or a response is already under way, and the connection
 * is closed after the answer.
 */
import { maxHeaderSize as defaultMaxHeaderSize, type Server as HttpServer, STATUS_CODES } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { failureStatus } from '../publish/index.js';

function refusal(code: string | undefined, maxHeaderBytes: number): { readonly status: number; readonly message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: `the request line and headers are larger than ${maxHeaderBytes} bytes (a long URL counts: it is part of the request line)` };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'the request was not received in time' };
    default:
      return { status: 400, message: `malformed HTTP request${code === undefined ? '' : ` (${code})`}` };
  }
}

/** Installs the `clientError` handler on `server` (the HTTP port or the external-metrics HTTPS port). */
export function answerParserErrors(server: HttpServer | HttpsServer): void {
  // Neither server is given its own maxHeaderSize: Node's (flag or default) applies.
  const maxHeaderBytes = defaultMaxHeaderSize;
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    // Node's own rule: a response already started on this connection must not be corrupted.
    // `_httpMessage` is the connection's current response, the field Node's default handler reads.
    const current = (socket as Duplex & { _httpMessage?: { readonly headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || current?.headersSent === true) {
      socket.destroy();
      return;
    }
    const { status, message } = refusal(error.code, maxHeaderBytes);
    const body = JSON.stringify(failureStatus(status, message));
    const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
    socket.end(head + body, () => socket.destroy());
  });
}
