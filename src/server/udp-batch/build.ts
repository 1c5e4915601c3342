/**
 * @module server/udp-batch/build
 * Builds the optional native UDP addon: `npm run build:native`. One C file
 * against Node-API and libuv headers, compiled with the system C compiler
 * (no node-gyp): the headers of any Node.js >= 18 do, since Node-API is
 * stable across versions. Headers are looked for in NODE_INCLUDE_DIR, the
 * running Node's install prefix, node-gyp's cache and /usr/include/node
 * (Debian's nodejs / libnode-dev).
 *
 *   node src/server/udp-batch/build.ts [--quiet] [--optional]
 *
 * `npm ci` and `npm install` run it with --optional (the package's install
 * script): a machine without a C compiler or headers, or not on Linux, gets
 * one line saying so and a successful install; the server then uses
 * node:dgram.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON_PATH } from './addon.ts';
import { errorMessage } from '../../errors/to-error.ts';

const SOURCE = fileURLToPath(new URL('./udp-batch.c', import.meta.url));

/** Directories that may hold node_api.h and uv.h, best first. */
function headerCandidates(): string[] {
  const out: string[] = [];
  if (process.env.NODE_INCLUDE_DIR) out.push(process.env.NODE_INCLUDE_DIR);
  out.push(join(dirname(dirname(process.execPath)), 'include', 'node'));
  const gyp = join(homedir(), '.cache', 'node-gyp');
  if (existsSync(gyp)) for (const v of readdirSync(gyp).sort().reverse()) out.push(join(gyp, v, 'include', 'node'));
  out.push('/usr/include/node', '/usr/local/include/node');
  return out;
}

export function findHeaders(): string | null {
  for (const dir of headerCandidates()) {
    if (existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'uv.h'))) return dir;
  }
  return null;
}

/** Compiles the addon into ADDON_PATH; throws with the reason when it cannot. */
export function buildUdpBatch(output = ADDON_PATH): string {
  if (process.platform !== 'linux') throw new Error('the UDP batch addon needs Linux (recvmmsg/sendmmsg)');
  const include = findHeaders();
  if (include === null) throw new Error(`no node_api.h and uv.h in ${headerCandidates().join(', ')} (set NODE_INCLUDE_DIR)`);
  const cc = process.env.CC ?? 'cc';
  mkdirSync(dirname(output), { recursive: true });
  execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', `-I${include}`, '-o', output, SOURCE], { stdio: ['ignore', 'inherit', 'inherit'] });
  return output;
}

if (import.meta.main) {
  const optional = process.argv.includes('--optional');
  try {
    const out = buildUdpBatch();
    if (!process.argv.includes('--quiet')) process.stdout.write(`built ${out}\n`);
  } catch (e) {
    const why = errorMessage(e).split('\n')[0];
    if (optional) {
      process.stdout.write(`udp-batch: not built (${why}); UDP will use node:dgram\n`);
    } else {
      process.stderr.write(`udp-batch: ${why}\n`);
      process.exit(1);
    }
  }
}
