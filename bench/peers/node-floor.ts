/**
 * @module bench/peers/node-floor
 * "Node, pre-encoded answers": bench/peers/node-floor/server.ts, a Node
 * process that answers every question of the zone files from bytes packed at
 * start (a Map lookup and a copy per query, nothing else), on node:dgram and
 * on the batched-I/O addon. It is the ceiling of each UDP path in Node: a
 * target above it cannot be met by any work on clusterdns's own code.
 */
import path from 'node:path';
import type { ZoneData } from '../cluster-gen.ts';
import type { Peer, RunningPeer } from './types.ts';
import { freePort, launch } from './process.ts';

const SERVER = path.join(import.meta.dirname, 'node-floor', 'server.ts');

function floor(name: string, udp: 'dgram' | 'batch'): Peer {
  return {
    name,
    description: `Node ${process.versions.node}, every answer pre-encoded at start, no plugin chain (${udp === 'batch' ? 'batched I/O addon' : 'node:dgram'})`,
    version: () => Promise.resolve(`Node ${process.versions.node}`),
    async start(zoneData: ZoneData, workDir: string): Promise<RunningPeer> {
      const port = await freePort();
      return launch({
        name, cmd: process.execPath,
        args: [SERVER, '--port', String(port), '--udp', udp, ...zoneData.zones.map((z) => z.path)],
        port, workDir, readyTimeoutMs: 120_000,
      });
    },
  };
}

export const nodeFloor = floor('node-floor', 'dgram');
export const nodeFloorBatch = floor('node-floor-batch', 'batch');
