/**
 * @module test/support/harness
 * Starting a server for a test, asking it questions in-process (`inject`,
 * the whole chain without a socket) or through real clients (`dig`, `kdig`),
 * and reading the answers.
 */
import { execFile } from 'node:child_process';
import { App } from '../../src/app/app.ts';
import { decodeMessage, encodeQuery, type DecodedMessage, type QueryOptions } from '../../src/dns/message.ts';
import { typeFromName } from '../../src/dns/constants.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import type { PluginRegistry } from '../../src/plugin/registry.ts';
import { serveQuery, ServeStats } from '../../src/server/serve.ts';
import type { TcpOptions } from '../../src/server/tcp-listener.ts';

export interface TestServer {
  readonly app: App;
  /** The bound DNS port (UDP and TCP) of the first listener. */
  readonly port: number;
  /** Log lines written so far. */
  readonly logs: string[];
  /** Fatal messages (a detected loop, ...): recorded and logged, the test process does not exit. */
  readonly fatal: string[];
  /** App.stop: a second call while the first waits (lameduck) ends the wait at once. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Corefile path: read from disk when `corefile` is '', else only the name in messages (and the base of relative paths). */
  path?: string;
  env?: Record<string, string | undefined>;
  registry?: PluginRegistry;
  tcp?: TcpOptions;
  format?: 'text' | 'json';
  udpBatch?: boolean;
}

/**
 * The one test server starter: an App from Corefile text (or a file), on the
 * ports the Corefile names (`.:0 { bind 127.0.0.1 ... }` for an ephemeral
 * loopback port; a block without a port gets 0 too, never 53).
 */
export async function startServer(corefile: string, opts: StartOptions = {}): Promise<TestServer> {
  const logger = memoryLogger(opts.format ?? 'text');
  const fatal: string[] = [];
  const fromFile = corefile === '' && opts.path !== undefined;
  const app = new App({
    corefilePath: opts.path ?? 'Corefile', ...(fromFile ? {} : { corefileText: corefile }), logger, dnsPort: 0,
    env: opts.env ?? process.env, tcp: opts.tcp ?? { idleTimeoutMs: 2000, maxConnections: 200 },
    ...(opts.registry ? { registry: opts.registry } : {}), ...(opts.udpBatch !== undefined ? { udpBatch: opts.udpBatch } : {}),
    fatal: (m) => { fatal.push(m); logger.error(`fatal: ${m}`); },
  });
  await app.start();
  return { app, port: app.port(), logs: logger.lines, fatal, stop: (graceMs = 1000) => app.stop(graceMs) };
}

export interface InjectOptions extends QueryOptions {
  transport?: 'udp' | 'tcp';
  remoteAddress?: string;
  /** Which listener (by index) to use. */
  listener?: number;
}

/** Serve one query through the full chain in-process and decode the reply. */
export function inject(app: App, name: string, type: string | number, opts: InjectOptions = {}): Promise<DecodedMessage> {
  const qtype = typeof type === 'number' ? type : typeFromName(type);
  if (qtype === undefined) throw new Error(`unknown type ${type}`);
  const msg = encodeQuery(name, qtype, { id: opts.id ?? 4242, ...opts });
  return injectRaw(app, msg, opts).then((buf) => {
    if (!buf) throw new Error('no reply');
    return decodeMessage(buf);
  });
}

/** Serve raw bytes in-process; resolves to the reply bytes, or null when the server stays silent. */
export function injectRaw(app: App, msg: Buffer, opts: InjectOptions = {}): Promise<Buffer | null> {
  const gen = app.server.generation;
  if (!gen) throw new Error('server not started');
  const spec = gen.listeners[opts.listener ?? 0]!;
  return new Promise((resolve) => {
    let done = false;
    const responder = { send: (b: Buffer) => { done = true; resolve(b); } };
    serveQuery(msg, opts.transport ?? 'udp', opts.remoteAddress ?? '127.0.0.1', 53000, '127.0.0.1', 53, spec.routes, responder, new ServeStats());
    setTimeout(() => { if (!done) resolve(null); }, 3000).unref();
  });
}

export interface DigRecord { name: string; ttl: number; class: string; type: string; data: string }
export interface DigResult {
  status: string;
  flags: string[];
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  raw: string;
}

/** Run a real client (`dig` or `kdig`) against 127.0.0.1:port, its own socket bound to 127.0.0.1 (`-b`). */
export function runClient(client: 'dig' | 'kdig', port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // dig and kdig spell the timeout and retry options differently (kdig rejects +time/+tries).
    const patience = client === 'kdig' ? ['+timeout=2', '+retry=0'] : ['+time=2', '+tries=1'];
    execFile(client, ['@127.0.0.1', '-p', String(port), '-b', '127.0.0.1', ...patience, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`${client} failed: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

/** dig, parsed. */
export async function dig(port: number, ...args: string[]): Promise<DigResult> {
  return parseDig(await runClient('dig', port, args));
}

export function parseDig(raw: string): DigResult {
  const status = /status: (\w+)/.exec(raw)?.[1] ?? '';
  const flags = (/;; flags: ([^;]*);/.exec(raw)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const section = (title: string): DigRecord[] => {
    const start = raw.indexOf(`;; ${title} SECTION:`);
    if (start < 0) return [];
    const lines = raw.slice(start).split('\n').slice(1);
    const out: DigRecord[] = [];
    for (const line of lines) {
      if (line.trim() === '' || line.startsWith(';;')) break;
      const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
      if (m) out.push({ name: m[1]!, ttl: Number(m[2]), class: m[3]!, type: m[4]!, data: m[5]! });
    }
    return out;
  };
  return { status, flags, answer: section('ANSWER'), authority: section('AUTHORITY'), additional: section('ADDITIONAL'), raw };
}

/** Short text of a record as dig would print its data, for comparing decoded replies. */
export function sortedData(records: readonly DigRecord[]): string[] {
  return records.map((r) => r.data).sort();
}
