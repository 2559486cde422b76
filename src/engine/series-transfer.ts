import { type RegularSeries, type SeriesValues, slidCopy, slideInPlace } from '../core/index.js';

/**
 * Sending a cycle's history buffers to a model process as what changed since the last cycle.
 *
 * Every cycle the engine forecasts every series from its whole buffer, a window that slid by a step
 * since the cycle before. At 1,000 queues that is 2,200 series of 10,000 points: 177 MB to
 * serialize, pipe and deserialize per cycle (about 0.5 s of CPU), for a few new points per series.
 * So the sender sends only the blocks of 64 points (aligned on the clock, so a sliding window keeps
 * its blocks) that changed or are new; the receiver keeps the buffers and rebuilds each series from
 * what it holds and the blocks. The engine's history window says what its merges wrote
 * ({@link SeriesChanges}); for a series without that, the sender keeps a checksum per block. Each
 * series carries a version: a receiver that does not hold the version a delta builds on refuses it,
 * and the sender then sends everything again (after a restart of the process, or a failed call).
 *
 * Values travel and are held as 32-bit floats, as the history window holds them (core's
 * `SeriesValues`): at 1,000 queues the buffers a model process holds are 89 MB, not 177 MB.
 */

/** A series whose values are 32-bit floats: what the history window keeps and a model process holds. */
export interface Float32Series extends RegularSeries {
  readonly values: Float32Array;
}

/** Points per block: the unit of what is sent again when part of a series changed. */
const blockPoints = 64;

/** A series as it travels: whole, or as the blocks that changed since `baseVersion`. */
export type TransferredSeries =
  | { readonly key: string; readonly version: number; readonly series: Float32Series }
  | {
      readonly key: string;
      readonly version: number;
      readonly baseVersion: number;
      readonly startMs: number;
      readonly stepSeconds: number;
      readonly length: number;
      /** Changed or new blocks: the index in the new series of their first point, and their values. */
      readonly blocks: readonly { readonly from: number; readonly values: Float32Array }[];
    };

/**
 * What the last merges into a series buffer wrote (kept by the engine's history window): enough to
 * tell which blocks changed since a revision the receiver holds. Everything outside `written` only
 * moved with the window (or fell out of it, or came in as a gap).
 */
export interface SeriesChanges {
  /** Which buffer: a buffer made again has a new number, and no revision of the old one applies. */
  readonly buffer: number;
  /** The newest merge. */
  readonly revision: number;
  /** `written` lists every write of the revisions after this one (older ones are forgotten). */
  readonly loggedSince: number;
  readonly written: readonly { readonly revision: number; readonly fromMs: number; readonly toMs: number }[];
}

/** A series to send, with what changed in it when its owner knows. */
export interface SeriesToSend {
  readonly key: string;
  readonly series: RegularSeries;
  readonly changes?: SeriesChanges;
}

/** What the sender knows the receiver holds of one series. */
interface Sent {
  readonly version: number;
  readonly stepSeconds: number;
  /** The clock-aligned block number of `sums[0]`. */
  readonly firstBlock: number;
  /** Block checksums, for a series sent without its changes. */
  readonly sums?: Float64Array;
  /** The buffer and revision sent, for a series sent with its changes. */
  readonly changes?: { readonly buffer: number; readonly revision: number };
}

const bits = new Float32Array(1);
const words = new Uint32Array(bits.buffer);

/**
 * A 53-bit checksum of `values[from..to)` as the receiver holds them (rounded to 32 bits, as they
 * travel): two FNV-1a hashes of the values' bits (so NaN, -0 and every other value are told apart),
 * the second of the bits with their halves swapped, combined into one exact double.
 */
