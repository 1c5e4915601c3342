/**
 * @module gateway/nginx
 * Driving a real nginx binary: validating a candidate configuration with
 * `nginx -t` (in a scratch prefix, before it replaces anything), reloading
 * with `nginx -s reload` (which signals the master named by the pid file of
 * the main configuration), the main configuration of a private prefix
 * directory for `--run-nginx`, and a supervisor that runs that nginx as a
 * foreground master and starts it again when it dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
      resolve({ code: -1, output: (e as Error).message });
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
