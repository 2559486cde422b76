// Starting a test Prometheus: a temp dir, the backfill, the config, a free port; and the vitest
// hooks that start one for a describe block and dispose of it after.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { assertBinary } from '../binaries.js';
import { getFreePort } from '../ports.js';
import { backfillTsdb } from './backfill.js';
import { renderConfig } from './config-file.js';
import { PrometheusError, StartupError } from './errors.js';
import { type PrometheusHandle, PrometheusInstance } from './instance.js';
import type { StartPrometheusOptions } from './options.js';
import { track } from './registry.js';

/** A free port can be taken between probing and Prometheus binding it; try a few fresh ones. */
const PORT_ATTEMPTS = 3;

/**
 * Starts a Prometheus for a test: makes a temp dir, backfills `options.backfill` with promtool,
 * writes the config, starts the binary on a free 127.0.0.1 port and waits for `/-/ready`.
 *
 * Call `dispose()` in `afterAll` (or use {@link usePrometheus}, which does). If a test forgets, the
 * worker's exit hooks kill the process and remove the dir anyway.
 *
 * @throws {MissingBinaryError} when prometheus (or, with a backfill, promtool) is not on PATH.
 * @throws {StartupError} when Prometheus exits or is not ready in time; the message has the log tail.
 */
export async function startPrometheus(options: StartPrometheusOptions = {}): Promise<PrometheusHandle> {
  assertBinary('prometheus');
  const root = await mkdtemp(join(tmpdir(), 'foresight-prometheus-'));
  const instance = new PrometheusInstance(root, options);
  track(instance);
  try {
    await mkdir(instance.dataDir, { recursive: true });
    if (options.backfill !== undefined && options.backfill.length > 0) {
      await backfillTsdb(instance.dataDir, options.backfill, root, options.backfillTimeoutMs);
    }
    await writeFile(instance.configPath, renderConfig(options));
    for (let attempt = 1; ; attempt++) {
      instance.port = await getFreePort();
      try {
        await instance.launch();
        return instance;
      } catch (error) {
        const portTaken = error instanceof StartupError && /address already in use/i.test(error.logTail);
        if (!portTaken || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    await instance.dispose();
    throw error;
  }
}

/**
 * Starts a Prometheus in `beforeAll` and disposes of it in `afterAll` of the enclosing `describe`,
 * printing its log tail when a test fails. Returns a getter, valid inside tests and hooks:
 *
 * ```ts
 * describe.skipIf(!requireBinaries('prometheus', 'promtool'))('with history', () => {
 *   const prometheus = usePrometheus(() => ({ backfill: makeHistory() }));
 *   it('answers', async () => { expect(await prometheus().query('up')).toEqual([]); });
 * });
 * ```
 *
 * `options` may be a function, evaluated in `beforeAll`, so fixtures relative to `Date.now()` are
 * built at start time rather than at collection time.
 */
export function usePrometheus(options: StartPrometheusOptions | (() => StartPrometheusOptions | Promise<StartPrometheusOptions>) = {}): () => PrometheusHandle {
  let handle: PrometheusHandle | undefined;
  beforeAll(async () => {
    handle = await startPrometheus(typeof options === 'function' ? await options() : options);
  });
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      if (handle !== undefined) console.error(`--- prometheus log (${handle.logPath}) ---\n${handle.logTail(40)}`);
    });
  });
  afterAll(async () => {
    await handle?.dispose();
    handle = undefined;
  });
  return () => {
    if (handle === undefined) throw new PrometheusError('Prometheus is not running (did beforeAll fail?)');
    return handle;
  };
}