function checksum(values: SeriesValues, from: number, to: number): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = from; i < to; i++) {
    bits[0] = values[i]!;
    const word = words[0]!;
    a = Math.imul(a ^ word, 0x01000193);
    b = Math.imul(b ^ ((word << 16) | (word >>> 16)), 0x811c9dc5);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

/** The clock-aligned blocks of a series: [block number, first index, end index) of each. */
function blocksOf(series: RegularSeries): { readonly firstBlock: number; readonly ranges: [number, number][] } {
  const stepMs = series.stepSeconds * 1000;
  const firstIndex = Math.round(series.startMs / stepMs);
  const firstBlock = Math.floor(firstIndex / blockPoints);
  const ranges: [number, number][] = [];
  for (let block = firstBlock; ; block++) {
    const from = Math.max(0, block * blockPoints - firstIndex);
    const to = Math.min(series.values.length, (block + 1) * blockPoints - firstIndex);
    if (from >= series.values.length) break;
    ranges.push([from, to]);
  }
  return { firstBlock, ranges };
}

/**
 * The clock-aligned blocks written since the revision the receiver holds; undefined when the changes
 * cannot tell (another buffer, a revision older than the log, or the series was sent without them).
 */
function changedBlocks(before: Sent, changes: SeriesChanges, stepSeconds: number): Set<number> | undefined {
  const sent = before.changes;
  if (sent === undefined || sent.buffer !== changes.buffer || sent.revision < changes.loggedSince || sent.revision > changes.revision) return undefined;
  const stepMs = stepSeconds * 1000;
  const blocks = new Set<number>();
  for (const w of changes.written) {
    if (w.revision <= sent.revision) continue;
    const last = Math.floor(Math.round(w.toMs / stepMs) / blockPoints);
    for (let block = Math.floor(Math.round(w.fromMs / stepMs) / blockPoints); block <= last; block++) blocks.add(block);
  }
  return blocks;
}

/** A series as the blocks that changed since `baseVersion`. */
function delta(key: string, version: number, baseVersion: number, series: RegularSeries, blocks: { from: number; values: Float32Array }[]): TransferredSeries {
  return { key, version, baseVersion, startMs: series.startMs, stepSeconds: series.stepSeconds, length: series.values.length, blocks };
}

/** A series sent whole, as 32-bit floats: its own buffer when it is one already (the history window's: no copy). */
function whole(key: string, version: number, series: RegularSeries): TransferredSeries {
  return { key, version, series: { ...series, values: series.values instanceof Float32Array ? series.values : Float32Array.from(series.values) } };
}

/** A copy of `values[from..to)` as 32-bit floats. */
function blockOf(values: SeriesValues, from: number, to: number): Float32Array {
  return values instanceof Float32Array ? values.slice(from, to) : Float32Array.from(values.subarray(from, to));
}

/** The sending side: one per model process, forgotten (`clear`) whenever that process may not hold what was sent. */
export class SeriesSender {
  readonly #sent = new Map<string, Sent>();
  #nextVersion = 1;

  /** The series as they should travel, and what the receiver holds once it took them. */
  encode(items: readonly SeriesToSend[]): TransferredSeries[] {
    const keys = new Set(items.map((i) => i.key));
    for (const key of this.#sent.keys()) if (!keys.has(key)) this.#sent.delete(key);
    return items.map(({ key, series, changes }) => {
      const version = this.#nextVersion++;
      const firstIndex = Math.round(series.startMs / (series.stepSeconds * 1000));
      const firstBlock = Math.floor(firstIndex / blockPoints);
      const before = this.#sent.get(key);
      const common = { version, stepSeconds: series.stepSeconds, firstBlock };
      if (changes !== undefined) {
        this.#sent.set(key, { ...common, changes: { buffer: changes.buffer, revision: changes.revision } });
        const changed = before === undefined || before.stepSeconds !== series.stepSeconds ? undefined : changedBlocks(before, changes, series.stepSeconds);
        if (before === undefined || changed === undefined) return whole(key, version, series);
        // A block not written since the receiver's revision is what it holds (moved with the window;
        // cells new to the window and never written are gaps on both sides).
        const blocks: { from: number; values: Float32Array }[] = [];
        for (const block of [...changed].sort((a, b) => a - b)) {
          const from = Math.max(0, block * blockPoints - firstIndex);
          const to = Math.min(series.values.length, (block + 1) * blockPoints - firstIndex);
          if (to > from) blocks.push({ from, values: blockOf(series.values, from, to) });
        }
        return delta(key, version, before.version, series, blocks);
      }
      const { ranges } = blocksOf(series);
      const sums = Float64Array.from(ranges, ([from, to]) => checksum(series.values, from, to));
      this.#sent.set(key, { ...common, sums });
      if (before === undefined || before.stepSeconds !== series.stepSeconds) return whole(key, version, series);
      const blocks = ranges.flatMap(([from, to], i) => {
        const old = firstBlock + i - before.firstBlock;
        const same = before.sums !== undefined && old >= 0 && old < before.sums.length && before.sums[old] === sums[i];
        return same ? [] : [{ from, values: blockOf(series.values, from, to) }];
      });
      return delta(key, version, before.version, series, blocks);
    });
  }

  /** Forgets everything: the next `encode` sends every series whole. */
  clear(): void {
    this.#sent.clear();
  }
}

/** The receiving side: the buffers as last received (32-bit floats), rebuilt from deltas. */
export class SeriesReceiver {
  readonly #held = new Map<string, { readonly version: number; readonly series: Float32Series }>();

  /**
   * The whole series of every item. Throws, changing nothing, when a delta builds on a version it
   * does not hold: the sender must then send everything again. A buffer held is moved and written in
   * place (what the models keep of a series is copied or computed from it, never the buffer itself).
   */
  decode(items: readonly TransferredSeries[]): { readonly key: string; readonly series: RegularSeries }[] {
    for (const item of items) {
      if ('series' in item) continue;
      const held = this.#held.get(item.key);
      if (held === undefined || held.version !== item.baseVersion || held.series.stepSeconds !== item.stepSeconds) {
        throw new Error(`series ${item.key}: a delta on version ${item.baseVersion}, which this process does not hold; send it whole`);
      }
    }
    const out = items.map((item) => {
      if ('series' in item) return { key: item.key, version: item.version, series: item.series };
      const old = this.#held.get(item.key)?.series ?? { startMs: item.startMs, stepSeconds: item.stepSeconds, values: new Float32Array(0) };
      const shift = Math.round((item.startMs - old.startMs) / (item.stepSeconds * 1000));
      let values: Float32Array;
      if (old.values.length === item.length) {
        values = old.values;
        slideInPlace(values, shift);
      } else {
        // The part both windows cover, where no block changed, is what this process holds.
        values = slidCopy(old.values, shift, item.length);
      }
      for (const block of item.blocks) values.set(block.values, block.from);
      return { key: item.key, version: item.version, series: { startMs: item.startMs, stepSeconds: item.stepSeconds, values } };
    });
    this.#held.clear();
    for (const { key, version, series } of out) this.#held.set(key, { version, series });
    return out.map(({ key, series }) => ({ key, series }));
  }
}
