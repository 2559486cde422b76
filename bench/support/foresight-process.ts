/**
 * `foresight serve` as a real child process for benchmarks, started the way `npm start` runs it (the
 * replay source, the models in their own process, a generated local PKI for the external-metrics
 * API) but on 127.0.0.1 with ports the kernel picks and its folders in a temporary directory, so that
 * it runs beside other work on a shared machine.
 *
 * The service leads a process group of its own (`detached`), so that {@link ForesightProcess.kill}
 * ends it and the model process it starts in one signal; {@link ForesightProcess.kill} is synchronous
 * so that a benchmark can call it from `process.on('exit')` and its signal handlers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { localPkiFiles } from '../../src/publish/index.js';

/** What the external-metrics client needs: the local CA and the local admin's client certificate. */
export interface LocalPkiMaterial {
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

/** How the process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Pino's numeric levels: 50 is error, 60 fatal. */
const errorLevel = 50;
/** Log lines kept for the report when something goes wrong. */
const keptLines = 40;

export class ForesightProcess {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #exited: Promise<ProcessExit>;
  readonly #recentLines: string[] = [];
  #exit: ProcessExit | undefined;
  #errorLines = 0;
  #waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];

  /** Starts the service: from the TypeScript sources through tsx's loader, or from `dist/` when `built`. */
  constructor(options: { readonly built: boolean }) {
    this.#dir = mkdtempSync(join(tmpdir(), 'foresight-soak-'));
    const config = join(this.#dir, 'config.yaml');
    writeFileSync(
      config,
      [
        'server: { host: 127.0.0.1, port: 0 }',
        `externalMetrics: { host: 127.0.0.1, port: 0, pkiDir: ${JSON.stringify(join(this.#dir, 'pki'))} }`,
        'keda: { grpc: { host: 127.0.0.1, port: 0 } }',
        `scaling: { modelPath: ${JSON.stringify(join(this.#dir, 'models'))} }`,
        '',
      ].join('\n'),
    );
    // The replay source, as `npm start` without configuration: nothing in the caller's environment may point it elsewhere.
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], PORT: '0', LOG_LEVEL: 'info' };
    // One node process (not the tsx launcher, which would run the service in a grandchild), so that its pid is the service's.
    const args = options.built ? [join('dist', 'cli', 'main.js')] : ['--import', 'tsx', join('src', 'cli', 'main.ts')];
    this.#child = spawn(process.execPath, [...args, 'serve', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.#exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      }),
    );
    const onLine = (line: string) => {
      this.#recentLines.push(line.slice(0, 2_000));
      if (this.#recentLines.length > keptLines) this.#recentLines.shift();
      if (!line.startsWith('{')) return;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof parsed['level'] === 'number' && parsed['level'] >= errorLevel) this.#errorLines++;
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!waiter.match(parsed)) return true;
        waiter.resolve(parsed);
        return false;
      });
    };
    createInterface({ input: this.#child.stdout! }).on('line', onLine);
    createInterface({ input: this.#child.stderr! }).on('line', onLine);
  }

  /** The service's pid (the leader of its process group). */
  get pid(): number {
    return this.#child.pid!;
  }

  /** How it ended, or undefined while it runs. */
  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  /** Log lines at level error or fatal so far. */
  get errorLines(): number {
    return this.#errorLines;
  }

  /** The last lines it printed (stdout and stderr), for a report on a crash. */
  get recentLines(): readonly string[] {
    return this.#recentLines;
  }

  /** Resolves with the first log line (from now on) that `match` accepts; rejects if the process exits first. */
  waitForLine(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const line = new Promise<Record<string, unknown>>((resolve) => this.#waiters.push({ match, resolve }));
    const exited = this.#exited.then((exit) =>
      Promise.reject(new Error(`foresight serve exited (code ${exit.code}, signal ${exit.signal}) before the expected log line:\n${this.#recentLines.join('\n')}`)),
    );
    return Promise.race([line, exited]);
  }

  /** The local PKI the service generated (read once it logged that the external-metrics API listens). */
  localPki(): LocalPkiMaterial {
    const read = (name: string) => readFileSync(join(this.#dir, 'pki', name), 'utf8');
    return { caPem: read(localPkiFiles.caCert), clientCertPem: read(localPkiFiles.clientCert), clientKeyPem: read(localPkiFiles.clientKey) };
  }

  /**
   * SIGTERM, as Kubernetes stops a pod, and the exit it leads to; after `graceMs` the group is
   * killed and the exit says so (signal SIGKILL).
   */
  async stop(graceMs: number): Promise<ProcessExit> {
    if (this.#exit === undefined) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    const exit = await this.#exited;
    clearTimeout(timer);
    return exit;
  }

  /** Kills the whole process group at once and removes the temporary folder. Synchronous, idempotent. */
  kill(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
