/**
 * @module test/fuzz/jazzer.test
 * The bounded CI run of every fuzz target under jazzer.js (coverage-guided
 * libFuzzer): a fixed seed and a fixed count of inputs per target (capped at
 * 20 s each on a slow machine), starting from the committed seed corpus.
 * Fails on any crash, with the fuzzer's report (the input is in the report
 * and in the temporary crash directory named there). The longer run by hand
 * is `npm run fuzz -- TARGET --time 600` (docs/testing.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzzCommand, fuzzTargets } from '../../fuzz/run.ts';

/** Inputs per target: about 5 s each on a quiet 2-core machine (the suite's time budget; longer runs by hand); the manifest target reads whole files through two YAML parsers. */
const RUNS: Readonly<Record<string, number>> = { 'dns-packet': 10000, corefile: 4000, manifest: 200, zonefile: 8000 };
const MAX_SECONDS = 20;

function run(target: string, workDir: string): Promise<{ code: number | null; output: string }> {
  const [node, ...args] = fuzzCommand({ target, runs: RUNS[target] ?? 2000, seconds: MAX_SECONDS, seed: 1, workDir });
  return new Promise((resolve, reject) => {
    const child = spawn(node!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('every target has a bounded CI run', () => {
  assert.deepEqual(fuzzTargets(), Object.keys(RUNS).sort());
});

for (const target of fuzzTargets()) {
  test(`jazzer: ${target} runs ${RUNS[target]} inputs (seed 1) without a crash`, { timeout: (MAX_SECONDS + 60) * 1000 }, async () => {
    const workDir = mkdtempSync(join(tmpdir(), `clusterdns-fuzz-${target}-`));
    try {
      const { code, output } = await run(target, workDir);
      const report = output.split('\n').filter((l) => !/^#\d+\s+(NEW|REDUCE|pulse)/.test(l)).slice(-60).join('\n');
      assert.equal(code, 0, `jazzer found a crash in ${target} (or could not start; see 'npm ci' for the fuzz/native line):\n${report}`);
      // libFuzzer's last status line ("#N DONE"; the "Done N runs" summary after it is not always flushed on exit).
      assert.match(output, /#\d+\s+DONE |Done \d+ runs/, report);
      // Coverage feedback works (our TypeScript is instrumented): an uninstrumented run sees a handful of edges.
      const cov = Math.max(0, ...[...output.matchAll(/ cov: (\d+)/g)].map((m) => Number(m[1])));
      assert.ok(cov >= 100, `only ${cov} coverage edges: is fuzz/native/strip-types-hooks.ts registered?\n${report}`);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
}
