/**
 * @module test/support/cli
 * Running the real `clusterdns` command (src/main.ts under this Node) in a
 * child process, and writing the input files it reads.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

/** Runs `clusterdns ARGS...` to completion (bounded by a timeout). */
export function runCli(args: readonly string[], opts: { timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `clusterdns ARGS...` without blocking the event loop (for commands that talk to a server in this process). */
export function runCliAsync(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ status: code, stdout, stderr });
    });
  });
}

/** A fresh directory to write a test's input files into. */
export function inputDir(prefix = 'clusterdns-cli-'): { dir: string; write(name: string, text: string): string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}
