/**
 * @module bench/peers/process
 * Shared plumbing for peers: free ports, finding binaries, launching a server
 * pinned to CPU 0 (`taskset -c 0`) in its own process group, waiting until it
 * answers `dns-version.cluster.local TXT`, and stopping it. Every launched
 * server is tracked so the harness can stop them all if it is interrupted.
 */

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, existsSync, readFileSync, mkdirSync, readdirSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import { cpus } from 'node:os';
import path from 'node:path';
import { DnsClient } from '../dns-wire.ts';
import type { RunningPeer } from './types.ts';

/** CPU the servers are pinned to; the load generator gets the other one. */
export const SERVER_CPU = '0';
export const LOADGEN_CPU = '1';

const live = new Set<ChildProcess>();

/**
 * `nice -n N` prefix for the servers and dnsperf when BENCH_NICE is set (run.ts
 * sets it from --nice): a negative N keeps other jobs on a shared machine from
 * disturbing the measurement, at their expense. Empty by default. It did not
 * hold the latency runs against a load average of 4 on 2 cores; the real-time
 * class below did (bench/README.md "Latency method").
 */
export function niceArgs(): string[] {
  const n = process.env.BENCH_NICE;
  return n && n !== '0' ? ['nice', '-n', n] : [];
}

/**
 * The `chrt` prefix for dnsperf when the server runs at real-time priority P
 * (setRealtime); empty for 0. SCHED_RR at P + 1: above the server's helper
 * threads, which may run on dnsperf's core (realtimePlan), and round-robin
 * because dnsperf's two threads share one core: under SCHED_FIFO one of them
 * was seen spinning at 100 % for 15 s, past `-l`, while the other, at the same
 * priority, never ran (until `timeout` killed it); SCHED_RR lets the other
 * run after at most one time slice (sched_rr_timeslice_ms, 100 ms here).
 */
export function realtimeArgs(priority: number): string[] {
  return priority > 0 ? ['chrt', '-r', String(priority + 1)] : [];
}

/** SCHED_FIFO needs root (CAP_SYS_NICE) and chrt: the priority the latency runs can use, 0 when they cannot. */
export function realtimeAvailable(priority: number): number {
  return priority > 0 && priority < 99 && process.getuid?.() === 0 && findBinary('chrt') !== null ? priority : 0;
}

/**
 * Threads of Node's runtime that do not answer queries: V8's GC and compiler
 * workers, its delayed-task scheduler, libuv's thread pool, the inspector's
 * signal thread (names as /proc/TID/comm gives them).
 */
const RUNTIME_HELPER_THREAD = /^(V8Worker|DelayedTaskSche|libuv-worker|SignalInspector)$/;

/**
 * Where a Node runtime's helper threads go under --rt: 'pinned', SCHED_FIFO
 * on the server's core (the method before 2026-12-02); 'other',
 * SCHED_OTHER on every CPU; 'float', SCHED_FIFO on every CPU (the default).
 */
export type HelperMode = 'pinned' | 'other' | 'float';

/** One thread's scheduling during the fixed-rate runs: `chrt` and, for runtime helpers, `taskset -p` arguments. */
export interface ThreadSchedule {
  readonly tid: number;
  readonly chrt: readonly string[];
  /** CPU list for `taskset -p -c`; null: leave the affinity alone. */
  readonly cpus: string | null;
}

/**
 * What setRealtime does to each thread (pure, so a test can check it).
 * priority > 0: the main thread (tid === pid) at SCHED_FIFO priority + 1,
 * the other threads at priority; a Node runtime's helper threads, in the
 * default 'float' mode, at priority but free to run on every CPU
 * (`allCpus`). Why: pinned below a busy main thread on the server's core,
 * the helpers could not run at all (FIFO never lets a lower priority run);
 * the GC then took 2x the pauses, the main thread used ~100 % of the core,
 * the kernel's RT budget (sched_rt_runtime_us, 950 ms of each second) ran
 * out and every real-time task there stopped for ~50 ms: p99 10-42 ms
 * (bench/README.md "Latency method"). priority 0: every thread back to
 * SCHED_OTHER, helpers back on the main thread's CPUs (`mainCpus`).
 */
