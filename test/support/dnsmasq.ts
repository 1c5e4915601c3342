/**
 * @module test/support/dnsmasq
 * A real Debian dnsmasq as a static upstream on 127.0.0.1 and a free port,
 * started in the foreground for one test and killed after. With
 * --log-queries its stderr tells how many queries reached it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { encodeQuery } from '../../src/dns/message.ts';
import { Type } from '../../src/dns/constants.ts';
import { freePort } from './ports.ts';
import { UdpClient } from './udp-client.ts';

export interface Dnsmasq {
  readonly port: number;
  readonly address: string;
  /** stderr lines so far. */
  readonly log: string[];
  /** Queries dnsmasq logged for `name` (without trailing dot) and type ("A", "AAAA"). */
  queries(name: string, type?: string): number;
  stop(): Promise<void>;
}

/** A stop function for a peer process: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export function stopper(child: ChildProcess, graceMs: number): () => Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
}

/** Answers within `timeoutMs` to a query for `name`, or false. */
export async function probe(port: number, name: string, timeoutMs: number): Promise<boolean> {
  const c = await UdpClient.open(port);
  try {
    return (await c.exchange(encodeQuery(name, Type.A, { id: 7 }), timeoutMs)) !== null;
  } finally {
    await c.close();
  }
}

/**
 * Starts dnsmasq answering only from its own options (no resolv.conf, no
 * /etc/hosts, no config file). `options` are extra flags such as
 * `--address=/ext.example/192.0.2.10`.
 */
export async function startDnsmasq(options: readonly string[]): Promise<Dnsmasq> {
  const port = await freePort();
  const log: string[] = [];
  const child: ChildProcess = spawn('dnsmasq', [
    '--keep-in-foreground', '--conf-file=/dev/null', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', '--no-poll', '--pid-file=', '--log-queries', '--log-facility=-', '--user=nobody',
    ...options,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let buf = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    log.push(...lines);
  });
  const stop = stopper(child, 2000);
  let up = false;
  for (let i = 0; i < 50 && !up && child.exitCode === null; i++) up = await probe(port, 'probe.invalid.', 100);
  if (!up) {
    await stop();
    throw new Error(`dnsmasq did not start: ${log.join('\n')}`);
  }
  return {
    port, address: `127.0.0.1:${port}`, log,
    queries: (name, type = 'A') => log.filter((l) => l.includes(`query[${type}] ${name} from`)).length,
    stop,
  };
}
