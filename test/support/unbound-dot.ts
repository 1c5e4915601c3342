/**
 * @module test/support/unbound-dot
 * A real DNS-over-TLS upstream for forward's `tls://` tests: Debian's
 * unbound serving a static zone over TLS on 127.0.0.1 and a free port, with
 * a test CA and a server certificate (SAN DNS:dot.test and IP:127.0.0.1)
 * made by openssl in a temp folder, plus a second CA that signed nothing
 * (for "wrong CA" cases). Started for one test file, killed after.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { freePort } from './ports.ts';

export interface DotUpstream {
  readonly port: number;
  /** "tls://127.0.0.1:PORT". */
  readonly address: string;
  /** The CA that signed the server certificate; and one that did not. */
  readonly caFile: string;
  readonly otherCaFile: string;
  /** A client certificate and key (signed by caFile) for `tls CERT KEY CA`. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** The certificate's DNS name. */
  readonly serverName: string;
  /** unbound's log lines so far (query lines with log-queries). */
  readonly log: string[];
  stop(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA, a server certificate for dot.test/127.0.0.1, a client certificate, and an unrelated CA. */
function makeCertificates(dir: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=clusterdns test CA']);
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=unrelated CA']);
  for (const [name, san] of [['server', 'subjectAltName=DNS:dot.test,IP:127.0.0.1'], ['client', 'subjectAltName=DNS:client.test']] as const) {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}.test`]);
    writeFileSync(join(dir, `${name}.ext`), `${san}\n`);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
}

/** Whether a TLS handshake with the CA succeeds now (the listener is up). */
function handshake(port: number, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, ca: readFileSync(ca), servername: 'dot.test' }, () => { s.destroy(); resolve(true); });
    s.on('error', () => { s.destroy(); resolve(false); });
  });
}

/** Starts unbound serving `records` (unbound local-data lines, e.g. `www.dot.example. 300 IN A 192.0.2.99`) over TLS only. */
export async function startDotUpstream(records: readonly string[]): Promise<DotUpstream> {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-dot-'));
  makeCertificates(dir);
  const port = await freePort();
  const zones = new Set(records.map((r) => r.split(/\s+/)[0]!.split('.').slice(-3).join('.')));
  writeFileSync(join(dir, 'unbound.conf'), [
    'server:',
    `  interface: 127.0.0.1@${port}`,
    `  tls-port: ${port}`,
    `  tls-service-key: "${join(dir, 'server.key')}"`,
    `  tls-service-pem: "${join(dir, 'server.pem')}"`,
    '  do-daemonize: no', '  username: ""', '  chroot: ""', `  directory: "${dir}"`, '  pidfile: ""',
    '  use-syslog: no', '  logfile: ""', '  verbosity: 1', '  log-queries: yes', '  do-ip6: no',
    '  access-control: 127.0.0.0/8 allow', '  module-config: "iterator"',
    ...[...zones].map((z) => `  local-zone: "${z}" static`),
    ...records.map((r) => `  local-data: "${r}"`),
    'remote-control:', '  control-enable: no', '',
  ].join('\n'));
  const log: string[] = [];
  const child: ChildProcess = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (d: Buffer): void => { log.push(...d.toString().split('\n').filter(Boolean)); };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  let up = false;
  for (let i = 0; i < 50 && !up && child.exitCode === null; i++) {
    up = await handshake(port, join(dir, 'ca.pem'));
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) {
    await stop();
    throw new Error(`unbound (DoT) did not start: ${log.join('\n')}`);
  }
  return {
    port, address: `tls://127.0.0.1:${port}`, caFile: join(dir, 'ca.pem'), otherCaFile: join(dir, 'other.pem'),
    clientCert: join(dir, 'client.pem'), clientKey: join(dir, 'client.key'), serverName: 'dot.test', log, stop,
  };
}
