/**
 * @module server/heap
 * V8 heap flags the server runs with, and the one re-exec that applies them.
 *
 * Why: a DNS server allocates a little per query and keeps what it caches for
 * the TTL. V8's young generation grows to 64 MiB semi-spaces by default, and
 * a scavenge copies everything in it that is still alive (the cache entries of
 * the last seconds), so at 5,000 q/s one scavenge paused the loop for 50–90 ms
 * every few seconds: the p99.9 of the fixed-rate bench. Small semi-spaces make
 * scavenges frequent and short (each copies only what the last few hundred
 * queries kept). Measured figures: bench/README.md and the s3tail note.
 *
 * How: V8 sizes the heap when the isolate is made; `v8.setFlagsFromString`
 * later does not resize the young generation (checked on Node 24: the new
 * space still grew to 128 MiB). So the command line must carry the flag: the
 * server's entry points call `reexecWithHeapFlags()` first, which, when a flag
 * is missing, replaces the process by itself with the flag added
 * (`process.execve`: same pid, same stdio, so supervisors and pid files see
 * one process). Flags the operator gave (command line or NODE_OPTIONS) win.
 * Workers forked by node:cluster inherit the primary's execArgv.
 *
 * Environment: CLUSTERDNS_SEMI_SPACE_MIB=N picks the size (MiB), 0 leaves
 * V8's default; CLUSTERDNS_HEAP_GROWING_PERCENT=N the old generation's
 * growth between full collections, set once started (tightenHeapGrowth), 0
 * leaves V8's factor. The same re-exec sets MALLOC_ARENA_MAX=2 (MALLOC_ENV) unless
 * the environment has it. Other heap flags (e.g. an old-space limit from the cgroup)
 * belong in heapFlagsToAdd too, so there is one re-exec.
 */

import cluster from 'node:cluster';
import v8 from 'node:v8';
import { errorMessage } from '../errors/to-error.ts';

/** Semi-space size (MiB) when nothing says otherwise. */
export const DEFAULT_SEMI_SPACE_MIB = 2;
export const SEMI_SPACE_ENV = 'CLUSTERDNS_SEMI_SPACE_MIB';
const SEMI_FLAG = '--max-semi-space-size';

/**
 * How far (percent) V8 lets the old generation grow past what survived the
 * last full collection before it collects again, once the server has
 * started. Why: V8 picks a factor of 1.1-4 from its own speed figures; in the
 * soak it let old-generation garbage (relist pages, reload builds) pile up
 * from 52 to 83 MiB for 97 s before one full GC, so RSS rose by a fifth to a
 * third after the first minute while the live heap stayed flat. With 20 %
 * the soak's RSS stayed within 1-4 % after the first minute and its p99 was
 * the same (A/B in src/server/README.md, *Old-generation growth*). Set at run time (`v8.setFlagsFromString`;
 * V8 reads it at every full GC, unlike the semi-space size) after the start,
 * because during the first list of 100,000 services it made ~1 s of extra
 * full collections (first answer 3.8-4.3 s → 5.0-5.4 s).
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 20;
export const HEAP_GROWING_ENV = 'CLUSTERDNS_HEAP_GROWING_PERCENT';
const GROWING_FLAG = '--heap-growing-percent';

/** Whether a flag (`--name` or `--name=value`, `_` spelled as `-` too) is among the given ones. */
function hasFlag(flags: readonly string[], name: string): boolean {
  const alt = name.replaceAll('-', '_').replace(/^__/, '--');
  return flags.some((f) => f === name || f.startsWith(`${name}=`) || f === alt || f.startsWith(`${alt}=`));
}

/** The value of the last `--name=N` among the flags (command line, then NODE_OPTIONS, as V8 reads them), or null. */
function flagValue(flags: readonly string[], name: string): number | null {
  const alt = name.replaceAll('-', '_').replace(/^__/, '--');
  let v: number | null = null;
  for (const f of flags) {
    const m = f.startsWith(`${name}=`) ? f.slice(name.length + 1) : f.startsWith(`${alt}=`) ? f.slice(alt.length + 1) : null;
    if (m !== null && Number.isFinite(Number(m))) v = Number(m);
  }
  return v;
}

function givenFlags(execArgv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  return [...(env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean), ...execArgv];
}

/**
 * The semi-space limit (MiB) this process was started with, from its flags;
 * null when none was given (V8's default, which grows to 64 MiB here).
 * Shown as clusterdns_heap_max_semi_space_bytes.
 */
export function semiSpaceMiB(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): number | null {
  return flagValue(givenFlags(execArgv, env), SEMI_FLAG);
}

/**
 * The heap flags to add to a process started with `execArgv` and
 * `env` (NODE_OPTIONS included): empty when everything is set already.
 * Throws on a CLUSTERDNS_SEMI_SPACE_MIB that is not a whole number.
 */
