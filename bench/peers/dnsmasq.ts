/**
 * @module bench/peers/dnsmasq
 * dnsmasq in plain (non-auth) mode as kube-dns ran it: A and PTR records
 * from an addn-hosts file (hashed, fast at any size), the one TXT record via
 * txt-record, `--no-resolv --no-hosts`, and `local=/cluster.local/` +
 * `local=/10.in-addr.arpa/` so unknown names are NXDOMAIN instead of
 * forwarded. SRV is left out: kube-dns's dnsmasq never held SRV records
 * (it forwarded them to kubedns), and dnsmasq's srv-host list is scanned
 * linearly, so feeding it 20k of them measures a configuration nobody ran.
 * It serves no SOA/NS, so its negative answers carry no SOA.
 */

import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ZoneData } from '../cluster-gen.ts';
import type { Peer, RunningPeer } from './types.ts';
import { findBinary, freePort, launch, requireBinary, versionOf } from './process.ts';

const bare = (n: string): string => n.replace(/\.$/, '');

export const dnsmasq: Peer = {
  name: 'dnsmasq',
  description: 'dnsmasq as kube-dns ran it: addn-hosts (A+PTR) + txt-record, local=/cluster.local/ and /10.in-addr.arpa/; no SRV',
  leavesOut: { srv: 'not fed SRV records (kube-dns never gave dnsmasq any; its srv-host list is linear)' },
  version: () => versionOf(findBinary('dnsmasq'), ['-v'], /Dnsmasq version\s+(\S+)/),
  async start(zoneData: ZoneData, workDir: string): Promise<RunningPeer> {
    const bin = requireBinary('dnsmasq');
    const port = await freePort();
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });

    const records = zoneData.zones.flatMap((z) => z.records);
    // A hosts line yields A (name -> ip) and PTR (ip -> first name seen for
    // it), so the names the PTRs point at are written first.
    const hosts: string[] = [];
    const written = new Set<string>();
    for (const rr of records) {
      if (rr.type !== 'PTR') continue;
      const ip = bare(rr.name).replace(/\.in-addr\.arpa$/, '').split('.').reverse().join('.');
      const key = `${ip} ${bare(rr.target)}`;
      if (!written.has(key)) { written.add(key); hosts.push(key); }
    }
    const conf: string[] = [
      `port=${port}`,
      'listen-address=127.0.0.1',
      'bind-interfaces',
      'no-resolv',
      'no-hosts',
      'no-poll',
      'user=root',
      'pid-file=',
      'log-facility=-',
      'local-ttl=5',
      'local=/cluster.local/',
      'local=/10.in-addr.arpa/',
      `addn-hosts=${path.join(workDir, 'hosts')}`,
    ];
    for (const rr of records) {
      if (rr.type === 'A') {
        const key = `${rr.ip} ${bare(rr.name)}`;
        if (written.has(key)) continue;
        // Its IP already has its PTR line above (the first line wins).
        written.add(key);
        hosts.push(key);
      } else if (rr.type === 'TXT') {
        conf.push(`txt-record=${bare(rr.name)},"${rr.text}"`);
      }
    }
    writeFileSync(path.join(workDir, 'hosts'), hosts.join('\n') + '\n');
    const confFile = path.join(workDir, 'dnsmasq.conf');
    writeFileSync(confFile, conf.join('\n') + '\n');
    return launch({ name: 'dnsmasq', cmd: bin, args: ['-k', `--conf-file=${confFile}`], port, workDir, readyTimeoutMs: 120_000 });
  },
};
