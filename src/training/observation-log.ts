import { constants } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { messageOf, replaceAtomically, resources, SmallFileError, temporaryPrefix } from '../core/index.js';
import type { Resource } from '../core/index.js';
import type { ResourceObservation } from '../forecast/index.js';
import { checkOwnedDir, readOwnedFile } from './owned-file.js';

/** Where the resource optimizer's observations survive restarts. */
export interface ObservationLog {
  /**
   * The stored observations of a resource, oldest first (at most `max`, the newest ones); never
   * throws — an unreadable file or bad lines are reported through `onProblem` and skipped.
   */
  load(resource: Resource, max: number): Promise<ResourceObservation[]>;
  /**
   * Appends observations (newest last); compacts the file to the newest `max` when it grows past
   * 2 × max. Errors reject (the caller logs them and keeps going); an observation that cannot be
   * stored (a non-finite number, a fractional timestamp) rejects the whole call before anything is written.
   */
  append(resource: Resource, observations: readonly ResourceObservation[], max: number): Promise<void>;
}

/** Something wrong with a stored observation file: which resource, which file, which line (1-based), what. */
export interface ObservationLogProblem {
  readonly resource: Resource;
  readonly path: string;
  readonly line?: number;
  readonly message: string;
}

/**
 * One stored line. JSON has no NaN, so an unknown backlog (NaN in memory: "depth not measured",
 * which the optimizer skips) is written as `null` and read back as NaN. Optional fields are absent
 * when unknown. Unknown keys are ignored, so a newer Foresight may add fields.
 */
const lineSchema = z.object({
  timestampMs: z.number().int(),
  replicas: z.number().min(0),
  load: z.number(),
  throughput: z.number(),
  backlog: z.number().nullable(),
  latencySeconds: z.number().optional(),
  cpuPercent: z.number().optional(),
});

type StoredLine = z.infer<typeof lineSchema>;

function encode(observation: ResourceObservation): StoredLine {
  return {
    timestampMs: observation.timestampMs,
    replicas: observation.replicas,
    load: observation.load,
    throughput: observation.throughput,
    backlog: Number.isNaN(observation.backlog) ? null : observation.backlog,
    ...(observation.latencySeconds !== undefined ? { latencySeconds: observation.latencySeconds } : {}),
    ...(observation.cpuPercent !== undefined ? { cpuPercent: observation.cpuPercent } : {}),
  };
}

function decode(line: StoredLine): ResourceObservation {
  return {
    timestampMs: line.timestampMs,
    replicas: line.replicas,
    load: line.load,
    throughput: line.throughput,
    backlog: line.backlog ?? Number.NaN,
    ...(line.latencySeconds !== undefined ? { latencySeconds: line.latencySeconds } : {}),
    ...(line.cpuPercent !== undefined ? { cpuPercent: line.cpuPercent } : {}),
  };
}

/** The longest line we write is about 200 bytes; a file may hold 2 × max lines before compaction. */
const maxLineBytes = 1024;
function maxFileBytes(max: number): number {
  return maxLineBytes * (2 * max + 64);
}

function issueText(error: z.ZodError): string {
  const first = error.issues[0];
  return first === undefined ? 'invalid' : `${first.path.join('.') || '(root)'}: ${first.message}`;
}

/** The valid observations of a file's text, in file order, and how many non-empty lines it has. */
function parseLines(text: string, report: (line: number, message: string) => void): { readonly observations: ResourceObservation[]; readonly lines: number } {
  const parts = text.split('\n');
  // A complete file ends with a newline, so the last part is empty; if it is not, the last append was cut short.
  const lastIndex = parts.length - 1;
  const observations: ResourceObservation[] = [];
  let lines = 0;
  for (const [index, raw] of parts.entries()) {
    if (raw.trim() === '') continue;
    lines++;
    const truncated = index === lastIndex;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      // JSON.parse quotes the text it choked on; the log must not show file content.
      report(index + 1, truncated ? 'the last line is cut short (a crash while appending?): not JSON' : 'not JSON');
      continue;
    }
    const parsed = lineSchema.safeParse(json);
    if (!parsed.success) {
      report(index + 1, `not an observation: ${issueText(parsed.error)}`);
      continue;
    }
    observations.push(decode(parsed.data));
  }
  return { observations, lines };
}

/**
 * The observation log as JSON Lines files: `<dir>/<resource>.jsonl`, one observation per line,
 * oldest first (the service uses `<SCALING_ML_MODEL_PATH>/optimizer`). Appending writes only new
 * lines; a crash mid-append can leave a cut-short last line, which loading reports and skips and
 * the next append terminates, so it never swallows later lines. When a file holds more than
 * 2 × max lines it is rewritten atomically (temporary file in the same folder, fsync, rename) with
 * the newest `max`, so it stays bounded without rewriting on every cycle. Operations on one
 * resource run one at a time, in call order: concurrent appends never interleave, and a load never
 * sees a half-written append. Appended lines are not fsynced (a process crash keeps them; a power
 * loss may lose the last few seconds, which only costs a few observations).
 */
