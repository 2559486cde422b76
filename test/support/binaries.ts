/**
 * Which external programs the tests can use, and what happens when one is missing.
 *
 * Locally, a missing binary skips the suites that need it, with a loud banner naming the Debian
 * package to install. In CI (`CI=true`) CI installs everything (see `.ci/run`), so a missing binary
 * means CI itself is broken: then the suite does not skip but registers a failing test, so that a
 * skip can never turn a broken CI green. See docs/testing.md.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'vitest';

/** Debian package that provides each external program the tests use. */
export const APT_PACKAGES = {
  prometheus: 'prometheus',
  promtool: 'prometheus',
  'prometheus-alertmanager': 'prometheus-alertmanager',
  amtool: 'prometheus-alertmanager',
  // kubectl comes preinstalled in the image (google-cloud-cli's package); Debian's own
  // `kubernetes-client` is 1.20, too old for aggregated discovery. See environment.md §1.
  kubectl: 'kubectl (preinstalled; Debian kubernetes-client is too old)',
  chromium: 'chromium',
  // helm-lite, the chart renderer (tools/helm-lite), also needs golang-github-masterminds-sprig-dev
  // and golang-k8s-sigs-yaml-dev; its build error says so when they are missing.
  go: 'golang-go',
  // The KEDA-like Go client (tools/keda-client) generates its stubs with these.
  protoc: 'protobuf-compiler',
  'protoc-gen-go': 'golang-goprotobuf-dev',
  'protoc-gen-go-grpc': 'protoc-gen-go-grpc golang-google-grpc-dev',
  // The end-of-run check (global-setup.ts) waits for a surviving process's exit with it.
  pidwait: 'procps',
} as const satisfies Record<string, string>;

/** A program the tests know how to install. */
export type KnownBinary = keyof typeof APT_PACKAGES;

/**
 * True when the tests run in CI, where every binary must be present. Accepts `true` and `1`,
 * the two spellings CI systems use.
 */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env['CI'] ?? '').trim().toLowerCase();
  return value === 'true' || value === '1';
}

/**
 * The absolute path of an executable found on `PATH`, or `undefined`.
 * Synchronous on purpose: it runs while vitest collects tests, before any hook.
 */
export function findBinary(name: string, pathEnv: string = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here; keep looking along PATH.
    }
  }
  return undefined;
}

/** The package hint for a binary, for messages. */
function packageFor(name: string): string {
  return (APT_PACKAGES as Record<string, string>)[name] ?? name;
}

/** The install command to print for a missing binary. */
export function installHint(name: string): string {
  const pkg = packageFor(name);
  return pkg.includes(' ') ? `binary "${name}" must come from: ${pkg}` : `apt-get install -y --no-install-recommends ${pkg}`;
}

const CI_WHY = ' and CI=true, so this fails instead of skipping';

/** Binaries already announced in this worker, so each banner prints once per worker, not per suite. */
const announced = new Set<string>();

function banner(name: string, ci: boolean): string {
  const bar = '#'.repeat(78);
  const verdict = ci ? 'CI=true: this is a TEST FAILURE, not a skip (CI must install every binary).' : 'The tests that need it are SKIPPED. Install it to run them.';
  return ['', bar, `#  MISSING BINARY: "${name}" is not on PATH (Debian package: ${packageFor(name)})`, `#  ${verdict}`, `#  ${installHint(name)}`, bar, ''].join('\n');
}

/** A required binary is not on PATH. The message names the package that provides it. */
export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
  constructor(
    readonly binary: string,
    why = '',
  ) {
    super(`required binary "${binary}" is not on PATH${why}; ${installHint(binary)}`);
  }
}

/**
 * Whether the suites that need `name` should run. Use it with `describe.skipIf`:
 *
 * ```ts
 * describe.skipIf(!requireBinary('prometheus'))('against real Prometheus', () => { ... });
 * ```
 *
 * - Present: returns `true`.
 * - Missing, locally: prints a banner naming the binary and its apt package, returns `false` (skip).
 * - Missing, `CI=true`: prints the banner, registers a test named after the binary that fails with
 *   {@link MissingBinaryError} in the suite being collected, and returns `false`, so the real tests
 *   are skipped but the run is red and the failure is counted. (A failing `beforeAll` would not do:
 *   vitest reports the tests of such a suite as skipped, not failed.)
 *
 * Call it while tests are being collected (top level or inside a `describe` callback). Called inside
 * a running test it throws instead, which fails that test.
 */
export function requireBinary(name: KnownBinary | (string & {})): boolean {
  if (findBinary(name) !== undefined) return true;
  const ci = isCi();
  if (!announced.has(name)) {
    announced.add(name);
    console.warn(banner(name, ci));
  }
  if (ci) {
    try {
      test(`required binary "${name}" is installed (${packageFor(name)})`, () => {
        throw new MissingBinaryError(name, CI_WHY);
      });
    } catch {
      // Not collecting (e.g. called inside a test): fail right here instead.
      throw new MissingBinaryError(name, CI_WHY);
    }
  }
  return false;
}

/**
 * {@link requireBinary} for several binaries at once: true only when all are present. Every missing
 * one gets its banner (and, in CI, its own failing test), not just the first.
 */
export function requireBinaries(...names: ReadonlyArray<KnownBinary | (string & {})>): boolean {
  let all = true;
  for (const name of names) all = requireBinary(name) && all;
  return all;
}

/**
 * Throws {@link MissingBinaryError} when `name` is not on PATH, and returns its path otherwise.
 * For code that is about to spawn the binary, so the error names the package instead of `ENOENT`.
 */
export function assertBinary(name: KnownBinary | (string & {})): string {
  const found = findBinary(name);
  if (found === undefined) throw new MissingBinaryError(name);
  return found;
}