export function realtimePlan(threads: readonly { pid: number; tid: number; comm: string }[], priority: number, allCpus: string, mainCpus: ReadonlyMap<number, string>, helpers: HelperMode = 'float'): ThreadSchedule[] {
  return threads.map(({ pid, tid, comm }) => {
    const helper = helpers !== 'pinned' && tid !== pid && RUNTIME_HELPER_THREAD.test(comm);
    if (priority <= 0) return { tid, chrt: ['-o', '-p', '0', String(tid)], cpus: helper ? mainCpus.get(pid) ?? null : null };
    if (helper) return { tid, chrt: helpers === 'other' ? ['-o', '-p', '0', String(tid)] : ['-f', '-p', String(priority), String(tid)], cpus: allCpus };
    return { tid, chrt: ['-f', '-p', String(tid === pid ? priority + 1 : priority), String(tid)], cpus: null };
  });
}

function readProc(file: string): string | null {
  try { return readFileSync(file, 'utf8'); } catch { return null; }
}

/**
 * Moves the given processes' threads to SCHED_FIFO for the fixed-rate runs,
 * or back to SCHED_OTHER for priority 0, as realtimePlan says. For the
 * fixed-rate runs only: at 5,000 q/s a server uses a small share of its
 * core, so a real-time class takes little from other jobs, while at
 * saturation it would take the core.
 */
export async function setRealtime(pids: readonly number[], priority: number, helpers: HelperMode = 'float'): Promise<void> {
  const chrt = requireBinary('chrt');
  const taskset = requireBinary('taskset');
  const threads: { pid: number; tid: number; comm: string }[] = [];
  const mainCpus = new Map<number, string>();
  for (const pid of pids) {
    let tids: number[];
    try { tids = readdirSync(`/proc/${pid}/task`).map(Number); } catch { continue; } // exited: the run reports it
    const allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(readProc(`/proc/${pid}/task/${pid}/status`) ?? '')?.[1];
    if (allowed !== undefined) mainCpus.set(pid, allowed);
    for (const tid of tids) threads.push({ pid, tid, comm: (readProc(`/proc/${pid}/task/${tid}/comm`) ?? '').trim() });
  }
  const run = (bin: string, args: readonly string[]): Promise<void> => new Promise<void>((resolve) => { execFile(bin, args, { timeout: 5000 }, () => resolve()); });
  await Promise.all(realtimePlan(threads, priority, `0-${Math.max(0, cpus().length - 1)}`, mainCpus, helpers).map(async (t) => {
    await run(chrt, t.chrt);
    if (t.cpus !== null) await run(taskset, ['-p', '-c', t.cpus, String(t.tid)]);
  }));
}

/** Kills (process group, SIGKILL) every server still running. Synchronous: safe in 'exit'. */
export function killAllLaunched(): void {
  for (const child of live) {
    if (child.pid !== undefined) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  live.clear();
}

/** Absolute path of an executable on PATH or in the sbin dirs, or null. */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export function requireBinary(name: string): string {
  const p = findBinary(name);
  if (!p) throw new Error(`${name} not installed (run bench/install.sh)`);
  return p;
}

/** First line of a command's output (stdout or stderr), or null. */
export function versionOf(bin: string | null, args: string[], pattern?: RegExp): Promise<string | null> {
  if (!bin) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 5000 }, (_err, stdout, stderr) => {
      const text = `${stdout}\n${stderr}`;
      if (pattern) {
        const m = pattern.exec(text);
        resolve(m ? (m[1] ?? m[0]) : null);
        return;
      }
      const line = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0);
      resolve(line ?? null);
    });
  });
}

function portFreeOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port free for both UDP and TCP on 127.0.0.1 (as far as can be told before the server binds it). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = dgram.createSocket('udp4');
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    if (port >= 1024 && (await portFreeOn(port))) return port;
  }
  throw new Error('no free port found');
}

