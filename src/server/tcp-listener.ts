/**
 * @module server/tcp-listener
 * DNS over TCP (RFC 1035 4.2.2, RFC 7766): two-byte length-prefixed
 * messages, several queries pipelined on one connection and answered as each
 * is ready, an idle timeout, and a cap on open connections. Each connection
 * is parsed on its own, so a slow or partial frame stalls only itself; a
 * frame still incomplete after the idle timeout closes its connection even if
 * bytes keep trickling in. A client that does not read its replies stops
 * being read from (backpressure) instead of growing our write buffer.
 */
import { frameEnd } from '../dns/tcp-frame.ts';
import { createServer, type Server, type Socket } from 'node:net';
import type { Route } from '../config/build.ts';
import { serveQuery, type Responder, type ServeStats } from './serve.ts';
import { unmapIPv4 } from '../dns/ip.ts';

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
  readonly #remoteAddress: string;
  readonly #remotePort: number;
  readonly #localAddress: string;
  readonly #localPort: number;
  #pending: Buffer | null = null;
  /** When the frame now pending started to arrive (performance.now()), 0 when none is. */
  #partialSince = 0;
  #paused = false;
  /** Replies still owed on this connection; at shutdown it closes once they are sent. */
  owed = 0;

  constructor(socket: Socket, listener: TcpListener) {
    this.#socket = socket;
    this.#listener = listener;
    this.#remoteAddress = unmapIPv4(socket.remoteAddress ?? '');
    this.#remotePort = socket.remotePort ?? 0;
    this.#localAddress = unmapIPv4(socket.localAddress ?? '');
    this.#localPort = socket.localPort ?? 0;
  }

  onData(chunk: Buffer): void {
    const buf = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    const listener = this.#listener;
    let off = 0;
    for (let end = frameEnd(buf, off); end >= 0; end = frameEnd(buf, off)) {
      const msg = buf.subarray(off + 2, end);
      off = end;
      if (msg.length === 0) continue;
      this.owed++;
      const replying = serveQuery(msg, 'tcp', this.#remoteAddress, this.#remotePort, this.#localAddress, this.#localPort,
        listener.routes, this, listener.stats);
      if (!replying) this.#settle();
      if (this.#socket.destroyed) return;
    }
    if (off === buf.length) {
      this.#pending = null;
      this.#partialSince = 0;
    } else {
      // Copy the rest so the pending bytes do not pin the whole chunk.
      this.#pending = off > 0 ? Buffer.from(buf.subarray(off)) : buf;
      const now = performance.now();
      if (off > 0 || this.#partialSince === 0) this.#partialSince = now;
      else if (now - this.#partialSince > listener.idleTimeoutMs) this.#socket.destroy();
    }
  }

  send(reply: Buffer): void {
    const s = this.#socket;
    if (!s.destroyed) {
      const head = Buffer.allocUnsafe(2);
      head.writeUInt16BE(reply.length, 0);
      s.cork();
      s.write(head);
      s.write(reply);
      s.uncork();
      if (!this.#paused && s.writableNeedDrain) {
        this.#paused = true;
        s.pause();
        s.once('drain', this.#resume);
      }
    }
    this.#settle();
  }

  readonly #resume = (): void => {
    this.#paused = false;
    if (!this.#socket.destroyed) this.#socket.resume();
  };

  /** One owed reply is done (sent, or never coming); at shutdown, close once nothing is owed. */
  #settle(): void {
    this.owed--;
    if (this.#listener.closing && this.owed <= 0 && !this.#socket.destroyed) this.#socket.end();
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

  get idleTimeoutMs(): number {
    return this.#opts.idleTimeoutMs;
  }

  /** Binds `address` ('' = every interface); with reusePort, other processes (workers) may bind the same port and the kernel spreads connections. */
  async listen(address: string, port: number, reusePort = false): Promise<number> {
    const hosts = address === '' ? ['::', '0.0.0.0'] : [address];
    let lastError: unknown;
    for (const host of hosts) {
      const server = createServer({ noDelay: true, pauseOnConnect: false }, (socket) => this.#accept(socket));
      // Beyond this, node closes new connections at once; the ones open are not disturbed.
      server.maxConnections = this.#opts.maxConnections;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host, port, exclusive: true, ipv6Only: false, reusePort }, () => { server.off('error', reject); resolve(); });
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
    if (this.closing) { socket.destroy(); return; }
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
