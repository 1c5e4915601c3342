/**
 * @module bench/peers/nsd
 * NSD, authoritative, loading the generated zone files. One server process
 * (server-count 1); response rate limiting switched off (it would throttle
 * a benchmark coming from one address).
 */

import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ZoneData } from '../cluster-gen.ts';
import type { Peer, RunningPeer } from './types.ts';
import { findBinary, freePort, launch, requireBinary, versionOf } from './process.ts';

export const nsd: Peer = {
  name: 'nsd',
  description: 'NSD, authoritative from zone files, server-count 1, RRL off',
  version: () => versionOf(findBinary('nsd'), ['-v'], /NSD version\s+(\S+)/),
  async start(zoneData: ZoneData, workDir: string): Promise<RunningPeer> {
    const bin = requireBinary('nsd');
    const port = await freePort();
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    const zones = zoneData.zones.map((z) => `zone:\n    name: "${z.origin}"\n    zonefile: "${z.path}"\n`).join('\n');
    const conf = `server:
    ip-address: 127.0.0.1@${port}
    port: ${port}
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "${workDir}"
    database: ""
    zonelistfile: "${path.join(workDir, 'zone.list')}"
    xfrdfile: "${path.join(workDir, 'xfrd.state')}"
    xfrdir: "${workDir}"
    pidfile: "${path.join(workDir, 'nsd.pid')}"
    logfile: "${path.join(workDir, 'nsd-internal.log')}"
    verbosity: 0
    hide-version: no
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0

remote-control:
    control-enable: no

${zones}`;
    const confFile = path.join(workDir, 'nsd.conf');
    writeFileSync(confFile, conf);
    return launch({ name: 'nsd', cmd: bin, args: ['-d', '-c', confFile], port, workDir, readyTimeoutMs: 120_000 });
  },
};
