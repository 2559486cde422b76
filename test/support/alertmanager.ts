/**
 * A real Alertmanager (Debian's `prometheus-alertmanager` 0.25) for integration tests, on a free
 * 127.0.0.1 port, delivering to a webhook receiver that the test runs itself.
 *
 * Gossip is off (`--cluster.listen-address=` with an empty value): otherwise Alertmanager opens
 * port 9094 on every interface and waits for the "cluster" to settle (environment.md §2). Every
 * instance gets its own temp dir and is killed when the test file ends or the worker exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { assertBinary, findBinary } from './binaries.js';
import { fileSize, readTail } from './log-file.js';
import { waitForLogLine } from './log-line.js';
import { getFreePort, LOOPBACK } from './ports.js';

/** How to start a test Alertmanager. */
export interface StartAlertmanagerOptions {
  /** Where the single receiver delivers (a {@link WebhookReceiver}'s `url`). */
  readonly webhookUrl: string;
  /** Wait before the first notification of a group. Default 1 s (Alertmanager's own is 30 s). */
  readonly groupWaitSeconds?: number;
  /** Wait before notifying about changes in a group. Default 1 s (Alertmanager's own is 5 m). */
  readonly groupIntervalSeconds?: number;
}

/** One alert as Alertmanager's API v2 lists it. */
export interface ActiveAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: string;
}

/** A running test Alertmanager. */
export interface AlertmanagerHandle {
  /** `http://127.0.0.1:<port>`, for Prometheus' `alerting.alertmanagers`. */
  readonly url: string;
  readonly logPath: string;
  /** The alerts Alertmanager currently holds (`GET /api/v2/alerts`). */
  alerts(): Promise<ActiveAlert[]>;
  /** The last `lines` lines of its log, for failure messages. */
  logTail(lines?: number): string;
  /** Stops the process (SIGTERM, then SIGKILL) and removes the temp dir. Idempotent. */
  dispose(): Promise<void>;
}

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: z.string(),
  endsAt: z.string(),
  generatorURL: z.string(),
  fingerprint: z.string(),
});

/** The body Alertmanager's webhook integration POSTs (payload version 4). */
export const webhookPayloadSchema = z.object({
  version: z.literal('4'),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupKey: z.string(),
  groupLabels: z.record(z.string(), z.string()),
  commonLabels: z.record(z.string(), z.string()),
  commonAnnotations: z.record(z.string(), z.string()),
  externalURL: z.string(),
  alerts: z.array(alertSchema),
});

/** One webhook notification. */
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** One alert of a webhook notification. */
export type NotifiedAlert = z.infer<typeof alertSchema>;

/** An HTTP server on 127.0.0.1 that records what Alertmanager delivers to it. */
export interface WebhookReceiver {
  readonly url: string;
  /** Every notification received so far, in order. */
  readonly notifications: readonly WebhookPayload[];
  /** Bodies that did not match {@link webhookPayloadSchema} (a test should expect none). */
  readonly rejected: readonly string[];
  /**
   * Resolves with the first notified alert that satisfies `predicate` (an event: the webhook's
   * delivery), or rejects after `timeoutMs` (default 120 s, only a bound on a hang) listing what was delivered.
   */
  waitForAlert(predicate: (alert: NotifiedAlert) => boolean, timeoutMs?: number): Promise<NotifiedAlert>;
  close(): Promise<void>;
}

/** Starts a {@link WebhookReceiver} on a free loopback port. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const notifications: WebhookPayload[] = [];
  const rejected: string[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const parsed = webhookPayloadSchema.safeParse(body);
      if (parsed.success) notifications.push(parsed.data);
      else rejected.push(text.slice(0, 2_000));
      res.writeHead(200).end();
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${LOOPBACK}:${port}/hook`,
    notifications,
    rejected,
    waitForAlert(predicate, timeoutMs = 120_000) {
      const find = () => notifications.flatMap((n) => n.alerts).find(predicate);
      return new Promise((resolve, reject) => {
        const found = find();
        if (found !== undefined) {
          resolve(found);
          return;
        }
        const timer = setTimeout(() => {
          waiters.delete(check);
          const seen = notifications.flatMap((n) =>
            n.alerts.map(
              (a) =>
                `${a.labels['alertname'] ?? '?'}{${Object.entries(a.labels)
                  .map(([k, v]) => `${k}="${v}"`)
                  .join(',')}} ${a.status}`,
            ),
          );
          reject(new Error(`no matching alert was delivered within ${timeoutMs} ms; delivered: ${seen.length === 0 ? 'nothing' : seen.join('; ')}`));
        }, timeoutMs);
        function check(): void {
          const alert = find();
          if (alert === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(alert);
        }
        waiters.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The alertmanager.yml for these options: one webhook receiver, every alert its own group. */
