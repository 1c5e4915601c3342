/**
 * @module server/udp-listener
 * One UDP socket on one address and port. Its routes are swapped in place on
 * reload, so the socket (and every query in flight on it) stays. On a
 * dual-stack socket (no `bind`), IPv4 clients arrive as "::ffff:a.b.c.d";
 * the request sees the plain IPv4 address (logs, acl, whoami, metrics family)
 * and the reply is sent back to the mapped form.
 */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import type { Route } from '../config/build.ts';
import { unmapIPv4 } from '../dns/ip.ts';
import { ReplyScratch } from '../dns/response.ts';
import { serveQuery, type Responder, type ServeStats } from './serve.ts';

/**
 * The socket's "resolver": every address it sees is already an IP literal
 * (bind addresses are canonical IPs, replies go to the address a query came
 * from), so it answers at once. dgram's default resolves literals too, but
 * through isIP() and a process.nextTick per send: a closure, a tick and a
 * regular expression (for IPv6) per reply, and a send that happens only
 * after the query's handler returned.
 */
const literalLookup: NonNullable<SocketOptions['lookup']> = (address, family, callback) => {
  // dgram passes the socket's family as a number (4 or 6), whatever the typings say.
  callback(null, address, typeof family === 'number' ? family : (family.family === 6 ? 6 : 4));
};

/**
 * Receive buffer asked for each listening socket: room for a burst of some
 * 8,000 small queries while the event loop is busy (Linux's default, 208 KiB,
 * holds about 400 with the kernel's per-datagram overhead). The kernel caps
 * it at net.core.rmem_max; what it granted is in the start-up log.
 */
export const UDP_RECV_BUFFER_BYTES = 4 * 1024 * 1024;

export class UdpListener implements Responder {
  routes: readonly Route[];
  readonly #stats: ServeStats;
  #socket: Socket | null = null;
  #localAddress = '';
  #localPort = 0;
  #draining = false;
  /** Bound to '::' with IPv4 mapped in: client addresses need mapping both ways. */
  #dualStack = false;
  // One-entry memo of the mapping (clients repeat): no string sliced per query and none built per reply.
  #mappedFrom = '';
  #unmapped = '';
  #scratch = new ReplyScratch();

  /**
   * Where the next reply may be written: the reused memory, or null (a new
   * buffer of the reply's size) while dgram still holds queued sends. Why:
   * node:dgram hands a reply to the kernel during send() (libuv's try-send)
   * unless the socket's send queue is backed up; a queued send keeps the
   * bytes it was handed, so the scratch must not be written again, and a new
   * scratch (4 KiB plus its view table) per queued reply would be garbage.
   */
  get scratch(): ReplyScratch | null {
    const s = this.#socket;
    return s !== null && s.getSendQueueCount() > 0 ? null : this.#scratch;
  }

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
      const socket = createSocket({ type, reuseAddr: reusePort, reusePort, ipv6Only: false, lookup: literalLookup });
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
      try { socket.setRecvBufferSize(UDP_RECV_BUFFER_BYTES); } catch { /* not allowed here: the default stays */ }
      socket.on('error', () => { /* per-packet errors (ICMP unreachable) are not fatal */ });
      socket.on('message', (msg, rinfo) => {
        if (this.#draining) return;
        const from = this.#dualStack ? this.#unmap(rinfo.address) : rinfo.address;
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

  #unmap(address: string): string {
    if (address === this.#mappedFrom) return this.#unmapped;
    const plain = unmapIPv4(address);
    this.#mappedFrom = address;
    this.#unmapped = plain;
    return plain;
  }

  send(buf: Buffer, port: number, address: string): void {
    // A dual-stack socket cannot send to a plain IPv4 address (EINVAL): map it back.
    let to = address;
    if (this.#dualStack && address.indexOf(':') < 0) to = address === this.#unmapped ? this.#mappedFrom : '::ffff:' + address;
    // No callback: a reply that cannot be sent (client gone, EMSGSIZE) is dropped and the client retries;
    // with one, dgram would queue a process.nextTick per reply just to call it.
    const s = this.#socket;
    if (s === null) return;
    s.send(buf, port, to);
    // Not sent yet (queued in libuv): those bytes must stay as they are, so a reply written in the
    // scratch that got queued retires it; replies written while the queue is backed up have their own.
    if (this.#scratch.holds(buf) && s.getSendQueueCount() > 0) this.#scratch = new ReplyScratch();
  }

  get port(): number {
    return this.#localPort;
  }

  /** The socket's receive buffer as the kernel reports it (Linux doubles what it grants, for its bookkeeping). */
  get recvBufferBytes(): number | null {
    try { return this.#socket?.getRecvBufferSize() ?? null; } catch { return null; }
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
