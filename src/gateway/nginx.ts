/**
 * @module gateway/nginx
 * Driving a real nginx binary: validating a candidate configuration with
 * `nginx -t` (in a scratch prefix, before it replaces anything), reloading
 * with `nginx -s reload` (which signals the master named by the pid file of
 * the main configuration), the main configuration of a private prefix
 * directory for `--run-nginx`, and a supervisor that runs that nginx as a
 * foreground master, starts it again when it dies, and tells when a reload
 * has taken effect (read from the master's worker processes in /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../errors/to-error.ts';

export const DEFAULT_NGINX_BIN = '/usr/sbin/nginx';

export type CheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly message: string; readonly file: string | null; readonly line: number | null };

/** Runs a command to its end; resolves with the exit code (or -1 when it could not start) and its output. */
function run(bin: string, args: readonly string[], timeoutMs = 10_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    let child: ChildProcess;
    try {
      child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ code: -1, output: errorMessage(e) });
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout?.on('data', (b: Buffer) => { output += b.toString(); });
    child.stderr?.on('data', (b: Buffer) => { output += b.toString(); });
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: -1, output: `${bin}: ${e.message}` }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, output }); });
  });
}

/** The http-level temp paths, inside `dir` (nginx's compiled-in ones need root and a Debian layout). */
function tempPaths(dir: string): string[] {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${join(dir, 'tmp', t)};`);
}

/** A whole nginx.conf for a prefix directory: pid, error log to stderr, temp paths, and the servers file included. */
export function mainConfig(prefix: string, serversFile: string): string {
  return [
    '# Written by clusterdns gateway --run-nginx.',
    `pid ${join(prefix, 'nginx.pid')};`,
    'error_log stderr notice;',
    'worker_processes 1;',
    'events {',
    '    worker_connections 1024;',
    '}',
    'http {',
    ...tempPaths(prefix),
    `    include ${serversFile};`,
    '}',
    '',
  ].join('\n');
}

/** The `[emerg] ... in FILE:LINE` part of nginx's complaint. */
export function parseNginxError(output: string): { message: string; file: string | null; line: number | null } {
  const emerg = output.split('\n').find((l) => /\[(emerg|alert|crit)\]/.test(l)) ?? output.trim().split('\n')[0] ?? 'nginx -t failed';
  const message = emerg.replace(/^.*?\[(emerg|alert|crit)\] \d+#\d+: /, '').trim();
  const at = / in (\S+):(\d+)$/.exec(message);
  return { message, file: at?.[1] ?? null, line: at?.[2] !== undefined ? Number(at[2]) : null };
}

export class NginxBinary {
  readonly bin: string;
  readonly #scratch: string;

  /** `scratch`: a folder of our own for validation runs. */
  constructor(bin: string, scratch: string) {
    this.bin = bin;
    this.#scratch = scratch;
  }

  /** Path of the candidate file a failed check names. */
  get candidatePath(): string {
    return join(this.#scratch, 'candidate.conf');
  }

  /** `nginx -t` on a candidate servers text, inside a throw-away main configuration. */
  async check(serversText: string): Promise<CheckResult> {
    mkdirSync(join(this.#scratch, 'tmp'), { recursive: true });
    writeFileSync(this.candidatePath, serversText);
    const main = join(this.#scratch, 'check.conf');
    writeFileSync(main, mainConfig(this.#scratch, this.candidatePath));
    const { code, output } = await run(this.bin, ['-t', '-q', '-p', this.#scratch, '-c', main]);
    if (code === 0) return { ok: true };
    return { ok: false, ...parseNginxError(output) };
  }

  /** `nginx -s reload` for the nginx whose main configuration is `conf` (its pid file names the master). */
  async reload(conf: string, prefix: string | null): Promise<void> {
    const args = [...(prefix !== null ? ['-p', prefix] : []), '-c', conf, '-s', 'reload'];
    const { code, output } = await run(this.bin, args);
    if (code !== 0) throw new Error(`nginx -s reload failed: ${parseNginxError(output).message}`);
  }
}

/** The text of a process, or null when it is gone. */
function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

/** Child pids of `pid`: the kernel's children list, else a scan of /proc for that parent. */
function childPids(pid: number): number[] {
  const listed = readProc(pid, `task/${pid}/children`);
  if (listed !== null) return listed.split(' ').filter((t) => t.trim() !== '').map(Number);
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const e of entries) {
    // stat: "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so read after the last ')'.
    const stat = readProc(Number(e), 'stat');
    const ppid = stat !== null ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : NaN;
    if (ppid === pid) out.push(Number(e));
  }
  return out;
}

/**
 * Workers of nginx master `masterPid` that take new connections: its
 * children titled `nginx: worker process`. A worker told to stop after a
 * reload retitles itself `... is shutting down` as it closes its listening
 * sockets, so it is left out; so are cache processes. Empty when /proc
 * cannot tell (not Linux) or the master is gone.
 */
export function acceptingWorkers(masterPid: number): number[] {
  return childPids(masterPid).filter((pid) => readProc(pid, 'cmdline')?.replace(/\0/g, ' ').trim() === 'nginx: worker process');
}

export interface SupervisorEvents {
  /** nginx exited without being asked to; it is started again after `delayMs`. */
  died(code: number | null, signal: string | null, delayMs: number): void;
  started(pid: number): void;
}

/**
 * Runs `nginx -g 'daemon off;'` on a prefix directory as a child and keeps it
 * running: when it dies it is started again, after a delay that doubles with
 * each quick death (250 ms to 5 s) so a broken setup does not spin. nginx
 * runs in a process group of its own: workers outlive a killed master and
 * would keep the listening socket, so the whole group is killed before the
 * next start (and when this process exits).
 */
export class NginxSupervisor {
  readonly #bin: string;
  readonly #prefix: string;
  readonly #conf: string;
  readonly #events: SupervisorEvents;
  #child: ChildProcess | null = null;
  #stopping = false;
  #delayMs = 250;
  #timer: NodeJS.Timeout | null = null;
  /** Output of nginx itself (its error log goes to stderr). */
  readonly output: string[] = [];
  /** Times nginx was started (first start included). */
  starts = 0;

  constructor(bin: string, prefix: string, conf: string, events: SupervisorEvents) {
    this.#bin = bin;
    this.#prefix = prefix;
    this.#conf = conf;
    this.#events = events;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Pids of the workers taking new connections now (see `acceptingWorkers`). */
  workers(): number[] {
    const pid = this.pid;
    return pid !== null ? acceptingWorkers(pid) : [];
  }

  /**
   * After a reload signal: resolves true once none of `before` (the workers
   * taken just before it) takes connections any more and a new worker does,
   * so only the new configuration answers. nginx starts the new workers and
   * about 100 ms later tells the old ones to stop; until then both answer.
   * False after `timeoutMs` (nginx refused the configuration at reload, e.g.
   * an address it cannot bind, and kept the old workers) or without /proc.
   */
  async untilReplaced(before: readonly number[], timeoutMs = 5000, intervalMs = 10): Promise<boolean> {
    if (before.length === 0) return false;
    const old = new Set(before);
    for (let i = 0; i * intervalMs <= timeoutMs; i++) {
      const now = this.workers();
      if (now.length > 0 && now.every((pid) => !old.has(pid))) return true;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    return false;
  }

  start(): void {
    if (this.#child !== null || this.#stopping) return;
    const child = spawn(this.#bin, ['-p', this.#prefix, '-c', this.#conf, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const group = child.pid;
    const killGroup = (): void => { if (group !== undefined) try { process.kill(-group, 'SIGKILL'); } catch { /* already gone */ } };
    process.once('exit', killGroup);
    this.#child = child;
    this.starts++;
    const startedAt = Date.now();
    const keep = (b: Buffer): void => {
      for (const l of b.toString().split('\n')) if (l !== '' && this.output.push(l) > 200) this.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (e) => keep(Buffer.from(`${this.#bin}: ${e.message}`)));
    if (child.pid !== undefined) this.#events.started(child.pid);
    child.on('exit', (code, signal) => {
      this.#child = null;
      // Orphaned workers would hold the port the next master needs.
      killGroup();
      process.off('exit', killGroup);
      if (this.#stopping) return;
      // Up for a while: a fresh failure, not a crash loop.
      if (Date.now() - startedAt > 10_000) this.#delayMs = 250;
      const delay = this.#delayMs;
      this.#delayMs = Math.min(5000, this.#delayMs * 2);
      this.#events.died(code, signal, delay);
      this.#timer = setTimeout(() => { this.#timer = null; this.start(); }, delay);
    });
  }

  /** Stops nginx (QUIT: finish the requests in flight), then TERM and KILL if it lingers. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    const child = this.#child;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGQUIT');
    const t1 = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    const t2 = setTimeout(() => child.kill('SIGKILL'), timeoutMs * 2);
    await exited;
    clearTimeout(t1);
    clearTimeout(t2);
  }
}
