/**
 * @module server/udp-listener
 * One UDP socket on one address and port. Its routes are swapped in place on
 * reload, so the socket (and every query in flight on it) stays. On a
 * dual-stack socket (no `bind`), IPv4 clients arrive as "::ffff:a.b.c.d";
 * the request sees the plain IPv4 address (logs, acl, whoami, metrics family)
 * and the reply is sent back to the mapped form.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Route } from '../config/build.ts';
import { serveQuery, type Responder, type ServeStats } from './serve.ts';

function ignoreSendError(): void {
  // A reply that cannot be sent (client gone, EMSGSIZE) is dropped; the client retries.
}

/** "::ffff:10.0.0.1" -> "10.0.0.1"; any other address unchanged. */
export function unmapV4(address: string): string {
  return address.startsWith('::ffff:') && address.indexOf('.') > 0 ? address.slice(7) : address;
}

export class UdpListener implements Responder {
  routes: readonly Route[];
  readonly #stats: ServeStats;
  #socket: Socket | null = null;
  #localAddress = '';
  #localPort = 0;
  #draining = false;
  /** Bound to '::' with IPv4 mapped in: client addresses need mapping both ways. */
  #dualStack = false;

  constructor(routes: readonly Route[], stats: ServeStats) {
    this.routes = routes;
    this.#stats = stats;
  }

  /** Binds `address` ('' = every interface, dual-stack when the host has IPv6). Resolves to the bound port. */
  async listen(address: string, port: number, reusePort = false): Promise<number> {
    const candidates: [('udp4' | 'udp6'), string][] = address === ''
      ? [['udp6', '::'], ['udp4', '0.0.0.0']]
      : [[address.includes(':') ? 'udp6' : 'udp4', address]];
    let lastError: unknown;
    for (const [type, host] of candidates) {
      const socket = createSocket({ type, reuseAddr: reusePort, reusePort, ipv6Only: false });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind({ address: host, port, exclusive: true }, () => { socket.off('error', reject); resolve(); });
        });
      } catch (e) {
        lastError = e;
        socket.close();
        continue;
      }
      socket.on('error', () => { /* per-packet errors (ICMP unreachable) are not fatal */ });
      socket.on('message', (msg, rinfo) => {
        if (this.#draining) return;
        const from = this.#dualStack ? unmapV4(rinfo.address) : rinfo.address;
        serveQuery(msg, 'udp', from, rinfo.port, this.#localAddress, this.#localPort, this.routes, this, this.#stats);
      });
      const a = socket.address();
      this.#dualStack = type === 'udp6' && host === '::';
      this.#socket = socket;
      this.#localAddress = a.address;
      this.#localPort = a.port;
      return a.port;
    }
    throw lastError;
  }

  send(buf: Buffer, port: number, address: string): void {
    // A dual-stack socket cannot send to a plain IPv4 address (EINVAL): map it back.
    const to = this.#dualStack && address.indexOf(':') < 0 ? '::ffff:' + address : address;
    this.#socket?.send(buf, port, to, ignoreSendError);
  }

  get port(): number {
    return this.#localPort;
  }

  /** Ignore new queries but keep the socket, so replies still being produced can be sent. */
  drain(): void {
    this.#draining = true;
  }

  close(): Promise<void> {
    const s = this.#socket;
    this.#socket = null;
    if (!s) return Promise.resolve();
    return new Promise((r) => { s.close(() => r()); });
  }
}