export function renderAlertmanagerConfig(options: StartAlertmanagerOptions): string {
  return stringify({
    route: {
      receiver: 'webhook',
      // "..." groups by every label: each alert is notified on its own, which tests can match.
      group_by: ['...'],
      group_wait: `${options.groupWaitSeconds ?? 1}s`,
      group_interval: `${options.groupIntervalSeconds ?? 1}s`,
      repeat_interval: '1h',
    },
    receivers: [{ name: 'webhook', webhook_configs: [{ url: options.webhookUrl, send_resolved: true }] }],
  });
}

const live = new Set<{ child: ChildProcess; root: string }>();
let hooksInstalled = false;

function killAllSync(): void {
  for (const { child, root } of live) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(root, { recursive: true, force: true });
  }
  live.clear();
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Starts Alertmanager on a free 127.0.0.1 port with gossip off, and waits for `/-/ready`.
 *
 * @throws {MissingBinaryError} when `prometheus-alertmanager` is not on PATH.
 * @throws {Error} with the log tail when it exits or is not ready in time.
 */
export async function startAlertmanager(options: StartAlertmanagerOptions): Promise<AlertmanagerHandle> {
  const binary = assertBinary('prometheus-alertmanager');
  if (!hooksInstalled) {
    hooksInstalled = true;
    process.once('exit', killAllSync);
  }
  const root = await mkdtemp(join(tmpdir(), 'foresight-alertmanager-'));
  const configPath = join(root, 'alertmanager.yml');
  const logPath = join(root, 'alertmanager.log');
  await writeFile(configPath, renderAlertmanagerConfig(options));

  for (let attempt = 1; ; attempt++) {
    const port = await getFreePort();
    const url = `http://${LOOPBACK}:${port}`;
    const args = [`--config.file=${configPath}`, `--storage.path=${join(root, 'data')}`, `--web.listen-address=${LOOPBACK}:${port}`, '--cluster.listen-address='];
    // As for Prometheus: the kernel kills Alertmanager if the worker dies without running any JS.
    const setpriv = findBinary('setpriv');
    const [command, argv] = setpriv === undefined ? [binary, args] : [setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args]];
    const logOffset = fileSize(logPath);
    const logFd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, argv, { stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    child.unref();
    const tracked = { child, root };
    live.add(tracked);
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let hasExited = false;
    void exited.then(() => (hasExited = true));

    const stop = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.ref();
      child.kill('SIGTERM');
      const graceful = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!graceful) {
        child.kill('SIGKILL');
        await exited;
      }
      child.unref();
    };

    // Ready is an event: the "Listening on" line it logs once its web server listens, or its exit.
    // No deadline: vitest's hook timeout ends a start that hangs.
    let ready = (await waitForLogLine(logPath, /msg="Listening on" address=/, logOffset, exited)) === 'logged';
    if (ready) {
      try {
        const response = await fetch(`${url}/-/ready`);
        await response.body?.cancel();
        ready = response.status === 200;
      } catch {
        ready = false; // it exited meanwhile
      }
    }
    if (!ready) {
      await stop();
      live.delete(tracked);
      const log = readTail(logPath, 30);
      if (/address already in use/i.test(log) && attempt < 3) continue;
      await rm(root, { recursive: true, force: true });
      throw new Error(`Alertmanager was not ready at ${url}/-/ready (${hasExited ? 'it exited' : '/-/ready did not answer 200'})\n--- alertmanager log (tail) ---\n${log}`);
    }

    let disposed = false;
    return {
      url,
      logPath,
      async alerts() {
        const response = await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(5_000) });
        const body: unknown = await response.json();
        return z
          .array(z.object({ labels: z.record(z.string(), z.string()), annotations: z.record(z.string(), z.string()), status: z.object({ state: z.string() }) }))
          .parse(body)
          .map((a) => ({ labels: a.labels, annotations: a.annotations, state: a.status.state }));
      },
      logTail: (lines = 30) => readTail(logPath, lines),
      async dispose() {
        if (disposed) return;
        disposed = true;
        await stop();
        live.delete(tracked);
        await rm(root, { recursive: true, force: true });
      },
    };
  }
}