/** Last lines of the server's log, on one line, for an error message. */
function tail(file: string, lines = 4): string {
  try {
    const text = readFileSync(file, 'utf8').trim().split('\n').slice(-lines).map((l) => l.trim()).filter(Boolean).join(' / ');
    return text.length > 0 ? `log: ${text}` : 'log empty';
  } catch {
    return 'no log';
  }
}

/** The server ran but never answered the readiness probe in time. */
export class StartTimeoutError extends Error {
  override readonly name = 'StartTimeoutError';
}

export interface LaunchOptions {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly port: number;
  readonly workDir: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Bound on the time from spawn to first answer. */
  readonly readyTimeoutMs?: number;
  /** Signal that asks the server to exit cleanly. */
  readonly stopSignal?: NodeJS.Signals;
  /** CPUs to pin the server to (taskset -c); default SERVER_CPU; null: not pinned (bench/scaling.ts). */
  readonly cpus?: string | null;
}

/**
 * Answered `dns-version.cluster.local TXT` and the A of `kubernetes.default.svc.cluster.local`
 * (always generated)? The second depends on cluster data, so a server that answers the schema
 * record before its data is loaded (clusterdns serves it while unsynced, C23) is not ready yet.
 */
async function probe(client: DnsClient): Promise<boolean> {
  const a = await client.query('dns-version.cluster.local', 'TXT', 250);
  if (a === null || a.rcode !== 'NOERROR' || a.matching === 0) return false;
  const b = await client.query('kubernetes.default.svc.cluster.local', 'A', 250);
  return b !== null && b.rcode === 'NOERROR' && b.matching > 0;
}

/**
 * Spawns `[nice -n N] taskset -c 0 cmd args` (both exec, so the pid is the server's),
 * and resolves once the server answers the readiness probe.
 */
export async function launch(opts: LaunchOptions): Promise<RunningPeer> {
  mkdirSync(opts.workDir, { recursive: true });
  const logFile = path.join(opts.workDir, `${opts.name}.log`);
  const fd = openSync(logFile, 'w');
  const taskset = requireBinary('taskset');
  const t0 = performance.now();
  const cpus = opts.cpus === undefined ? SERVER_CPU : opts.cpus;
  const [cmd0 = opts.cmd, ...argv] = [...niceArgs(), ...(cpus === null ? [] : [taskset, '-c', cpus]), opts.cmd, ...opts.args];
  const child = spawn(cmd0, argv, {
    cwd: opts.cwd ?? opts.workDir,
    env: opts.env ?? process.env,
    stdio: ['ignore', fd, fd],
    detached: true, // own process group: stop() takes forked helpers along
  });
  closeSync(fd);
  live.add(child);
  let exited: string | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      exited = `failed to spawn: ${err.message}`;
      live.delete(child);
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (exited !== null || child.pid === undefined) return;
    try { process.kill(-child.pid, opts.stopSignal ?? 'SIGTERM'); } catch { /* gone */ }
    const timer = setTimeout(() => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    }, 5000);
    await exitPromise;
    clearTimeout(timer);
    // Helpers of a forking server may outlive the leader briefly.
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* group empty */ }
  };

  // Probes go out every 10 ms without waiting for earlier ones to time out
  // (a UDP probe to a port nobody listens on yet is silently lost), so the
  // startup time is exact to ~10 ms.
  const client = new DnsClient(opts.port);
  const limitMs = opts.readyTimeoutMs ?? 60_000;
  let readyAt: number | null = null;
  try {
    while (readyAt === null) {
      if (exited !== null) {
        throw new Error(`${opts.name} ${exited} before answering (${tail(logFile)})`);
      }
      if (performance.now() - t0 > limitMs) {
        throw new StartTimeoutError(`${opts.name} gave no answer to dns-version.cluster.local TXT within ${Math.round(limitMs / 1000)} s (${tail(logFile)})`);
      }
      void probe(client).then((ok) => { if (ok && readyAt === null) readyAt = performance.now(); });
      await new Promise((r) => setTimeout(r, 10));
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.close();
  }
  const startupMs = (readyAt as number) - t0;
  return { port: opts.port, pid: child.pid!, startupMs, logFile, stop };
}
