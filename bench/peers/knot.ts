/**
 * @module bench/peers/knot
 * Knot DNS (knotd), authoritative, loading the generated zone files. One UDP
 * and one TCP worker so it competes on one core like the others.
 */

import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ZoneData } from '../cluster-gen.ts';
import type { Peer, RunningPeer } from './types.ts';
import { findBinary, freePort, launch, requireBinary, versionOf } from './process.ts';

export const knot: Peer = {
  name: 'knot',
  description: 'Knot DNS knotd, authoritative from zone files, 1 UDP worker',
  version: () => versionOf(findBinary('knotd'), ['-V'], /version\s+(\S+)/),
  async start(zoneData: ZoneData, workDir: string): Promise<RunningPeer> {
    const bin = requireBinary('knotd');
    const port = await freePort();
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(path.join(workDir, 'storage'), { recursive: true });
    const zones = zoneData.zones.map((z) => [
      `  - domain: ${z.origin}`,
      `    file: ${z.path}`,
    ].join('\n')).join('\n');
    const conf = `server:
    rundir: ${workDir}
    listen: 127.0.0.1@${port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1

database:
    storage: ${path.join(workDir, 'storage')}

control:
    listen: ${path.join(workDir, 'knot.sock')}

log:
  - target: stderr
    any: warning

template:
  - id: default
    storage: ${path.join(workDir, 'storage')}
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off

zone:
${zones}
`;
    const confFile = path.join(workDir, 'knot.conf');
    writeFileSync(confFile, conf);
    return launch({ name: 'knot', cmd: bin, args: ['-c', confFile], port, workDir, readyTimeoutMs: 120_000 });
  },
};
