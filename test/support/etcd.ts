/**
 * @module test/support/etcd
 * A real etcd (Debian's `etcd-server`, /usr/bin/etcd) for one test file:
 * started on 127.0.0.1 with free client and peer ports and a temporary data
 * directory, stopped and started again on the same ports and data
 * (`stop()` / `restart()`), removed by `dispose()`. Optionally with
 * user/password authentication (a root user and one read-write user are
 * made, then auth is enabled) and with TLS: a CA, a server certificate for
 * 127.0.0.1 and a client certificate, all made with openssl, and client
 * certificates required. `client()` gives an etcd3 client that may write.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3, Range, type IOptions } from 'etcd3';
import { freePort } from './ports.ts';

export interface EtcdAuthOptions {
  /** A read-write user (besides root) the test hands to the code under test. */
  readonly user: string;
  readonly password: string;
}

export interface StartEtcdOptions {
  /** Enable user/password authentication with this user. */
  readonly auth?: EtcdAuthOptions;
  /** Serve https only, with certificates made here; client certificates are required. */
  readonly tls?: boolean;
}

/** Files of the TLS setup (PEM), present when started with `tls: true`. */
export interface EtcdTlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestEtcd {
  /** Client URL, e.g. http://127.0.0.1:40123 (https with TLS). */
  readonly endpoint: string;
  readonly dataDir: string;
  readonly tls: EtcdTlsFiles | null;
  /** Password of the root user when started with auth. */
  readonly rootPassword: string;
  /** Stderr of etcd so far. */
  readonly log: string[];
  /** A client with full rights (root with auth, the client certificate with TLS). Closed by dispose(). */
  client(): Etcd3;
  /** Connection options for another client (e.g. one with other credentials). */
  clientOptions(extra?: Partial<IOptions>): IOptions;
  /** Stop the process (SIGTERM, then SIGKILL); data and ports are kept for restart(). */
  stop(): Promise<void>;
  /** Start again on the same ports and data; resolves once it answers. */
  restart(): Promise<void>;
  /** Stop and remove the data directory and certificates. */
  dispose(): Promise<void>;
}

const ETCD = '/usr/bin/etcd';
const running = new Set<ChildProcess>();
process.once('exit', () => { for (const c of running) c.kill('SIGKILL'); });

function makeCerts(dir: string): EtcdTlsFiles {
  const run = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }); };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=clusterdns-test', '-keyout', 'client.key', '-out', 'client.csr');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'client.ext', '-out', 'client.pem');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key') };
}

/** Starts etcd; resolves once it serves reads. */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<TestEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-etcd-'));
  const dataDir = join(dir, 'data');
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const tls = opts.tls ? makeCerts(dir) : null;
  const scheme = tls ? 'https' : 'http';
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'test', '--data-dir', dataDir,
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `test=${peer}`,
    '--logger', 'zap', '--log-level', 'error',
    ...(tls ? ['--cert-file', join(dir, 'server.pem'), '--key-file', join(dir, 'server.key'), '--trusted-ca-file', tls.ca, '--client-cert-auth'] : []),
  ];
  const log: string[] = [];
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const rootPassword = 'root-secret';
  let authOn = false;

  const clientOptions = (extra: Partial<IOptions> = {}): IOptions => ({
    hosts: endpoint,
    dialTimeout: 2000,
    ...(tls ? { credentials: { rootCertificate: readFileSync(tls.ca), certChain: readFileSync(tls.cert), privateKey: readFileSync(tls.key) } } : {}),
    ...(authOn ? { auth: { username: 'root', password: rootPassword } } : {}),
    ...extra,
  });
  let admin: Etcd3 | null = null;
  const client = (): Etcd3 => (admin ??= new Etcd3(clientOptions()));

  const launch = async (): Promise<void> => {
    const c = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    running.add(c);
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (d: string) => { log.push(...d.split('\n').filter(Boolean)); });
    exited = new Promise<void>((r) => c.once('exit', () => { running.delete(c); r(); }));
    // A fresh client per probe: a client that failed to connect keeps backing off.
    for (let i = 0; i < 100; i++) {
      if (c.exitCode !== null) break;
      const probe = new Etcd3(clientOptions({ dialTimeout: 500 }));
      try {
        await probe.get('probe').string();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        probe.close();
      }
    }
    throw new Error(`etcd did not start: ${log.slice(-10).join('\n')}`);
  };

  const stop = async (): Promise<void> => {
    admin?.close();
    admin = null;
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };

  await launch();
  if (opts.auth) {
    const a = client();
    await a.role('root').create().catch(() => undefined);
    await a.user('root').create(rootPassword);
    await a.user('root').addRole('root');
    await a.role('rw').create();
    await a.role('rw').grant({ permission: 'Readwrite', range: new Range(Buffer.from([0]), Buffer.from([0])) });
    await a.user(opts.auth.user).create(opts.auth.password);
    await a.user(opts.auth.user).addRole('rw');
    await a.auth.authEnable();
    a.close();
    admin = null;
    authOn = true;
  }

  return {
    endpoint, dataDir, tls, rootPassword, log,
    client, clientOptions,
    stop,
    restart: async () => { await stop(); await launch(); },
    dispose: async () => { await stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}
