/**
 * @module server/udp-listener
 * One UDP socket on one address and port. Its routes are swapped in place on
 * reload, so the socket (and every query in flight on it) stays.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Route } from '../config/build.ts';
import { serveQuery, type Responder, type ServeStats } from './serve.ts';

function ignoreSendError(): void {
  // A reply that cannot be sent (client gone, EMSGSIZE) is dropped; the client retries.
}

export class UdpListener implements Responder {
  routes: readonly Route[];
  readonly #stats: ServeStats;
  #socket: Socket | null = null;
  #localAddress = '';
  #localPort = 0;
  #draining = false;

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
        serveQuery(msg, 'udp', rinfo.address, rinfo.port, this.#localAddress, this.#localPort, this.routes, this, this.#stats);
      });
      const a = socket.address();
      this.#socket = socket;
      this.#localAddress = a.address;
      this.#localPort = a.port;
      return a.port;
    }
    throw lastError;
  }

  send(buf: Buffer, port: number, address: string): void {
    this.#socket?.send(buf, port, address, ignoreSendError);
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
