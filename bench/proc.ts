/**
 * @module bench/proc
 * Linux /proc readings for a peer's process tree: CPU time (to tell whether a
 * saturation run saturated the server or the load generator) and peak RSS.
 */

import { readdirSync, readFileSync } from 'node:fs';

/**
 * Other processes took more than this share of a core (%) during a run: the
 * run counts as disturbed (retried when the time budget allows, marked † in
 * the report).
 */
export const NOISY_CPU_PCT = 15;

/** Kernel clock ticks per second (USER_HZ); 100 on every Linux ABI Node runs on. */
const CLK_TCK = 100;

function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parens: fields start after the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** pid and all its live descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (!f) continue;
    const ppid = Number(f[1]);
    let l = children.get(ppid);
    if (!l) { l = []; children.set(ppid, l); }
    l.push(Number(entry));
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

/** User+system CPU seconds consumed so far by the tree (all threads). */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (f) ticks += Number(f[11]) + Number(f[12]); // utime, stime
  }
  return ticks / CLK_TCK;
}

/** A `VmXXX:` field of /proc/PID/status in KiB (0 when the process is gone). */
export function statusKiB(pid: number, key: string): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface PeakRss {
  /** VmHWM of the largest process in the tree, KiB. */
  readonly maxKiB: number;
  /** Sum of VmHWM over the tree, KiB (over-counts pages shared after fork). */
  readonly sumKiB: number;
  readonly processes: number;
}

export function peakRss(pid: number): PeakRss {
  const tree = processTree(pid);
  let max = 0;
  let sum = 0;
  for (const p of tree) {
    const v = statusKiB(p, 'VmHWM');
    sum += v;
    if (v > max) max = v;
  }
  return { maxKiB: max, sumKiB: sum, processes: tree.length };
}

/**
 * Seconds of non-idle time (user, nice, system, irq, softirq, steal) summed
 * over all CPUs since boot, from /proc/stat. Compared with the server's and
 * dnsperf's own CPU time over a run, it tells how much other processes on the
 * machine took while we measured.
 */
export function machineBusySeconds(): number {
  return machineSeconds().busy;
}

/**
 * machineBusySeconds and, from the same read of /proc/stat, the seconds the
 * hypervisor gave this machine's CPUs to others (steal), both summed over
 * all CPUs since boot.
 */
export function machineSeconds(): { busy: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
    if (!line) return { busy: NaN, steal: NaN };
    // user nice system idle iowait irq softirq steal
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: (user + nice + system + irq + softirq + steal) / CLK_TCK, steal: steal / CLK_TCK };
  } catch {
    return { busy: NaN, steal: NaN };
  }
}

/** Resident KiB of one kind of mapping, from /proc/PID/smaps. */
export interface SmapsPart {
  readonly what: string;
  readonly rssKiB: number;
  readonly mappings: number;
}

/**
 * Where a process's RSS sits, from /proc/PID/smaps: file-backed mappings by
 * file (the node binary's text and data), [heap] (glibc's main arena),
 * [stack], and anonymous mappings split into 64 MiB-aligned glibc thread
 * arenas (sized 64 MiB, or their reserved tails) and the rest (V8's heap
 * pages, thread stacks, mmapped malloc chunks). Largest first.
 */
export function smapsBreakdown(pid: number): SmapsPart[] {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/smaps`, 'utf8'); } catch { return []; }
  const parts = new Map<string, { rssKiB: number; mappings: number }>();
  let current = '';
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head !== null) {
      const start = BigInt(`0x${head[1]}`);
      const size = BigInt(`0x${head[2]}`) - start;
      const name = head[3]!.trim();
      // glibc reserves each thread arena as a 64 MiB-aligned HEAP_MAX region.
      const arena = start % (64n << 20n) === 0n && size <= 64n << 20n;
      current = name !== '' ? (name.startsWith('/') ? `file ${name.split('/').pop()} ${head[0]!.split(' ')[1]}` : name) : arena ? 'anon: malloc thread arena (64 MiB-aligned)' : 'anon: other (V8 heap, stacks, mmapped chunks)';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null) {
      const p = parts.get(current) ?? { rssKiB: 0, mappings: 0 };
      p.rssKiB += Number(rss[1]);
      p.mappings++;
      parts.set(current, p);
    }
  }
  return [...parts].map(([what, p]) => ({ what, ...p })).filter((p) => p.rssKiB > 0).sort((a, b) => b.rssKiB - a.rssKiB);
}

/**
 * One line: VmRSS and VmHWM (MiB) and the largest parts of /proc/PID/smaps
 * (smapsBreakdown), for BENCH_HEAP_STATS=1 logs that place a peak in a phase.
 */
export function memoryLine(pid: number, parts = 5): string {
  const mib = (kib: number): string => (kib / 1024).toFixed(0);
  const top = smapsBreakdown(pid).slice(0, parts).map((p) => `${p.what} ${mib(p.rssKiB)}`).join(', ');
  return `RSS ${mib(statusKiB(pid, 'VmRSS'))} MiB, peak ${mib(statusKiB(pid, 'VmHWM'))} MiB (${top})`;
}
