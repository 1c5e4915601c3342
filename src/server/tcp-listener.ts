/**
 * @module server/tcp-listener
 * DNS over TCP (RFC 1035 4.2.2, RFC 7766): two-byte length-prefixed
 * messages, several queries pipelined on one connection and answered as each
 * is ready, an idle timeout, and a cap on open connections. Each connection
 * is parsed on its own, so a slow or partial frame stalls only itself.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Route } from '../config/build.ts';
import { serveQuery, type Responder, type ServeStats } from './serve.ts';

export interface TcpOptions {
  /** Close a connection with no complete query for this long (ms). */
  readonly idleTimeoutMs: number;
  /** Refuse connections beyond this many open ones. */
  readonly maxConnections: number;
}

export const DEFAULT_TCP_OPTIONS: TcpOptions = { idleTimeoutMs: 10_000, maxConnections: 1000 };

class TcpConnection implements Responder {
  readonly #socket: Socket;
  readonly #listener: TcpListener;
  #pending: Buffer | null = null;
  /** Replies still owed on this connection; at shutdown it closes once they are sent. */
  owed = 0;

  constructor(socket: Socket, listener: TcpListener) {
    this.#socket = socket;
    this.#listener = listener;
  }

  onData(chunk: Buffer): void {
    const buf = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    let off = 0;
    while (buf.length - off >= 2) {
      const len = buf.readUInt16BE(off);
      if (buf.length - off - 2 < len) break;
      const msg = buf.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      if (len === 0) continue;
      this.owed++;
      const s = this.#socket;
      serveQuery(msg, 'tcp', s.remoteAddress ?? '', s.remotePort ?? 0, s.localAddress ?? '', s.localPort ?? 0,
        this.#listener.routes, this, this.#listener.stats);
    }
    this.#pending = off === buf.length ? null : buf.subarray(off);
    if (this.#pending !== null && off > 0) this.#pending = Buffer.from(this.#pending); // do not pin the old chunk
  }

  send(reply: Buffer): void {
    this.owed--;
    if (this.#socket.destroyed) return;
    const head = Buffer.allocUnsafe(2);
    head.writeUInt16BE(reply.length, 0);
    this.#socket.cork();
    this.#socket.write(head);
    this.#socket.write(reply);
    this.#socket.uncork();
    if (this.#listener.closing && this.owed <= 0) this.#socket.end();
  }
}

export class TcpListener {
  routes: readonly Route[];
  readonly stats: ServeStats;
  readonly #opts: TcpOptions;
  #server: Server | null = null;
  readonly #connections = new Map<Socket, TcpConnection>();
  closing = false;

  constructor(routes: readonly Route[], stats: ServeStats, opts: TcpOptions = DEFAULT_TCP_OPTIONS) {
    this.routes = routes;
    this.stats = stats;
    this.#opts = opts;
  }

  async listen(address: string, port: number): Promise<number> {
    const hosts = address === '' ? ['::', '0.0.0.0'] : [address];
    let lastError: unknown;
    for (const host of hosts) {
      const server = createServer({ noDelay: true, pauseOnConnect: false }, (socket) => this.#accept(socket));
      server.maxConnections = this.#opts.maxConnections;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host, port, exclusive: true, ipv6Only: false }, () => { server.off('error', reject); resolve(); });
        });
      } catch (e) {
        lastError = e;
        server.close();
        continue;
      }
      server.on('error', () => { /* accept errors (EMFILE) must not stop the server */ });
      this.#server = server;
      return (server.address() as { port: number }).port;
    }
    throw lastError;
  }

  #accept(socket: Socket): void {
    const conn = new TcpConnection(socket, this);
    this.#connections.set(socket, conn);
    socket.setTimeout(this.#opts.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => conn.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#connections.delete(socket));
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Stop accepting; connections close once their owed replies are sent (or at once when idle). */
  async close(): Promise<void> {
    this.closing = true;
    const server = this.#server;
    this.#server = null;
    for (const [socket, conn] of this.#connections) if (conn.owed <= 0) socket.end();
    if (!server) return;
    await new Promise<void>((r) => server.close(() => r()));
  }

  /** Drop every connection now (end of the shutdown grace period). */
  destroyAll(): void {
    for (const socket of this.#connections.keys()) socket.destroy();
  }
}
