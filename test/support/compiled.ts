/**
 * The compiled service, as `npm run build` makes it (dist/), built at most once for each state of
 * its inputs and shared by the tests that run compiled code (built-service.test.ts, image.test.ts):
 * one build per run instead of one per file, none when nothing changed since the last run.
 *
 * It can never hand out stale code: the SHA-256 of every input of the build (src/, the tsconfigs,
 * package.json, the lock file) is written to .cache/dist.sha256 only after a build into a fresh
 * folder has replaced dist/, and dist/ is reused only when that hash matches the inputs now. Two
 * workers asking at once: the first builds under a lock folder, the other waits for the lock to go
 * (an fs.watch event, no polling) and then finds the new hash.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, watch, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { isAlive } from './processes.js';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const cache = join(repo, '.cache');
const stampPath = join(cache, 'dist.sha256');
const lockPath = join(cache, 'dist.lock');
const dist = join(repo, 'dist');

/** The hash of everything `npm run build` reads. */
function inputsHash(): string {
  const hash = createHash('sha256');
  const files = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'].map((f) => join(repo, f));
  for (const entry of readdirSync(join(repo, 'src'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.push(join(entry.parentPath, entry.name));
  }
  for (const file of files.sort()) hash.update(relative(repo, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

function isCurrent(hash: string): boolean {
  return existsSync(dist) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === hash;
}

/**
 * Takes the lock: a folder holding the holder's pid, renamed into place whole (a rename onto a lock
 * that exists fails), so a lock is never seen without its pid. False when a live process holds it;
 * a dead holder's lock is taken over.
 */
function tryLock(): boolean {
  const mine = join(cache, `dist.lock-${process.pid}`);
  rmSync(mine, { recursive: true, force: true });
  mkdirSync(mine);
  writeFileSync(join(mine, 'pid'), String(process.pid));
  try {
    renameSync(mine, lockPath);
    return true;
  } catch (error) {
    rmSync(mine, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  let holder = 0;
  try {
    holder = Number(readFileSync(join(lockPath, 'pid'), 'utf8'));
  } catch {
    return tryLock(); // released meanwhile
  }
  if (isAlive(holder)) return false;
  rmSync(lockPath, { recursive: true, force: true });
  return tryLock();
}

/** Resolves once the lock folder is gone. */
function lockReleased(): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(cache, () => check());
    watcher.on('error', reject);
    function check(): void {
      if (existsSync(lockPath)) return;
      watcher.close();
      resolve();
    }
    check(); // it may have gone before the watch began
  });
}

/** The path of dist/, compiled from the sources as they are now. */
export async function compiledDist(): Promise<string> {
  mkdirSync(cache, { recursive: true });
  for (;;) {
    const hash = inputsHash();
    if (isCurrent(hash)) return dist;
    if (!tryLock()) {
      await lockReleased();
      continue;
    }
    try {
      if (isCurrent(hash)) return dist;
      rmSync(stampPath, { force: true });
      // `npm run build` itself (tsc -p tsconfig.build.json), into a fresh folder beside dist/ (the
      // compiled code finds package.json and the .proto file relative to itself), then swapped in.
      const fresh = join(repo, `dist.build-${process.pid}`);
      rmSync(fresh, { recursive: true, force: true });
      try {
        await run('npm', ['run', '-s', 'build', '--', '--outDir', fresh], { cwd: repo, maxBuffer: 16 << 20 });
        rmSync(dist, { recursive: true, force: true });
        renameSync(fresh, dist);
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
      writeFileSync(stampPath, hash);
      return dist;
    } finally {
      rmSync(lockPath, { recursive: true, force: true });
    }
  }
}
