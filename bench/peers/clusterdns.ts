/**
 * @module bench/peers/clusterdns
 * clusterdns itself: `node src/main.ts -conf <Corefile>` with the project's
 * Node 24 (node_modules/.bin/node, never the system node), fed the generated
 * manifest folder through the kubernetes plugin's `manifests` option.
 * Readiness is the first answer to `dns-version.cluster.local TXT` (bounded
 * 120 s). Variants: with and without the prometheus plugin, so the report
 * shows what metrics cost; and `clusterdns-batch`, with the optional native
 * UDP path (CLUSTERDNS_UDP_BATCH=1; the addon is built first when missing).
 */

import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADDON_PATH } from '../../src/server/udp-batch/addon.ts';
import { buildUdpBatch } from '../../src/server/udp-batch/build.ts';
import type { ZoneData } from '../cluster-gen.ts';
import type { Peer, RunningPeer } from './types.ts';
import { freePort, launch, versionOf } from './process.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const MAIN = path.join(ROOT, 'src', 'main.ts');

function nodeBinary(): string {
  const p = path.join(ROOT, 'node_modules', '.bin', 'node');
  if (!existsSync(p)) throw new Error('node_modules/.bin/node missing (npm install)');
  return realpathSync(p); // the ELF itself, so the pid we watch is the server's
}

export function corefile(port: number, manifestDir: string, metrics: boolean): string {
  return [
    `.:${port} {`,
    '    errors',
    ...(metrics ? ['    prometheus 127.0.0.1:0'] : []),
    '    loadbalance',
    '    cache 30',
    '    kubernetes cluster.local in-addr.arpa ip6.arpa {',
    `        manifests ${manifestDir}`,
    '        fallthrough in-addr.arpa ip6.arpa',
    '    }',
    '}',
    '',
  ].join('\n');
}

function variant(name: string, metrics: boolean, batch = false): Peer {
  return {
    name,
    description: `clusterdns (Node ${process.versions.node} via node_modules/.bin/node), manifests folder, cache 30, loadbalance${metrics ? ', prometheus' : ', no prometheus'}${batch ? ', native UDP batches (recvmmsg/sendmmsg)' : ''}`,
    version: async () => {
      let pkg = '?';
      try {
        pkg = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
      } catch { /* keep '?' */ }
      let node: string | null = null;
      try { node = await versionOf(nodeBinary(), ['--version']); } catch { /* no node */ }
      return `${pkg} on Node ${node ?? '?'}`;
    },
    async start(zoneData: ZoneData, workDir: string): Promise<RunningPeer> {
      if (!existsSync(MAIN)) throw new Error('src/main.ts does not exist yet (server not built)');
      const node = nodeBinary();
      if (batch && !existsSync(ADDON_PATH)) buildUdpBatch();
      const port = await freePort();
      rmSync(workDir, { recursive: true, force: true });
      mkdirSync(workDir, { recursive: true });
      const conf = path.join(workDir, 'Corefile');
      writeFileSync(conf, corefile(port, zoneData.manifestDir, metrics));
      return launch({
        name, cmd: node, args: [MAIN, '-conf', conf], port, workDir, cwd: ROOT,
        env: { ...process.env, NODE_ENV: 'production', CLUSTERDNS_UDP_BATCH: batch ? '1' : '0' },
        readyTimeoutMs: 120_000,
      });
    },
  };
}

export const clusterdns: Peer = variant('clusterdns', true);
export const clusterdnsNoMetrics: Peer = variant('clusterdns-nometrics', false);
export const clusterdnsBatch: Peer = variant('clusterdns-batch', true, true);
