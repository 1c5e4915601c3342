/**
 * @module test/support/knot
 * A real Knot DNS (knotd, Debian `knot`) on 127.0.0.1 and a free port, for
 * comparing answers on the same zone files and for zone transfers: zones are
 * served from files (primary) or pulled from a primary by AXFR (secondary),
 * with NOTIFY accepted from 127.0.0.1. Killed after the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probe, stopper } from './dnsmasq.ts';
import { freePort } from './ports.ts';

export interface KnotZone {
  readonly origin: string;
  /** Zone file to serve (primary). */
  readonly file?: string;
  /** "127.0.0.1@PORT" to transfer the zone from (secondary). */
  readonly primary?: string;
}

export interface Knot {
  readonly port: number;
  readonly log: string[];
  stop(): Promise<void>;
}

/** Starts knotd in `dir` (its config, storage and socket live there); `port` when the caller had to know it first. */
export async function startKnot(dir: string, zones: readonly KnotZone[], opts: { port?: number } = {}): Promise<Knot> {
  const port = opts.port ?? await freePort();
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const remotes = zones.filter((z) => z.primary).map((z, i) => `  - id: primary${i}\n    address: ${z.primary}`).join('\n');
  const zoneLines = zones.map((z, i) => z.primary
    ? `  - domain: ${z.origin}\n    master: primary${zones.filter((x) => x.primary).indexOf(z)}\n    acl: notify_from_primary\n    zonefile-sync: -1\n    zonefile-load: none\n    journal-content: none\n    file: ${join(dir, `secondary${i}.zone`)}`
    : `  - domain: ${z.origin}\n    file: ${z.file}\n    zonefile-sync: -1\n    journal-content: none`).join('\n');
  const conf = `server:
    rundir: ${dir}
    listen: 127.0.0.1@${port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: ${join(dir, 'storage')}
control:
    listen: ${join(dir, 'knot.sock')}
log:
  - target: stderr
    any: info
${remotes ? `remote:\n${remotes}\nacl:\n  - id: notify_from_primary\n    address: 127.0.0.1\n    action: notify\n` : ''}template:
  - id: default
    semantic-checks: off
zone:
${zoneLines}
`;
  const confFile = join(dir, 'knot.conf');
  writeFileSync(confFile, conf);
  const log: string[] = [];
  const child: ChildProcess = spawn('knotd', ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const s of [child.stdout!, child.stderr!]) {
    s.setEncoding('utf8');
    s.on('data', (d: string) => log.push(...d.split('\n').filter(Boolean)));
  }
  const stop = stopper(child, 3000);
  let up = false;
  for (let i = 0; i < 100 && !up && child.exitCode === null; i++) up = await probe(port, zones[0]?.origin ?? '.', 100);
  if (!up) {
    await stop();
    throw new Error(`knotd did not start: ${log.join('\n')}`);
  }
  return { port, log, stop };
}
