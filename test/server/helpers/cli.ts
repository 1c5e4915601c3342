/**
 * @module test/server/helpers/cli
 * Running the real clusterdns command (node src/main.ts, or bin/clusterdns.js)
 * as a child process: to completion with a time bound, or as a server whose
 * bound ports are read from its startup banner.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));
export const BIN = fileURLToPath(new URL('../../../bin/clusterdns.js', import.meta.url));

export interface CliResult { code: number | null; signal: string | null; stdout: string; stderr: string }

/** Run to completion (killed after `timeoutMs`). `nodeArgs` go before the script. */
export function runCli(args: readonly string[], opts: { cwd?: string; script?: string; nodeArgs?: readonly string[]; node?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(opts.node ?? process.execPath, [...(opts.nodeArgs ?? []), opts.script ?? MAIN, ...args],
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 15_000, env: { ...process.env, CLUSTERDNS_DEBUG: '' } },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: string }) | null;
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
      });
  });
}

/** A running clusterdns child. */
export class CliServer {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  /** `env`: added to (or, when undefined, removed from) this process's environment. */
  constructor(args: readonly string[], cwd?: string, env: Readonly<Record<string, string | undefined>> = {}) {
    this.child = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CLUSTERDNS_DEBUG: '', ...env } });
    this.child.stdout!.on('data', (d: Buffer) => { this.stdout += d.toString(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((r) => this.child.on('exit', (code, signal) => r({ code, signal })));
  }

  /** Waits (bounded) for the banner; returns the ports it lists ("127.0.0.1:PORT" or ".:PORT" lines). */
  async ports(timeoutMs = 10_000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    while (!/^clusterdns-/m.test(this.stdout)) {
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`no banner; stdout: ${this.stdout} stderr: ${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return [...this.stdout.matchAll(/^\S*:(\d+)(?: on \S+)?$/gm)].map((m) => Number(m[1]));
  }

  /** Resolves with the exit, or null when it has not exited within `ms`. */
  async waitExit(ms: number): Promise<{ code: number | null; signal: string | null } | null> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.exited, new Promise<null>((res) => { timer = setTimeout(() => res(null), ms); })]);
    clearTimeout(timer);
    return r;
  }

  /** Make sure it is gone (after a failed assertion). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.waitExit(5000);
    }
  }
}

