/**
 * killForkedChildren: the forced exit after server.shutdownGrace ends the children forkEntry started
 * (process.exit alone leaves them running, orphaned). A real child process, waited for by its exit event.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { forkEntry, isForkedChildRunning, killForkedChildren } from '../../src/core/index.js';

const dir = mkdtempSync(join(tmpdir(), 'foresight-forked-'));
afterAll(() => {
  killForkedChildren();
  rmSync(dir, { recursive: true, force: true });
});

describe('killForkedChildren', () => {
  it('kills every live child forkEntry started, and forgets the ones that exited', async () => {
    // A compiled entry beside the module URL: forkEntry runs the .js with plain node. It says when it is up.
    writeFileSync(join(dir, 'idle.js'), "process.send('up'); setInterval(() => {}, 1000);\n");
    const moduleUrl = pathToFileURL(join(dir, 'module.js')).href;
    const children = [forkEntry(moduleUrl, 'idle', 0), forkEntry(moduleUrl, 'idle', 0)];
    await Promise.all(children.map((c) => new Promise((resolve) => c.once('message', resolve))));
    expect(children.map((c) => isForkedChildRunning(c))).toEqual([true, true]);
    const exits = children.map((c) => new Promise<NodeJS.Signals | null>((resolve) => c.once('exit', (_code, signal) => resolve(signal))));
    // At least these two: the files of a vitest worker share one module graph (isolate: false), so a
    // child another file stopped may still be on its way out and is killed too.
    expect(killForkedChildren()).toBeGreaterThanOrEqual(2);
    expect(await Promise.all(exits)).toEqual(['SIGKILL', 'SIGKILL']);
    expect(children.map((c) => isForkedChildRunning(c))).toEqual([false, false]);
  });
});
