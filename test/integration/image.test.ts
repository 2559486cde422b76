/**
 * What the container image runs (Dockerfile, docs/deployment.md). No container runtime can build it
 * here (the base images come from registries this machine cannot reach), so the test builds the
 * image's run stage as a folder instead, from the Dockerfile itself: every COPY of the run stage is
 * carried out (the production install with `npm ci --omit=dev`, the compiled dist/, the files from the
 * build context that .dockerignore lets through, the service's own writable folder), and nothing
 * else. It then starts the ENTRYPOINT and CMD the way the image would: as the USER (uid 65532), in the
 * final WORKDIR, with the ENV, on an application tree it cannot write. The demo must serve, and the
 * external-metrics API must answer the real kubectl through the kubeconfig the service generated.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { isCi, requireBinaries } from '../support/binaries.js';
import { compiledDist } from '../support/compiled.js';
import { copies, isSentToBuilder, parseDockerfile, readImageFiles, resolveBase, type Stage } from '../support/dockerfile.js';
import { kubectl } from '../support/kubectl.js';
import { childPids, isAlive } from '../support/processes.js';

const run = promisify(execFile);
const repo = process.cwd();
const { dockerfile, dockerignore } = readImageFiles(repo);
const stages = parseDockerfile(dockerfile);
const runStage = stages.at(-1)!;
const runAs = { uid: 65532, gid: 65532 };

/** The JSON-array form of an instruction (ENTRYPOINT, CMD). */
function execForm(stage: Stage, keyword: string): string[] {
  const args = stage.instructions.findLast((i) => i.keyword === keyword)?.args;
  if (args === undefined) return [];
  return JSON.parse(args) as string[];
}

/** The ENV of a stage (`KEY=value` pairs; `${ARG}` values resolved to the ARG's default). */
function stageEnv(stage: Stage): Record<string, string> {
  const argDefaults = new Map(stage.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=') as [string, string]));
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'ENV')) {
    for (const [, key, value] of i.args.matchAll(/(\w+)=(\S+)/g)) env[key!] = value!.replace(/\$\{(\w+)\}/g, (_, name: string) => argDefaults.get(name) ?? '');
  }
  return env;
}

/** A registry failure, as npm reports it when it cannot reach the registry. */
const unreachable = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network/i;

describe('the Dockerfile', () => {
  test('builds in stages, runs as uid 65532 on a minimal Node 20 base, takes FORESIGHT_REVISION', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'run']);
    expect(resolveBase(dockerfile, runStage.base)).toBe('gcr.io/distroless/nodejs20-debian12:nonroot');
    expect(resolveBase(dockerfile, stages[0]!.base)).toMatch(/^docker\.io\/library\/node:20-/);
    expect(runStage.instructions.findLast((i) => i.keyword === 'USER')?.args).toBe(`${runAs.uid}:${runAs.gid}`);
    // The run stage copies the compiled code and the production dependencies only, never the build's node_modules.
    expect(
      copies(runStage)
        .filter((c) => c.from === 'build')
        .flatMap((c) => c.sources),
    ).toEqual(['/src/dist']);
    expect(stages[1]!.instructions.some((i) => i.keyword === 'RUN' && i.args.includes('npm ci --omit=dev'))).toBe(true);
    expect(runStage.instructions.some((i) => i.keyword === 'ARG' && i.args.startsWith('FORESIGHT_REVISION'))).toBe(true);
    expect(stageEnv(runStage)['FORESIGHT_REVISION']).toBe('unknown');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not a template literal
    expect(runStage.instructions.find((i) => i.keyword === 'LABEL')?.args).toContain('org.opencontainers.image.revision="${FORESIGHT_REVISION}"');
  });

  test('.dockerignore sends what the Dockerfile copies and keeps out node_modules and local keys', () => {
    const fromContext = stages.flatMap((s) =>
      copies(s)
        .filter((c) => c.from === undefined)
        .flatMap((c) => c.sources),
    );
    expect(fromContext.length).toBeGreaterThan(0);
    for (const source of fromContext) expect(isSentToBuilder(dockerignore, source), source).toBe(true);
    for (const kept of ['node_modules', '.foresight', 'dist', '.git', 'models', '.cache', 'test']) expect(isSentToBuilder(dockerignore, kept), kept).toBe(false);
  });
});

/**
 * The deps stage: package.json and the lock file, then `npm ci --omit=dev`. Kept in .cache/ per lock
 * file (the same lock gives the same tree), so that only the first run pays for it; undefined when
 * the npm registry cannot be reached (outside CI: CI ran npm ci itself, so there it is a failure).
 */
