/**
 * The Service that `bench/train.ts` measures, run as a child process of the benchmark so that the
 * load generator (the benchmark's own event loop) does not share an event loop with the server it
 * times. Started with `fork(<this file>, [pkiDir])`; the benchmark imports only its types, so the
 * benchmark process never loads the Service itself:
 *
 * - builds a Service (test/support/service.ts) with the API on 127.0.0.1 and the external-metrics
 *   server on 127.0.0.1 over HTTPS, its local PKI (CA, serving and client certificates) generated
 *   into `pkiDir`, which the benchmark reads to authenticate with the client certificate;
 * - runs one reconcile cycle so that every endpoint serves a snapshot, then sends a
 *   {@link ServiceChildReady} message;
 * - on the message `'stop'` (or when the benchmark goes away) stops the Service and exits.
 */
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { buildService, configFromYaml } from '../../test/support/service.js';
import { stopOnce } from './stop-once.js';

/** The message the child sends once both servers listen. */
export interface ServiceChildReady {
  readonly type: 'ready';
  /** Base URL of the HTTP API (`/metrics`, `/scaling/status`). */
  readonly url: string;
  /** Base URL of the external-metrics HTTPS server. */
  readonly externalMetricsUrl: string;
}

async function serve(pkiDir: string): Promise<void> {
  // As in production: the models in their own process (the test helper turns it off by default).
  const service = buildService(
    configFromYaml(`server:\n  host: 127.0.0.1\n  port: 0\nexternalMetrics:\n  host: 127.0.0.1\n  port: 0\n  pkiDir: ${JSON.stringify(pkiDir)}\nforecast:\n  modelProcess: true\n`),
  );
  await service.start();
  const stop = stopOnce(service);
  process.on('message', (message) => {
    if (message === 'stop') stop();
  });
  // The benchmark died or closed the channel: never outlive it.
  process.on('disconnect', stop);
  await service.reconciler.runCycle();
  process.send?.({ type: 'ready', url: service.url, externalMetricsUrl: service.externalMetrics.url } satisfies ServiceChildReady);
}

// Only when forked as a script: importing the module (for its types) must not start a Service.
if (process.send !== undefined && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const pkiDir = process.argv[2];
  if (pkiDir === undefined) throw new Error('service-child.ts needs the PKI folder as its first argument');
  await serve(pkiDir);
}