export function heapFlagsToAdd(execArgv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const given = givenFlags(execArgv, env);
  const out: string[] = [];
  const raw = env[SEMI_SPACE_ENV];
  const mib = raw === undefined || raw === '' ? DEFAULT_SEMI_SPACE_MIB : Number(raw);
  if (!Number.isInteger(mib) || mib < 0) throw new Error(`${SEMI_SPACE_ENV}=${raw}: want a whole number of MiB (0: V8's default)`);
  if (mib > 0 && !hasFlag(given, SEMI_FLAG)) out.push(`${SEMI_FLAG}=${mib}`);
  return out;
}

let grownTo: number | null = null;

/**
 * The old-generation growth (percent) to set once the server has started,
 * or null: when the operator gave --heap-growing-percent (command line or
 * NODE_OPTIONS) or CLUSTERDNS_HEAP_GROWING_PERCENT=0. Throws on a value that
 * is not a whole number.
 */
export function heapGrowingPercentToSet(execArgv: readonly string[], env: NodeJS.ProcessEnv): number | null {
  const raw = env[HEAP_GROWING_ENV];
  const percent = raw === undefined || raw === '' ? DEFAULT_HEAP_GROWING_PERCENT : Number(raw);
  if (!Number.isInteger(percent) || percent < 0) throw new Error(`${HEAP_GROWING_ENV}=${raw}: want a whole percentage (0: V8's own factor)`);
  return percent === 0 || hasFlag(givenFlags(execArgv, env), GROWING_FLAG) ? null : percent;
}

/** Sets the old generation's growth for the rest of the run (see DEFAULT_HEAP_GROWING_PERCENT); returns what was set. */
export function tightenHeapGrowth(proc: NodeJS.Process = process): number | null {
  const percent = heapGrowingPercentToSet(proc.execArgv, proc.env);
  if (percent !== null) {
    v8.setFlagsFromString(`${GROWING_FLAG}=${percent}`);
    grownTo = percent;
  }
  return percent;
}

/** The old-generation growth percent in force (V8's flag as this process set or was given it), or null for V8's own factor. */
export function heapGrowingPercent(): number | null {
  return grownTo ?? flagValue(givenFlags(process.execArgv, process.env), GROWING_FLAG);
}

/**
 * glibc malloc settings the server runs with. Why: glibc gives each thread
 * that mallocs its own arena (up to 8 per core), and Node's threads (4 V8
 * workers compiling and marking, 4 libuv workers, TLS) each keep one with
 * freed chunks in it: 7 arenas, ~5 MiB of the 1,000-service RSS (bench
 * start-memory, BENCH_HEAP_STATS=1). Two arenas keep the main thread's own
 * and one shared by the helpers.
 *
 * MALLOC_MMAP_THRESHOLD_=131072 (128 KiB, glibc's starting value) stops glibc
 * from raising the threshold each time a large block is freed: without it,
 * after the first relist the 0.5 MB list pages and their buffers are carved
 * from the brk heap, which keeps its peak for good, so RSS climbed at every
 * relist, watch drop and reconnect while the V8 heap stayed flat (soak, s4rss
 * note). With it, blocks of 128 KiB and more are mapped and unmapped, and
 * the brk heap is trimmed at 128 KiB. glibc reads these once, at process
 * start, hence the re-exec. Ignored by other C libraries.
 */
export const MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };

/**
 * The malloc settings to add to an environment: none that the operator set
 * (the variable itself, or a glibc.malloc.* tunable in GLIBC_TUNABLES).
 */
export function mallocEnvToAdd(env: NodeJS.ProcessEnv): Record<string, string> {
  const tunables = env.GLIBC_TUNABLES ?? '';
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(MALLOC_ENV)) {
    // MALLOC_MMAP_THRESHOLD_ is glibc.malloc.mmap_threshold (no trailing underscore).
    const tunable = `glibc.malloc.${name.slice('MALLOC_'.length).replace(/_$/, '').toLowerCase()}`;
    if (env[name] === undefined && !tunables.includes(tunable)) out[name] = value;
  }
  return out;
}

/**
 * Re-executes this process with the missing heap flags and malloc settings
 * (MALLOC_ENV), or returns when none is missing (or this is a node:cluster worker, or the platform has no
 * execve: then the server runs with V8's defaults). Only for a process whose
 * entry point is the clusterdns command: the process is replaced.
 */
export function reexecWithHeapFlags(proc: NodeJS.Process = process): void {
  if (cluster.isWorker || typeof proc.execve !== 'function') return;
  const add = heapFlagsToAdd(proc.execArgv, proc.env);
  const env = mallocEnvToAdd(proc.env);
  if (add.length === 0 && Object.keys(env).length === 0) return;
  try {
    proc.execve(proc.execPath, [proc.execPath, ...proc.execArgv, ...add, ...proc.argv.slice(1)], { ...proc.env, ...env });
  } catch (e) {
    // Keep serving with the defaults: a slower tail is better than no start.
    const what = [...add, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ');
    proc.stderr.write(`[WARNING] server: could not restart with ${what}: ${errorMessage(e)}\n`);
  }
}
