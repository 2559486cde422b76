/**
 * Renders the chart with helm-lite (tools/helm-lite/main.go), the small Helm-compatible renderer
 * built from Debian's Go packages, since no helm binary can be installed here (environment.md §7).
 * The binary is built into .cache/ on first use and rebuilt when its source changes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { chartDir, repoRoot } from './chart-sources.js';

/** Where the binary is built. */
export const helmLitePath = join(repoRoot, '.cache', 'helm-lite');
const sourcePath = join(repoRoot, 'tools', 'helm-lite', 'main.go');

/** Builds helm-lite unless an up-to-date binary exists; returns its path. */
export function buildHelmLite(): string {
  if (existsSync(helmLitePath) && statSync(helmLitePath).mtimeMs >= statSync(sourcePath).mtimeMs) return helmLitePath;
  mkdirSync(join(repoRoot, '.cache'), { recursive: true });
  // Build to a private name and rename: test files build in parallel workers.
  const tmp = `${helmLitePath}.${process.pid}.tmp`;
  const result = spawnSync('go', ['build', '-o', tmp, './tools/helm-lite'], {
    cwd: repoRoot,
    encoding: 'utf8',
    // GOPATH mode over Debian's Go sources: module mode would try to reach the Go proxy.
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(repoRoot, '.cache', 'go-build'), GOFLAGS: '' },
  });
  if (result.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`building helm-lite failed (needs golang-go, golang-github-masterminds-sprig-dev and golang-k8s-sigs-yaml-dev):\n${result.stderr}${result.error?.message ?? ''}`);
  }
  renameSync(tmp, helmLitePath);
  return helmLitePath;
}

/** A rendered Kubernetes object. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [key: string]: unknown;
  /** The template file it came from. */
  readonly source: string;
}

/** What to render with. */
export interface RenderOptions {
  /** Values files, relative to the repository root. */
  readonly valuesFiles?: readonly string[];
  /** Values given inline (written to a temporary file, applied after valuesFiles). */
  readonly values?: unknown;
  readonly name?: string;
  readonly namespace?: string;
  /** Objects `lookup` finds, as if they were in the cluster. */
  readonly objects?: readonly unknown[];
  /** Render NOTES.txt instead of the manifests. */
  readonly notes?: boolean;
}

/** The outcome of one render. */
export interface Rendered {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly manifests: readonly Manifest[];
}

/** Renders the chart; `manifests` is empty when rendering failed. */
export function renderChart(options: RenderOptions = {}): Rendered {
  const binary = buildHelmLite();
  const dir = mkdtempSync(join(tmpdir(), 'foresight-chart-'));
  try {
    const args = ['-name', options.name ?? 'foresight', '-namespace', options.namespace ?? 'monitoring'];
    for (const file of options.valuesFiles ?? []) args.push('-f', join(repoRoot, file));
    if (options.values !== undefined) {
      writeFileSync(join(dir, 'values.yaml'), stringify(options.values));
      args.push('-f', join(dir, 'values.yaml'));
    }
    if (options.objects !== undefined) {
      writeFileSync(join(dir, 'objects.yaml'), options.objects.map((o) => stringify(o)).join('---\n'));
      args.push('-objects', join(dir, 'objects.yaml'));
    }
    if (options.notes === true) args.push('-notes');
    args.push(chartDir);
    const result = spawnSync(binary, args, { encoding: 'utf8' });
    const status = result.status ?? 1;
    return { status, stdout: result.stdout, stderr: result.stderr, manifests: status === 0 && options.notes !== true ? parseManifests(result.stdout) : [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Splits helm-lite output into objects, each tagged with its `# Source:` template. */
export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJSON();
    if (value === null || value === undefined) continue;
    // The yaml parser keeps a comment's text without its "#".
    const header = /^#?\s*Source: (\S+)/m;
    const source = header.exec(doc.commentBefore ?? '')?.[1] ?? header.exec(String(doc.contents?.commentBefore ?? ''))?.[1] ?? 'unknown';
    out.push({ ...(value as Manifest), source });
  }
  return out;
}

/** The one object of a kind (and name, when given); throws when there is not exactly one. */
export function find(manifests: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length}`);
  return found[0]!;
}
