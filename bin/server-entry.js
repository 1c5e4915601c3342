// @module bin/server-entry
// Which file runs clusterdns: dist/main.js, compiled by scripts/build-dist.ts (run by `npm ci` and `npm run build`),
// while no file under src/ is newer than the build; otherwise src/main.ts (Node strips the types, which costs
// ~17 MiB more RSS and a slower start). Plain JavaScript so bin/clusterdns.js and the benchmarks share it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Newest modification time (ms) of any file under dir that the build compiles (tests and READMEs are not in dist/). */
function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() && (e.name.endsWith('.test.ts') || e.name.endsWith('.md'))) continue;
    const p = join(dir, e.name);
    const t = e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

/**
 * The entry file under root and why: { file, compiled, reason }. An image ships dist/ without src/: dist/ is used.
 * @param {string} root the package root
 */
export function serverEntry(root) {
  const dist = join(root, 'dist', 'main.js');
  const src = join(root, 'src', 'main.ts');
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(dist) || !existsSync(stamp)) return { file: src, compiled: false, reason: 'no build in dist/ (npm run build)' };
  if (!existsSync(src)) return { file: dist, compiled: true, reason: 'dist/ only' };
  const built = Number(readFileSync(stamp, 'utf8').trim());
  if (!(newestMtime(join(root, 'src')) < built)) return { file: src, compiled: false, reason: 'src/ changed since the last build (npm run build)' };
  return { file: dist, compiled: true, reason: 'dist/ is up to date' };
}
