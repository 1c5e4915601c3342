/**
 * @module fuzz/native/setup
 * Makes @jazzer.js/fuzzer's prebuilt libFuzzer addon load on this machine.
 * The 4.0.0 tarball ships only a Linux binary built against glibc 2.38 and
 * GCC 13's libstdc++, and no sources (1.x and 2.x ship sources but fetch
 * their libFuzzer from github.com and cannot instrument ES modules). On
 * Debian 12 (glibc 2.36) it fails with "version `GLIBC_2.38' not found".
 * The addon needs exactly three symbols from those versions; this script
 * compiles them into a small shim (glibc-compat.cc), marks the addon's needs
 * of GLIBC_2.38 / GLIBCXX_3.4.32 weak (the original is kept as `.orig`), and
 * checks that the pair loads. preload.ts loads the shim first.
 *
 *   node fuzz/native/setup.ts [--optional]
 *
 * Run by `npm ci` (the package's postinstall, with --optional: a machine
 * without a C++ compiler gets one line saying why, and the fuzz test then
 * fails with that reason). Does nothing where the addon loads as shipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markNeedsWeak } from './elf-version-needs.ts';
import { errorMessage } from '../../src/errors/to-error.ts';

const SOURCE = fileURLToPath(new URL('./glibc-compat.cc', import.meta.url));
/** The compiled shim; preload.ts loads it when it exists. */
export const COMPAT_PATH = fileURLToPath(new URL('./build/glibc-compat.node', import.meta.url));
/** The versions whose symbols glibc-compat.cc provides. */
const SHIMMED_VERSIONS: ReadonlySet<string> = new Set(['GLIBC_2.38', 'GLIBCXX_3.4.32']);

/** Where @jazzer.js/fuzzer's addon.js loads the binary from. */
export function addonPath(): string {
  const dir = dirname(createRequire(import.meta.url).resolve('@jazzer.js/fuzzer/package.json'));
  return join(dir, 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
}

/** Loads the addon (after the shim, when given) in a child process: null when it loads, else the loader's error. */
export function probeAddon(addon: string, shim: string | null): string | null {
  const script = `
    const { constants } = require('node:os');
    const [addon, shim] = process.argv.slice(1);
    if (shim) process.dlopen({ exports: {} }, shim, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL);
    const m = { exports: {} };
    process.dlopen(m, addon, constants.dlopen.RTLD_NOW);
    if (typeof m.exports.startFuzzing !== 'function') throw new Error('no startFuzzing in ' + addon);`;
  const r = spawnSync(process.execPath, ['-e', script, addon, shim ?? ''], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const line = r.stderr.split('\n').find((l) => /Error|error|not found|undefined symbol/.test(l));
  return (line ?? r.stderr.trim()) || `exit ${r.status}`;
}

/** Returns what it did; throws with the reason when the addon cannot be made to load. */
export function setupJazzer(): string {
  const addon = addonPath();
  if (!existsSync(addon)) throw new Error(`no prebuilt jazzer addon for ${process.platform}-${process.arch} (${addon})`);
  // A second run (npm install over an installed tree) starts again from the binary as shipped.
  const original = `${addon}.orig`;
  if (!existsSync(original)) copyFileSync(addon, original);
  const asShipped = probeAddon(original, null);
  if (asShipped === null) {
    copyFileSync(original, addon);
    return `jazzer addon loads as shipped (${addon})`;
  }
  if (![...SHIMMED_VERSIONS].some((v) => asShipped.includes(v))) throw new Error(`jazzer addon does not load: ${asShipped}`);
  mkdirSync(dirname(COMPAT_PATH), { recursive: true });
  execFileSync(process.env.CXX ?? 'c++', ['-O2', '-Wall', '-shared', '-fPIC', '-o', COMPAT_PATH, SOURCE], { stdio: ['ignore', 'inherit', 'inherit'] });
  const bytes = readFileSync(original);
  const changed = markNeedsWeak(bytes, SHIMMED_VERSIONS);
  writeFileSync(addon, bytes);
  const patched = probeAddon(addon, COMPAT_PATH);
  if (patched !== null) throw new Error(`jazzer addon still does not load with the compat shim: ${patched} (as shipped: ${asShipped})`);
  return `jazzer addon: ${asShipped.trim()}; marked ${changed.map((n) => `${n.version} (${n.file})`).join(', ')} weak and built ${COMPAT_PATH}`;
}

if (import.meta.main) {
  try {
    process.stdout.write(`${setupJazzer()}\n`);
  } catch (e) {
    process.stderr.write(`[WARN] fuzz/native: ${errorMessage(e)}; the fuzzers (npm run fuzz, test/fuzz) cannot run\n`);
    if (!process.argv.includes('--optional')) process.exitCode = 1;
  }
}
