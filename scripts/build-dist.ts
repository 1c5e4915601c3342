/**
 * @module scripts/build-dist
 * Compiles src/ (without tests) to dist/ with tsc (tsconfig.build.json), so
 * the server runs plain JavaScript: Node's TypeScript type stripping (a wasm
 * compiler kept in memory, ~17 MiB RSS) is then never loaded. Runs from
 * `npm ci` (the `prepare` script) and `npm run build`. Writes
 * dist/.build-stamp last, holding the time the build started; bin/server-entry.js
 * uses dist/ only while no file under src/ is newer than that.
 * `--optional`: a failure is reported and exits 0 (an install never breaks;
 * the sources still run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist');
const optional = process.argv.includes('--optional');

function fail(why: string): never {
  process.stderr.write(`build-dist: ${why}${optional ? ' (optional: the sources in src/ run instead)' : ''}\n`);
  process.exit(optional ? 0 : 1);
}

let tsc: string;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  fail('typescript is not installed (a production-only install)');
}
const started = Date.now();
rmSync(DIST, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
// tsc exits 2 on a type error but still emits; `npm test` is where types are checked, a build only needs the output.
if (r.error !== undefined) fail(r.error.message);
if (!existsSync(path.join(DIST, 'main.js'))) fail(`tsc produced no dist/main.js (exit ${r.status})`);
writeFileSync(path.join(DIST, '.build-stamp'), `${started}\n`);
