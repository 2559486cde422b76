/**
 * Free loopback ports for test servers (Prometheus, Alertmanager, fake exporters).
 *
 * The kernel picks the port (listen on 0), so parallel test workers never collide on a hard-coded
 * number. There is an unavoidable gap between closing our probe socket and the real server binding
 * the port; callers that spawn a separate process should retry on "address already in use"
 * (startPrometheus does).
 */
import { createServer } from 'node:net';

/** The loopback address every test server binds to: never all interfaces. */
export const LOOPBACK = '127.0.0.1';

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago: listens on port 0, reads the port the
 * kernel chose, and closes the socket again.
 */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`unexpected listen address: ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}
