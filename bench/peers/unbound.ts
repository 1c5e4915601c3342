/**
 * @module bench/peers/unbound
 * Unbound serving the records as local-zone (static) + local-data: NXDOMAIN
 * for unknown names, NODATA for known names of another type. One thread,
 * iterator module only (no validation, never recurses for these zones).
 */

import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { rdataText, TTL, type ZoneData } from '../cluster-gen.ts';
import type { Peer, RunningPeer } from './types.ts';
import { findBinary, freePort, launch, requireBinary, versionOf } from './process.ts';

export const unbound: Peer = {
  name: 'unbound',
  description: 'Unbound, local-zone static + local-data, 1 thread',
  version: () => versionOf(findBinary('unbound'), ['-V'], /Version\s+(\S+)/),
  async start(zoneData: ZoneData, workDir: string): Promise<RunningPeer> {
    const bin = requireBinary('unbound');
    const port = await freePort();
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    const data: string[] = [];
    for (const z of zoneData.zones) {
      data.push(`local-zone: "${z.origin}" static`);
      for (const rr of z.records) {
        const line = `${rr.name} ${TTL} IN ${rr.type} ${rdataText(rr)}`;
        data.push(line.includes('"') ? `local-data: '${line}'` : `local-data: "${line}"`);
      }
    }
    const dataFile = path.join(workDir, 'local-data.conf');
    writeFileSync(dataFile, 'server:\n' + data.map((l) => `  ${l}`).join('\n') + '\n');
    const conf = `server:
  interface: 127.0.0.1
  port: ${port}
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${workDir}"
  pidfile: "${path.join(workDir, 'unbound.pid')}"
  use-syslog: no
  logfile: ""
  verbosity: 0
  num-threads: 1
  so-reuseport: no
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
include: "${dataFile}"
remote-control:
  control-enable: no
`;
    const confFile = path.join(workDir, 'unbound.conf');
    writeFileSync(confFile, conf);
    return launch({ name: 'unbound', cmd: bin, args: ['-d', '-c', confFile], port, workDir, readyTimeoutMs: 120_000 });
  },
};