export function createFileObservationLog(dir: string, onProblem?: (problem: ObservationLogProblem) => void): ObservationLog {
  /** Non-empty lines in each resource's file, once known (read on first load or append). */
  const lineCounts = new Map<Resource, number>();
  /** The last operation queued per resource: each new one starts after it settles. */
  const tails = new Map<Resource, Promise<unknown>>();

  const fileName = (resource: Resource): string => `${resource}.jsonl`;
  const pathOf = (resource: Resource): string => join(dir, fileName(resource));

  function serialized<T>(resource: Resource, operation: () => Promise<T>): Promise<T> {
    const run = (tails.get(resource) ?? Promise.resolve()).then(operation, operation);
    const tail = run.catch(() => undefined);
    tails.set(resource, tail);
    // Forget the chain once it is drained, so an idle log holds nothing.
    void tail.then(() => {
      if (tails.get(resource) === tail) tails.delete(resource);
    });
    return run;
  }

  function checkResource(resource: Resource): void {
    // The type says Resource, but the name becomes a file name: never let anything else through.
    if (!(resources as readonly string[]).includes(resource)) throw new Error(`observation log: unknown resource "${String(resource).slice(0, 60)}"`);
  }

  function checkMax(max: number): void {
    if (!Number.isInteger(max) || max < 1) throw new Error(`observation log: max must be a whole number ≥ 1, got ${max}`);
  }

  /** Reads and parses a resource's file (none yet: nothing); bad lines are reported with `context` before the message, unless `context` is undefined. */
  async function readObservations(resource: Resource, max: number, context: string | undefined): Promise<{ readonly observations: ResourceObservation[]; readonly lines: number }> {
    const path = pathOf(resource);
    let text: string;
    try {
      // The folder and the file are ours: no links, a regular file, at most what 2 × max lines take.
      await checkOwnedDir(dirname(dir), dir);
      text = (await readOwnedFile(dir, fileName(resource), maxFileBytes(max), 'the optimizer log')).toString('utf8');
    } catch (error) {
      if (error instanceof SmallFileError && error.missing) return { observations: [], lines: 0 };
      throw error;
    }
    return parseLines(text, (line, text) => {
      if (context !== undefined) onProblem?.({ resource, path, line, message: `${context}${text}` });
    });
  }

  async function compact(resource: Resource, max: number): Promise<void> {
    const path = pathOf(resource);
    const { observations } = await readObservations(resource, max, 'dropped while compacting: ');
    const kept = observations.slice(-max);
    await replaceAtomically(path, kept.map((o) => `${JSON.stringify(encode(o))}\n`).join(''));
    lineCounts.set(resource, kept.length);
    // A crash during an earlier compaction can leave a temporary file; this one succeeded, so they are stale.
    const prefix = temporaryPrefix(path);
    const stale = (await readdir(dir)).filter((name) => name.startsWith(prefix));
    await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
  }

  return {
    load(resource, max) {
      return serialized(resource, async () => {
        const path = pathOf(resource);
        try {
          checkResource(resource);
          checkMax(max);
          const { observations, lines } = await readObservations(resource, max, '');
          lineCounts.set(resource, lines);
          return observations.slice(-max);
        } catch (error) {
          onProblem?.({ resource, path, message: `cannot read the stored observations: ${messageOf(error)}` });
          return [];
        }
      });
    },

    append(resource, observations, max) {
      return serialized(resource, async () => {
        checkResource(resource);
        checkMax(max);
        const lines: string[] = [];
        for (const [index, observation] of observations.entries()) {
          const parsed = lineSchema.safeParse(encode(observation));
          if (!parsed.success) throw new Error(`observation log: ${resource} observation ${index} cannot be stored: ${issueText(parsed.error)}`);
          lines.push(`${JSON.stringify(parsed.data)}\n`);
        }
        if (lines.length === 0) return;
        const path = pathOf(resource);
        try {
          await mkdir(dir, { recursive: true });
          // Only counting here: the lines' problems are reported by load, or when compaction drops them.
          if (!lineCounts.has(resource)) lineCounts.set(resource, (await readObservations(resource, max, undefined)).lines);
          await checkOwnedDir(dirname(dir), dir);
          // O_NOFOLLOW: a link put in the file's place is refused, never written through.
          const handle = await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
          try {
            const info = await handle.stat();
            if (!info.isFile()) throw new Error(`${path} is not a regular file`);
            const { size } = info;
            let prefix = '';
            if (size > 0) {
              const last = Buffer.alloc(1);
              await handle.read(last, 0, 1, size - 1);
              // A crash cut the last line short: end it, so that it does not swallow the first new line.
              if (last[0] !== 0x0a) prefix = '\n';
            }
            await handle.writeFile(prefix + lines.join(''));
          } finally {
            await handle.close();
          }
          const count = (lineCounts.get(resource) ?? 0) + lines.length;
          lineCounts.set(resource, count);
          if (count > 2 * max) await compact(resource, max);
        } catch (error) {
          // A failed write may have left part of its lines: count the file again next time.
          lineCounts.delete(resource);
          throw error;
        }
      });
    },
  };
}
