/**
 * @module bench/peers/clusterdns
 * clusterdns itself: `node dist/main.js -conf <Corefile>` (the compiled build
 * that `npm ci` makes and the image runs; built first when missing or older
 * than src/, see serverMain) with the project's
 * Node 24 (node_modules/.bin/node, never the system node), fed the generated
 * manifest folder through the kubernetes plugin's `manifests` option.
 * Readiness is the first answer to `dns-version.cluster.local TXT` (bounded
 * 120 s). Variants: with and without the prometheus plugin, so the report
 * shows what metrics cost; and `clusterdns-batch`, with the optional native
 * UDP path (CLUSTERDNS_UDP_BATCH=1; the addon is built first when missing).
 */

import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADDON_PATH } from '../../src/server/udp-batch/addon.ts';
import { buildUdpBatch } from '../../src/server/udp-batch/build.ts';
import type { ZoneData } from '../cluster-gen.ts';
import type { Peer, RunningPeer } from './types.ts';
import { freePort, launch, versionOf } from './process.ts';
import { serverEntry } from '../../bin/server-entry.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The server's entry as shipped: dist/main.js, compiled now (scripts/build-dist.ts) when missing or older than src/. */
export function serverMain(): string {
  let entry = serverEntry(ROOT);
  if (!entry.compiled) {
    process.stderr.write(`[bench] building dist/: ${entry.reason}\n`);
    spawnSync(nodeBinary(), [path.join(ROOT, 'scripts', 'build-dist.ts')], { cwd: ROOT, stdio: 'inherit' });
    entry = serverEntry(ROOT);
    if (!entry.compiled) throw new Error(`dist/ could not be built (${entry.reason})`);
  }
  return entry.file;
}

export function nodeBinary(): string {
  const p = path.join(ROOT, 'node_modules', '.bin', 'node');
  if (!existsSync(p)) throw new Error('node_modules/.bin/node missing (npm install)');
  return realpathSync(p); // the ELF itself, so the pid we watch is the server's
}

/** Where the kubernetes plugin reads the cluster from. */
export type ClusterFeed =
  | { readonly manifests: string }
  | { readonly endpoint: string }
  /** In-cluster config (KUBERNETES_SERVICE_HOST/PORT + service-account files in the environment). */
  | { readonly inCluster: true }
  /** A kubeconfig file (loads @kubernetes/client-node for its auth). */
  | { readonly kubeconfig: string };

/** Ports of the kubeadm-like Corefile's side listeners (all on 127.0.0.1). */
export interface SidePorts {
  readonly health: number;
  readonly ready: number;
  /** 0: no prometheus plugin. */
  readonly metrics: number;
  /** The upstream `forward .` sends to (bench's own stub, see upstreamStub). */
  readonly upstream: number;
}

function feedLines(feed: ClusterFeed): string[] {
  if ('manifests' in feed) return [`        manifests ${feed.manifests}`];
  if ('endpoint' in feed) return [`        endpoint ${feed.endpoint}`];
  if ('kubeconfig' in feed) return [`        kubeconfig ${feed.kubeconfig}`];
  return [];
}

/**
 * The Corefile kubeadm installs (errors, health, ready, kubernetes with
 * `pods insecure` and `ttl 30`, prometheus, forward, cache 30, loop, reload,
 * loadbalance), with every listener on 127.0.0.1 and `forward` to the bench's
 * stub upstream instead of /etc/resolv.conf. health has no `lameduck` (it
 * would add 5 s to every stop). Without `side`: the same chain minus the
 * side listeners, forward, loop and reload (for the in-process micro bench).
 */
export function corefile(port: number, feed: string | ClusterFeed, metrics: boolean, side?: SidePorts): string {
  const f: ClusterFeed = typeof feed === 'string' ? { manifests: feed } : feed;
  const kube = [
    '    kubernetes cluster.local in-addr.arpa ip6.arpa {',
    ...feedLines(f),
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '        ttl 30',
    '    }',
  ];
  if (side === undefined) {
    return [`.:${port} {`, '    errors', ...(metrics ? ['    prometheus 127.0.0.1:0'] : []), '    loadbalance', '    cache 30', ...kube, '}', ''].join('\n');
  }
  return [
    `.:${port} {`,
    '    bind 127.0.0.1',
    '    errors',
    `    health 127.0.0.1:${side.health}`,
    `    ready 127.0.0.1:${side.ready}`,
    ...kube,
    ...(metrics && side.metrics > 0 ? [`    prometheus 127.0.0.1:${side.metrics}`] : []),
    `    forward . 127.0.0.1:${side.upstream} {`,
    '        max_concurrent 1000',
    '    }',
    '    cache 30',
    '    loop',
    '    reload',
    '    loadbalance',
    '}',
    '',
  ].join('\n');
}

let stub: Promise<number> | null = null;

/**
 * A stand-in for the node's resolver that `forward .` points at: answers
 * every query NXDOMAIN at once (the loop plugin's probe and forward's health
 * checks go there; no benchmark query leaves the cluster zones). Lives as
 * long as the harness process.
 */
export function upstreamStub(): Promise<number> {
  stub ??= new Promise<number>((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      if (msg.length < 12) return;
      const reply = Buffer.from(msg);
      reply[2] = 0x80 | (msg[2]! & 0x79); // QR, keep opcode and RD
      reply[3] = 0x80 | 3; // RA, NXDOMAIN
      reply.writeUInt32BE(0, 6); // no answer/authority records
      reply.writeUInt16BE(0, 10);
      sock.send(reply, rinfo.port, rinfo.address);
    });
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => { sock.unref(); resolve(sock.address().port); });
  });
  return stub;
}

/** Free ports for the side listeners and the stub upstream. */
export async function sidePorts(metrics: boolean): Promise<SidePorts> {
  return { health: await freePort(), ready: await freePort(), metrics: metrics ? await freePort() : 0, upstream: await upstreamStub() };
}

function variant(name: string, metrics: boolean, batch = false): Peer {
  return {
    name,
    description: `clusterdns (Node ${process.versions.node} via node_modules/.bin/node), manifests folder, kubeadm-like Corefile (errors, health, ready, kubernetes pods insecure, ${metrics ? 'prometheus, ' : 'no prometheus, '}forward, cache 30, loop, reload, loadbalance)${batch ? ', native UDP batches (recvmmsg/sendmmsg)' : ''}`,
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
      const main = serverMain();
      const node = nodeBinary();
      if (batch && !existsSync(ADDON_PATH)) buildUdpBatch();
      const port = await freePort();
      const side = await sidePorts(metrics);
      rmSync(workDir, { recursive: true, force: true });
      mkdirSync(workDir, { recursive: true });
      const conf = path.join(workDir, 'Corefile');
      writeFileSync(conf, corefile(port, zoneData.manifestDir, metrics, side));
      const running = await launch({
        name, cmd: node, args: [main, '-conf', conf], port, workDir, cwd: ROOT,
        env: { ...process.env, NODE_ENV: 'production', CLUSTERDNS_UDP_BATCH: batch ? '1' : '0' },
        readyTimeoutMs: 120_000,
      });
      return side.metrics > 0 ? { ...running, metricsUrl: `http://127.0.0.1:${side.metrics}/metrics` } : running;
    },
  };
}

export const clusterdns: Peer = variant('clusterdns', true);
export const clusterdnsNoMetrics: Peer = variant('clusterdns-nometrics', false);
export const clusterdnsBatch: Peer = variant('clusterdns-batch', true, true);
