import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ok, type Clock, type Result, messageOf } from '../core/index.js';
import { ConfigError } from './config-error.js';
import { loadConfigFromText, readConfigText, type Environment } from './load.js';
import type { Config } from './schema.js';

/** Hears about reloads. Both methods are optional; they are called synchronously, in subscription order. */
export interface ConfigListener {
  /** A changed file was valid and is now the current configuration. */
  onReload?(config: Config): void;
  /** A changed file was refused (or could not be read); the previous configuration stays current. */
  onError?(error: ConfigError): void;
}

/** What a {@link ConfigWatcher} watches and starts from. */
export interface ConfigWatcherOptions {
  /** The config file. Without one there is nothing to watch, and `reload()` re-applies the environment to the defaults. */
  readonly file?: string | undefined;
  /** The environment; its overrides stay applied on every reload. */
  readonly env: Environment;
  /** Stamps reload times. */
  readonly clock: Clock;
  /** The configuration loaded at startup (with `loadConfig`), current until the first successful reload. */
  readonly initial: Config;
  /**
   * How long the folder must be quiet before the file is read. Editors and ConfigMap updates
   * write in several steps (temp file, rename, symlink swap); 200 ms covers them without a visible lag.
   */
  readonly debounceMs?: number;
}

const defaultDebounceMs = 200;

/**
 * Hot reload of the configuration file: validate, then swap. A valid change replaces the current
 * configuration atomically (readers see the old or the new frozen object, never a mix); an invalid
 * one is refused, the old configuration keeps running and listeners hear `onError`.
 *
 * It watches the file's folder, not the file: editors replace a file by renaming a new one over
 * it, and Kubernetes updates a ConfigMap volume by swapping a `..data` symlink, and neither shows
 * up on a watch of the old file. Every event in the folder schedules a (debounced) read; the file
 * is validated only when its text changed, and an empty file is taken for one being rewritten and
 * left for the next event. `reload()` forces a reload (wire it to SIGHUP).
 *
 * The constructor starts nothing; `start()` begins watching and `stop()` ends it.
 */
export class ConfigWatcher {
  readonly #file: string | undefined;
  readonly #env: Environment;
  readonly #clock: Clock;
  readonly #debounceMs: number;
  readonly #listeners = new Set<ConfigListener>();
  #current: Config;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The text (or read error) last looked at; an event that leaves it unchanged is ignored. */
  #lastSeen: string | undefined;
  #lastReloadSuccessful = true;
  #lastReloadTimestampMs: number;
  #lastSuccessfulReloadTimestampMs: number;

  constructor(options: ConfigWatcherOptions) {
    this.#file = options.file;
    this.#env = options.env;
    this.#clock = options.clock;
    this.#debounceMs = options.debounceMs ?? defaultDebounceMs;
    this.#current = options.initial;
    this.#lastReloadTimestampMs = options.clock.nowMs();
    this.#lastSuccessfulReloadTimestampMs = this.#lastReloadTimestampMs;
  }

  /** The configuration in force: the initial one, or the last one that reloaded successfully. Deep-frozen. */
  current(): Config {
    return this.#current;
  }

  /** False when the last reload attempt was refused; true after a successful one (and at startup). */
  get lastReloadSuccessful(): boolean {
    return this.#lastReloadSuccessful;
  }

  /** When the last reload was attempted, successful or not (construction time until then), in ms since the epoch. */
  get lastReloadTimestampMs(): number {
    return this.#lastReloadTimestampMs;
  }

  /**
   * When the configuration in force was loaded, in ms since the epoch: the time of the last
   * successful reload, like Prometheus' `prometheus_config_last_reload_success_timestamp_seconds`.
   */
  get lastSuccessfulReloadTimestampMs(): number {
    return this.#lastSuccessfulReloadTimestampMs;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ConfigListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Starts watching the file's folder. Does nothing without a file, or when already started. */
  start(): void {
    if (this.#file === undefined || this.#watcher !== undefined) return;
    const path = resolve(this.#file);
    this.#lastSeen = this.#fingerprint(readConfigText(this.#file));
    // Not persistent: watching a config file is no reason to keep the process alive.
    this.#watcher = watch(dirname(path), { persistent: false }, () => this.#schedule());
    this.#watcher.on('error', (cause: unknown) => {
      // The folder itself went away (or inotify ran out of watches); reload() still works.
      this.#closeWatcher();
      const message = `stopped watching ${dirname(path)} for changes to ${basename(path)}: ${messageOf(cause)}`;
      this.#notify((l) => l.onError?.(new ConfigError([{ code: 'file_unreadable', path: '', message, source: this.#file ?? '' }], { cause })));
    });
  }

  /** Stops watching and cancels a pending reload. The current configuration stays. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closeWatcher();
  }

  /**
   * Reloads now, whether or not the file changed (for SIGHUP), and returns the outcome; listeners
   * hear it as well. A listener that throws does not stop the others; its error is thrown from
   * here once all have run.
   */
  reload(): Result<Config, ConfigError> {
    return this.#reload(true) ?? ok(this.#current);
  }

  #closeWatcher(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #schedule(): void {
    // Trailing debounce: the read happens once the folder has been quiet for debounceMs.
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#reload(false);
    }, this.#debounceMs);
    this.#timer.unref();
  }

  #fingerprint(text: Result<string, ConfigError>): string {
    return text.ok ? `text:${text.value}` : `error:${text.error.message}`;
  }

  /** Loads and swaps; returns undefined when `force` is false and the file did not change. */
  #reload(force: boolean): Result<Config, ConfigError> | undefined {
    let result: Result<Config, ConfigError>;
    if (this.#file === undefined) {
      result = loadConfigFromText({ text: undefined, env: this.#env });
    } else {
      const text = readConfigText(this.#file);
      // An empty file seen by the watcher is most likely one being rewritten in place (truncated,
      // not yet written); loading it would swap in all defaults. The write that follows triggers
      // another read. An explicit reload() does take an empty file at its word.
      if (!force && text.ok && text.value.trim() === '') return undefined;
      const seen = this.#fingerprint(text);
      if (!force && seen === this.#lastSeen) return undefined;
      this.#lastSeen = seen;
      result = text.ok ? loadConfigFromText({ text: text.value, file: this.#file, env: this.#env }) : text;
    }
    const nowMs = this.#clock.nowMs();
    this.#lastReloadTimestampMs = nowMs;
    this.#lastReloadSuccessful = result.ok;
    if (result.ok) {
      // The swap is one assignment: readers of current() get the old or the new object, never a mix.
      this.#current = result.value;
      this.#lastSuccessfulReloadTimestampMs = nowMs;
      const config = result.value;
      this.#notify((l) => l.onReload?.(config));
    } else {
      const error = result.error;
      this.#notify((l) => l.onError?.(error));
    }
    return result;
  }

  /** Calls every listener even if one throws, then throws what they threw. */
  #notify(call: (listener: ConfigListener) => void): void {
    const failures: unknown[] = [];
    for (const listener of [...this.#listeners]) {
      try {
        call(listener);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, 'configuration listeners failed');
  }
}
