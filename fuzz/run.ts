/**
 * @module fuzz/run
 * Runs one fuzz target under jazzer.js (libFuzzer, coverage-guided):
 *
 *   npm run fuzz -- TARGET [--time SECONDS] [--runs N] [--seed N]
 *   npm run fuzz -- --list
 *
 * TARGET is a file name in fuzz/targets/ without `.ts` (dns-packet,
 * corefile, manifest, zonefile). Starts from the committed seed corpus
 * fuzz/corpus/TARGET/ and keeps what it learns in .tmp/fuzz/TARGET/ (not
 * committed: add an input to the seed corpus by hand when it is worth
 * keeping). A crash is written to .tmp/fuzz/crashes/ and the exit code is
 * non-zero; replay it with `npm run fuzz -- TARGET --replay FILE`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const FUZZ_DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(FUZZ_DIR, '..');
export const WORK_DIR = join(ROOT, '.tmp', 'fuzz');

export function fuzzTargets(): string[] {
  return readdirSync(join(FUZZ_DIR, 'targets')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
}

export function seedCorpus(target: string): string {
  return join(FUZZ_DIR, 'corpus', target);
}

export interface FuzzRun {
  readonly target: string;
  /** Stop after this many seconds (libFuzzer's -max_total_time). */
  readonly seconds?: number;
  /** Stop after this many inputs (libFuzzer's -runs). */
  readonly runs?: number;
  readonly seed?: number;
  /** Run these files once each instead of fuzzing. */
  readonly replay?: readonly string[];
  /** Where new inputs and crashes go (default .tmp/fuzz/). */
  readonly workDir?: string;
}

/** The command line that fuzzes `run.target`: node, then its arguments. */
export function fuzzCommand(run: FuzzRun): string[] {
  if (!fuzzTargets().includes(run.target)) throw new Error(`no fuzz target '${run.target}' (have: ${fuzzTargets().join(', ')})`);
  const cli = createRequire(import.meta.url).resolve('@jazzer.js/core/dist/cli.js');
  const work = join(run.workDir ?? WORK_DIR, run.target);
  const crashes = join(run.workDir ?? WORK_DIR, 'crashes');
  mkdirSync(work, { recursive: true });
  mkdirSync(crashes, { recursive: true });
  const inputs = run.replay ?? [work, seedCorpus(run.target)];
  const libFuzzer = [`-artifact_prefix=${crashes}/${run.target}-`, '-max_len=4096', '-timeout=10'];
  if (run.seconds !== undefined) libFuzzer.push(`-max_total_time=${run.seconds}`);
  if (run.runs !== undefined) libFuzzer.push(`-runs=${run.runs}`);
  if (run.seed !== undefined) libFuzzer.push(`-seed=${run.seed}`);
  return [
    process.execPath, '--disable-warning=ExperimentalWarning', '--import', join(FUZZ_DIR, 'native', 'preload.ts'),
    // Paths in a Corefile or manifest directory are the operator's to choose: reading them is no traversal.
    cli, join(FUZZ_DIR, 'targets', `${run.target}.ts`), ...inputs, '--sync', '--disable_bug_detectors=path-traversal', '--', ...libFuzzer,
  ];
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { time: { type: 'string' }, runs: { type: 'string' }, seed: { type: 'string' }, replay: { type: 'string', multiple: true }, list: { type: 'boolean' } },
  });
  if (values.list || positionals.length !== 1) {
    process.stdout.write(`usage: npm run fuzz -- TARGET [--time SECONDS] [--runs N] [--seed N] [--replay FILE]\ntargets: ${fuzzTargets().join(' ')}\n`);
    process.exit(values.list ? 0 : 2);
  }
  const run: FuzzRun = {
    target: positionals[0]!,
    ...(values.time !== undefined ? { seconds: Number(values.time) } : {}),
    ...(values.runs !== undefined ? { runs: Number(values.runs) } : {}),
    ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
    ...(values.replay !== undefined ? { replay: values.replay } : {}),
  };
  const [node, ...args] = fuzzCommand(run);
  const child = spawn(node!, args, { stdio: 'inherit', cwd: ROOT });
  child.on('exit', (code, signal) => { process.exitCode = code ?? (signal ? 1 : 0); });
}
