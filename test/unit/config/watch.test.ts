import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { ConfigWatcher, loadConfig, type Config, type ConfigError } from '../../../src/config/index.js';
import type { Clock } from '../../../src/core/index.js';

/** A clock that moves only when told to. */
class TestClock implements Clock {
  ms = 1_700_000_000_000;
  nowMs(): number {
    return this.ms;
  }
}

// Short, so that tests are quick; the production default (200 ms) is for editors' multi-step saves.
const debounceMs = 20;
const waitOptions = { timeout: 120_000, interval: 10 };

/** For assertions that something does NOT happen, a pause is unavoidable; many debounce periods long. */
const quietPeriod = () => new Promise((resolve) => setTimeout(resolve, debounceMs * 10));

const yamlWithPort = (port: number, extra = '') => `server:\n  port: ${port}\n${extra}`;

interface Harness {
  readonly dir: string;
  readonly file: string;
  readonly clock: TestClock;
  readonly watcher: ConfigWatcher;
  readonly reloads: Config[];
  readonly errors: ConfigError[];
}

let dir: string;
const watchers: ConfigWatcher[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'foresight-config-watch-'));
});

afterEach(() => {
  for (const watcher of watchers.splice(0)) watcher.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes the first config, loads it as the service would at startup, and starts a watcher on it. */
function startWatching(options: { text?: string; file?: string; env?: Readonly<Record<string, string>> } = {}): Harness {
  const file = options.file ?? join(dir, 'config.yaml');
  if (options.file === undefined) writeFileSync(file, options.text ?? yamlWithPort(8000));
  const env = options.env ?? {};
  const initial = loadConfig({ file, env });
  if (!initial.ok) throw new Error(initial.error.message);
  const clock = new TestClock();
  const watcher = new ConfigWatcher({ file, env, clock, initial: initial.value, debounceMs });
  watchers.push(watcher);
  const reloads: Config[] = [];
  const errors: ConfigError[] = [];
  watcher.subscribe({ onReload: (config) => reloads.push(config), onError: (error) => errors.push(error) });
  watcher.start();
  return { dir, file, clock, watcher, reloads, errors };
}

/** Replaces a file the way editors do: write a temporary file beside it, then rename it over. */
function renameReplace(file: string, text: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

describe('ConfigWatcher', () => {
  test('the constructor starts nothing, and current() is the initial config', () => {
    writeFileSync(join(dir, 'config.yaml'), yamlWithPort(8000));
    const initial = loadConfig({ file: join(dir, 'config.yaml'), env: {} });
    if (!initial.ok) throw new Error(initial.error.message);
    const clock = new TestClock();
    const watcher = new ConfigWatcher({ file: join(dir, 'config.yaml'), env: {}, clock, initial: initial.value });
    expect(watcher.current()).toBe(initial.value);
    expect(watcher.lastReloadSuccessful).toBe(true);
    expect(watcher.lastReloadTimestampMs).toBe(clock.ms);
    expect(watcher.lastSuccessfulReloadTimestampMs).toBe(clock.ms);
  });

  test('a valid edit is swapped in and reported', async () => {
    const h = startWatching();
    const before = h.watcher.current();
    h.clock.ms += 60_000;
    writeFileSync(h.file, yamlWithPort(9000));
    await vi.waitFor(() => expect(h.watcher.current().server.port).toBe(9000), waitOptions);
    expect(h.reloads).toHaveLength(1);
    expect(h.reloads[0]).toBe(h.watcher.current());
    expect(Object.isFrozen(h.watcher.current())).toBe(true);
    expect(before.server.port).toBe(8000);
    expect(h.watcher.lastReloadSuccessful).toBe(true);
    expect(h.watcher.lastReloadTimestampMs).toBe(h.clock.ms);
    expect(h.watcher.lastSuccessfulReloadTimestampMs).toBe(h.clock.ms);
    expect(h.errors).toEqual([]);
  });

  test('an invalid edit keeps the old config and reports; a fixed edit then recovers', async () => {
    const h = startWatching();
    const original = h.watcher.current();
    const startedAt = h.clock.ms;

    h.clock.ms += 1000;
    writeFileSync(h.file, yamlWithPort(8000, 'scaling:\n  resources:\n    worker_processes: {min: 9, max: 3}\n'));
    await vi.waitFor(() => expect(h.errors).toHaveLength(1), waitOptions);
    expect(h.watcher.current()).toBe(original);
    expect(h.watcher.lastReloadSuccessful).toBe(false);
    expect(h.watcher.lastReloadTimestampMs).toBe(startedAt + 1000);
    expect(h.watcher.lastSuccessfulReloadTimestampMs).toBe(startedAt);
    expect(h.errors[0]?.message).toContain(`${h.file}: scaling.resources.worker_processes: min (9) must not be greater than max (3)`);
    expect(h.reloads).toEqual([]);

    h.clock.ms += 1000;
    writeFileSync(h.file, yamlWithPort(8500));
    await vi.waitFor(() => expect(h.watcher.current().server.port).toBe(8500), waitOptions);
    expect(h.watcher.lastReloadSuccessful).toBe(true);
    expect(h.watcher.lastSuccessfulReloadTimestampMs).toBe(startedAt + 2000);
    expect(h.reloads).toHaveLength(1);
    expect(h.errors).toHaveLength(1);
  });

  test('a YAML syntax error is refused with its line and column', async () => {
    const h = startWatching();
    writeFileSync(h.file, 'server:\n  port: [8000\n');
    await vi.waitFor(() => expect(h.errors).toHaveLength(1), waitOptions);
    expect(h.errors[0]?.message).toMatch(/YAML syntax error at line \d+, column \d+/);
    expect(h.watcher.current().server.port).toBe(8000);
  });

  test('a file replaced by rename (how editors save) is picked up', async () => {
    const h = startWatching();
    renameReplace(h.file, yamlWithPort(9100));
    await vi.waitFor(() => expect(h.watcher.current().server.port).toBe(9100), waitOptions);
    renameReplace(h.file, yamlWithPort(9200));
    await vi.waitFor(() => expect(h.watcher.current().server.port).toBe(9200), waitOptions);
    expect(h.errors).toEqual([]);
  });

  test('a Kubernetes ConfigMap update (the ..data symlink swap) is picked up', async () => {
    // The kubelet's layout: config.yaml → ..data/config.yaml, ..data → ..<timestamp>/; an update
    // writes a new timestamped folder and renames a new ..data symlink over the old one.
    mkdirSync(join(dir, '..2024_01_01_00_00_00.1'));
    writeFileSync(join(dir, '..2024_01_01_00_00_00.1', 'config.yaml'), yamlWithPort(8000));
    symlinkSync('..2024_01_01_00_00_00.1', join(dir, '..data'));
    symlinkSync(join('..data', 'config.yaml'), join(dir, 'config.yaml'));
    const h = startWatching({ file: join(dir, 'config.yaml') });
    expect(h.watcher.current().server.port).toBe(8000);

    mkdirSync(join(dir, '..2024_01_02_00_00_00.2'));
    writeFileSync(join(dir, '..2024_01_02_00_00_00.2', 'config.yaml'), yamlWithPort(9300));
    symlinkSync('..2024_01_02_00_00_00.2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..2024_01_01_00_00_00.1'), { recursive: true });

    await vi.waitFor(() => expect(h.watcher.current().server.port).toBe(9300), waitOptions);
    expect(h.errors).toEqual([]);
  });

  test('environment overrides stay applied on reload', async () => {
    const h = startWatching({ env: { PORT: '7000' } });
    expect(h.watcher.current().server.port).toBe(7000);
    writeFileSync(h.file, yamlWithPort(9000, 'logLevel: debug\n'));
    await vi.waitFor(() => expect(h.watcher.current().logLevel).toBe('debug'), waitOptions);
    expect(h.watcher.current().server.port).toBe(7000);
  });

  test('a deleted file is reported, and its return recovers', async () => {
    const h = startWatching();
    rmSync(h.file);
    await vi.waitFor(() => expect(h.errors).toHaveLength(1), waitOptions);
    expect(h.errors[0]?.message).toBe(`${h.file}: cannot read the file: it does not exist`);
    expect(h.watcher.current().server.port).toBe(8000);
    writeFileSync(h.file, yamlWithPort(9400));
    await vi.waitFor(() => expect(h.watcher.current().server.port).toBe(9400), waitOptions);
    expect(h.watcher.lastReloadSuccessful).toBe(true);
  });

  test('an emptied file is taken for one being rewritten: nothing is swapped until the write lands', async () => {
    const h = startWatching();
    writeFileSync(h.file, '');
    await quietPeriod();
    expect(h.reloads).toEqual([]);
    expect(h.watcher.current().server.port).toBe(8000);
    writeFileSync(h.file, yamlWithPort(9700));
    await vi.waitFor(() => expect(h.watcher.current().server.port).toBe(9700), waitOptions);
    expect(h.reloads).toHaveLength(1);
  });

  test('reload() takes an empty file at its word: all defaults', () => {
    const h = startWatching({ text: yamlWithPort(9000) });
    writeFileSync(h.file, '');
    const result = h.watcher.reload();
    expect(result.ok && result.value.server.port).toBe(8000);
  });

  test('rewriting the same text reloads nothing', async () => {
    const h = startWatching();
    writeFileSync(h.file, yamlWithPort(8000));
    writeFileSync(join(dir, 'unrelated.txt'), 'other files in the folder do not matter');
    await quietPeriod();
    expect(h.reloads).toEqual([]);
    expect(h.errors).toEqual([]);
  });

  test('reload() reloads now, changed or not, and returns the outcome', () => {
    const h = startWatching();
    const same = h.watcher.reload();
    expect(same.ok).toBe(true);
    expect(h.reloads).toHaveLength(1);

    writeFileSync(h.file, 'server:\n  port: nope\n');
    const refused = h.watcher.reload();
    expect(!refused.ok && refused.error.message).toContain('server.port: expected number, received string "nope"');
    expect(h.errors).toHaveLength(1);
    expect(h.watcher.current().server.port).toBe(8000);
  });

  test('after stop() edits are no longer picked up', async () => {
    const h = startWatching();
    h.watcher.stop();
    writeFileSync(h.file, yamlWithPort(9500));
    await quietPeriod();
    expect(h.watcher.current().server.port).toBe(8000);
    expect(h.reloads).toEqual([]);
  });

  test('without a file there is nothing to watch, and reload() re-applies the environment', () => {
    const initial = loadConfig({ env: { PORT: '7100' } });
    if (!initial.ok) throw new Error(initial.error.message);
    const watcher = new ConfigWatcher({ env: { PORT: '7100' }, clock: new TestClock(), initial: initial.value });
    watcher.start();
    const result = watcher.reload();
    expect(result.ok && result.value.server.port).toBe(7100);
    watcher.stop();
  });

  test('a listener that throws does not keep the others from hearing, and its error surfaces', () => {
    const h = startWatching();
    const heard: number[] = [];
    h.watcher.subscribe({
      onReload: () => {
        throw new Error('listener bug');
      },
    });
    h.watcher.subscribe({ onReload: (config) => heard.push(config.server.port) });
    writeFileSync(h.file, yamlWithPort(9600));
    expect(() => h.watcher.reload()).toThrow('listener bug');
    expect(heard).toEqual([9600]);
    expect(h.watcher.current().server.port).toBe(9600);
  });

  test('unsubscribe stops the notifications', () => {
    const h = startWatching();
    const heard: Config[] = [];
    const unsubscribe = h.watcher.subscribe({ onReload: (config) => heard.push(config) });
    h.watcher.reload();
    unsubscribe();
    h.watcher.reload();
    expect(heard).toHaveLength(1);
  });
});