async function productionInstall(): Promise<string | undefined> {
  const lock = readFileSync(join(repo, 'package-lock.json'));
  const dir = join(repo, '.cache', 'image-deps', createHash('sha256').update(lock).digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules');
  const work = `${dir}.${process.pid}.tmp`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(repo, f), join(work, f));
  try {
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: work,
      maxBuffer: 16 << 20,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    const text = `${(error as { stderr?: string }).stderr ?? ''}${String(error)}`;
    if (unreachable.test(text) && !isCi()) {
      skipReason = `npm ci --omit=dev could not reach the npm registry:\n${text}`;
      return undefined;
    }
    throw error;
  }
  mkdirSync(dir, { recursive: true });
  renameSync(join(work, 'node_modules'), join(dir, 'node_modules'));
  rmSync(work, { recursive: true, force: true });
  return join(dir, 'node_modules');
}

/** Why the staged run was skipped (set only when the registry is unreachable outside CI). */
let skipReason: string | undefined;

describe.skipIf(!requireBinaries('kubectl'))('the image run stage, staged as a folder', () => {
  let stage: string;
  let rootfs: string;
  let child: ChildProcess | undefined;
  let output = '';
  let httpUrl = '';
  const home = mkdtempSync(join(tmpdir(), 'foresight-image-kubectl-'));
  const asRoot = process.getuid?.() === 0;

  /** Carries out every COPY of the run stage into rootfs; throws on a COPY this test does not know. */
  async function stageRunStage(): Promise<void> {
    let workdir = '/';
    for (const instruction of runStage.instructions) {
      if (instruction.keyword === 'WORKDIR') workdir = posix.resolve(workdir, instruction.args);
      if (instruction.keyword !== 'COPY') continue;
      const [copy] = copies({ ...runStage, instructions: [instruction] });
      const target = join(rootfs, posix.resolve(workdir, copy!.destination));
      mkdirSync(dirname(target), { recursive: true });
      const what = `${copy!.from ?? 'context'}:${copy!.sources.join(',')}`;
      if (what === 'deps:/app/node_modules') {
        const installed = await productionInstall();
        if (installed === undefined) return;
        // Hard links: the install is immutable, and the copy is then instant.
        await run('cp', ['-al', installed, target]);
      } else if (what === 'build:/src/dist') {
        // The build stage's `npm run build` (made once per state of the sources and shared, test/support/compiled.ts).
        cpSync(await compiledDist(), target, { recursive: true });
      } else if (what === 'deps:/state') {
        mkdirSync(join(target, 'models'), { recursive: true });
      } else if (copy!.from === undefined) {
        // Docker's rules: a destination ending in "/" is a folder the sources go into; a folder source copies its contents.
        const intoFolder = copy!.destination.endsWith('/') || copy!.sources.length > 1;
        for (const source of copy!.sources) cpSync(join(repo, source), intoFolder ? join(target, basename(source)) : target, { recursive: true });
      } else {
        throw new Error(`the image test does not know how to stage "COPY ${instruction.args}"; teach test/integration/image.test.ts`);
      }
      if (copy!.chown !== undefined && asRoot) {
        const [uid, gid] = copy!.chown.split(':').map(Number);
        for (const path of [target, ...readdirSync(target, { recursive: true }).map((p) => join(target, String(p)))]) chownSync(path, uid!, gid!);
      }
    }
  }

  beforeAll(async () => {
    stage = mkdtempSync(join(tmpdir(), 'foresight-image-'));
    chmodSync(stage, 0o755); // mkdtemp makes it 0700: uid 65532 must reach the tree
    rootfs = join(stage, 'rootfs');
    await stageRunStage();
    if (skipReason !== undefined) {
      console.warn(`\n${'#'.repeat(78)}\n#  IMAGE TEST SKIPPED: ${skipReason.split('\n')[0]}\n${'#'.repeat(78)}\n`);
      return;
    }
    // Everything but the service's own folder is read-only to the service: root-owned when the run
    // is as uid 65532; without write bits when the tests themselves run as a user.
    if (!asRoot) await run('chmod', ['-R', 'a-w', join(rootfs, 'app')]);

    const workdir = join(rootfs, runStage.instructions.findLast((i) => i.keyword === 'WORKDIR')!.args);
    const config = join(stage, 'config.yaml');
    // Ports chosen by the kernel (tests run in parallel); learned models off (the model process still
    // runs, compiled); everything else is the image's default: the demo, the generated PKI.
    // shutdownGrace: the exit code must not depend on machine load (a cycle in flight may outlast 25 s on busy cores).
    writeFileSync(config, 'server: { host: 127.0.0.1, port: 0, shutdownGrace: 10m }\nexternalMetrics: { host: 127.0.0.1, port: 0 }\nkeda: { grpc: { port: 0 } }\nml: { lstm: { enabled: false } }\n');
    chmodSync(config, 0o644);
    const [entry, script] = execForm(runStage, 'ENTRYPOINT');
    expect(entry).toBe('/nodejs/bin/node');
    child = spawn(process.execPath, [join(rootfs, script!), ...execForm(runStage, 'CMD'), '--config', config], {
      cwd: workdir,
      // Debug level for the "cycle completed" line the tests wait for; the rest is the image's ENV.
      env: { PATH: process.env['PATH'] ?? '', HOME: workdir, LOG_LEVEL: 'debug', ...stageEnv(runStage) },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? runAs : {}),
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    httpUrl = String((await logged('foresight is serving'))['url']);
  }, 600_000);

  /**
   * The service's first log line with this `msg`: an event, with no time budget (the model process
   * runs niced, so on busy cores its first cycle may take minutes). Rejects if the service exits first.
   */
  function logged(msg: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const service = child!;
      const check = () => {
        const line = output.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
        if (line === undefined) return;
        stop();
        resolve(JSON.parse(line) as Record<string, unknown>);
      };
      const exited = () => {
        stop();
        reject(new Error(`the service exited before logging "${msg}":\n${output}`));
      };
      const stop = () => {
        service.stdout!.off('data', check);
        service.stderr!.off('data', check);
        service.off('exit', exited);
      };
      service.stdout!.on('data', check);
      service.stderr!.on('data', check);
      service.once('exit', exited);
      check();
    });
  }

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const models = childPids('model-process-entry', child.pid!);
      child.kill('SIGKILL');
      for (const pid of models) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    if (stage !== undefined) {
      if (!asRoot) await run('chmod', ['-R', 'u+w', stage]).catch(() => undefined);
      rmSync(stage, { recursive: true, force: true });
    }
    rmSync(home, { recursive: true, force: true });
  }, 300_000);

  test('runs as uid 65532 and cannot write its application tree', async (ctx) => {
    if (skipReason !== undefined) return ctx.skip();
    if (asRoot) {
      const status = readFileSync(`/proc/${child!.pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(runAs.uid));
    }
    // The staged tree is what the image holds: production dependencies only.
    const modules = readdirSync(join(rootfs, 'app', 'node_modules'));
    expect(modules).toContain('express');
    for (const dev of ['vitest', 'typescript', 'tsx', 'supertest']) expect(modules).not.toContain(dev);
    const probe = join(rootfs, 'app', 'probe');
    const write = await run(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(probe)}, 'x')`], asRoot ? runAs : {}).then(
      () => 'written',
      (error: { stderr?: string }) => error.stderr ?? '',
    );
    expect(write).toMatch(/EACCES/);
  });

  test('serves the demo: ready, forecasts, /metrics', async (ctx) => {
    if (skipReason !== undefined) return ctx.skip();
    expect((await fetch(`${httpUrl}/readyz`)).status).toBe(200);
    await logged('cycle completed');
    const status = (await (await fetch(`${httpUrl}/scaling/status`)).json()) as { queues: { forecasts: unknown[] }[] };
    expect(
      status.queues.reduce((n, q) => n + q.forecasts.length, 0),
      output,
    ).toBeGreaterThan(0);
    const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^predicted_queue_depth\{/m);
    expect(metrics).toMatch(/^foresight_build_info\{[^}]*revision="unknown"/m);
  });

  test('serves the external-metrics API to kubectl through the kubeconfig it wrote in its own folder', async (ctx) => {
    if (skipReason !== undefined) return ctx.skip();
    const workdir = join(rootfs, runStage.instructions.findLast((i) => i.keyword === 'WORKDIR')!.args);
    const kubeconfig = join(workdir, '.foresight', 'kubeconfig');
    expect(existsSync(kubeconfig), output).toBe(true);
    if (asRoot) expect(statSync(kubeconfig).uid).toBe(runAs.uid);
    await logged('cycle completed'); // a value to serve
    const resources = await kubectl(['api-resources', '--api-group=external.metrics.k8s.io'], { home, kubeconfig });
    expect(resources.code, resources.stderr).toBe(0);
    expect(resources.stdout).toMatch(/^predicted_queue_depth\s+external\.metrics\.k8s\.io\/v1beta1\s+true\s+ExternalMetricValueList/m);
    await vi.waitFor(
      async () => {
        const value = await kubectl(['get', '--raw', '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth'], { home, kubeconfig });
        expect(value.code, value.stderr).toBe(0);
        expect((JSON.parse(value.stdout) as { items: unknown[] }).items.length).toBeGreaterThan(0);
      },
      { timeout: 120_000, interval: 500 },
    );
  });

  test('stops cleanly on SIGTERM, as the kubelet stops it', async (ctx) => {
    if (skipReason !== undefined) return ctx.skip();
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).not.toMatch(/"level":(50|60)/); // no error or fatal log line
  });
});
