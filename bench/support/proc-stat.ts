/**
 * Linux /proc readers for benchmarks: the CPU time, niceness and memory of one process, the
 * children of a process, and the machine's busy CPU time. A benchmark uses them to prove what it
 * claims about its processes (the training process exists, runs at nice 19 and uses CPU during a
 * round) and to tell whether other work on a shared machine disturbed a run.
 *
 * Everything returns undefined (or an empty list) where /proc is missing, so a benchmark still runs
 * elsewhere, just without the evidence.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Clock ticks per second of /proc CPU times (USER_HZ). 100 on every mainstream Linux architecture;
 * Node has no sysconf(_SC_CLK_TCK), and `getconf CLK_TCK` printed 100 on the bench machine.
 */
const ticksPerSecond = 100;

/** One process as /proc/<pid>/stat and /proc/<pid>/status describe it now. */
export interface ProcessSample {
  readonly pid: number;
  readonly parentPid: number;
  /** The scheduler state letter (R running, S sleeping, Z zombie: exited, not yet reaped, ...). */
  readonly state: string;
  /** The scheduling niceness (-20..19; 19 is the lowest priority). */
  readonly nice: number;
  /** User + system CPU time of the process (all its threads) so far, in seconds. */
  readonly cpuSeconds: number;
  /** User + system CPU time of its children that exited and were waited for, in seconds. */
  readonly reapedChildrenCpuSeconds: number;
  /** Resident memory now, in bytes. */
  readonly rssBytes: number;
  /** The command line, arguments joined by spaces. */
  readonly commandLine: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Splits /proc/<pid>/stat into fields; `fields[n - 3]` is field n of proc(5) (field 3 is the state). */
function statFields(pid: number): string[] | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses:
  // the fields after the last ")" start at field 3.
  return stat
    ?.slice(stat.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
}

/** Reads one process; undefined when it does not exist (any more) or /proc is unavailable. */
export function readProcess(pid: number): ProcessSample | undefined {
  const fields = statFields(pid);
  const status = readText(`/proc/${pid}/status`);
  const cmdline = readText(`/proc/${pid}/cmdline`);
  if (fields === undefined || status === undefined || cmdline === undefined) return undefined;
  const field = (n: number) => Number(fields[n - 3]);
  const rssKb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return {
    pid,
    parentPid: field(4),
    state: fields[0] ?? '?',
    nice: field(19),
    cpuSeconds: (field(14) + field(15)) / ticksPerSecond,
    reapedChildrenCpuSeconds: (field(16) + field(17)) / ticksPerSecond,
    rssBytes: rssKb === undefined ? 0 : Number(rssKb) * 1024,
    commandLine: cmdline
      .split('\0')
      .filter((s) => s.length > 0)
      .join(' '),
  };
}

/** The live direct children of a process (a scan of /proc: per-task `children` files are not always compiled in). */
export function childProcesses(parentPid: number): ProcessSample[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children: ProcessSample[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    // Only the parent pid first: one small read per process keeps a frequent scan cheap.
    if (Number(statFields(pid)?.[1]) !== parentPid) continue;
    const sample = readProcess(pid);
    if (sample !== undefined) children.push(sample);
  }
  return children;
}

/**
 * CPU time so far of a process and all its descendants, live or exited (exited ones once reaped), in
 * seconds; undefined when the process is gone. The difference between two readings is the CPU the
 * tree used in between, also when a child started or ended in between. Scans /proc (milliseconds).
 */
export function processTreeCpuSeconds(pid: number): number | undefined {
  const self = readProcess(pid);
  if (self === undefined) return undefined;
  let seconds = self.cpuSeconds + self.reapedChildrenCpuSeconds;
  for (const child of childProcesses(pid)) seconds += processTreeCpuSeconds(child.pid) ?? 0;
  return seconds;
}

/** CPU time of the whole machine so far (all cores, from /proc/stat), in seconds. */
export interface MachineCpu {
  /** Time spent running anything in this machine (user, nice, system, interrupts), summed over cores. */
  readonly busySeconds: number;
  /** Time the hypervisor ran something else while this machine wanted a core (virtual machines only). */
  readonly stealSeconds: number;
  readonly totalSeconds: number;
}

/** Reads the machine's CPU counters; undefined without /proc. */
export function readMachineCpu(): MachineCpu | undefined {
  const text = readText('/proc/stat');
  const line = text?.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busySeconds: busy / ticksPerSecond, stealSeconds: steal / ticksPerSecond, totalSeconds: (busy + idle + iowait + steal) / ticksPerSecond };
}
