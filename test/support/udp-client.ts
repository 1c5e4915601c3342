/**
 * @module test/support/udp-client
 * The one UDP DNS client of the tests. Its socket is always bound to
 * loopback (127.0.0.1, or ::1 for an IPv6 server) before anything is sent,
 * so no test ever sits on 0.0.0.0. It can send raw bytes and collect every
 * datagram (malformed-packet tests), or send a query and match the reply by
 * ID (load tests: thousands of queries on one socket). Every wait is bounded.
 */
import { createSocket, type Socket } from 'node:dgram';
import { decodeMessage, encodeQuery, type DecodedMessage, type QueryOptions } from '../../src/dns/message.ts';

/** Loopback address of the family of `host` (the client binds there). */
function loopbackFor(host: string): string {
  return host.includes(':') ? '::1' : '127.0.0.1';
}

/** Open and bind a UDP socket on loopback; resolves when bound. */
export async function bindLoopbackUdp(host = '127.0.0.1', port = 0): Promise<Socket> {
  const local = loopbackFor(host);
  const s = createSocket(local === '::1' ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, local, () => { s.off('error', reject); resolve(); });
  });
  return s;
}

export class UdpClient {
  readonly #socket: Socket;
  readonly #host: string;
  readonly #port: number;
  readonly #queue: Buffer[] = [];
  readonly #pending = new Map<number, (m: Buffer) => void>();
  #waiter: (() => void) | null = null;
  #nextId = 1;
  #closed = false;

  private constructor(socket: Socket, host: string, port: number) {
    this.#socket = socket;
    this.#host = host;
    this.#port = port;
    socket.on('message', (m) => {
      const done = m.length >= 2 ? this.#pending.get(m.readUInt16BE(0)) : undefined;
      if (done) { this.#pending.delete(m.readUInt16BE(0)); done(m); return; }
      this.#queue.push(m);
      this.#waiter?.();
    });
  }

  /** A client for the server at `host`:`serverPort` (default 127.0.0.1), bound to loopback. */
  static async open(serverPort: number, host = '127.0.0.1'): Promise<UdpClient> {
    return new UdpClient(await bindLoopbackUdp(host), host, serverPort);
  }

  /** The local port this client sends from. */
  get localPort(): number {
    return this.#socket.address().port;
  }

  send(msg: Uint8Array): void {
    this.#socket.send(msg, this.#port, this.#host);
  }

  /** The next datagram not claimed by `query`, or null when none comes within `ms`. */
  async next(ms = 1000): Promise<Buffer | null> {
    const deadline = Date.now() + ms;
    while (this.#queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.#waiter = () => { clearTimeout(t); r(); }; });
      this.#waiter = null;
    }
    return this.#queue.shift()!;
  }

  /** The next datagram whose ID is `id` (others are discarded), or null within `ms`. */
  async nextWithId(id: number, ms = 1000): Promise<Buffer | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = await this.next(Math.max(0, deadline - Date.now()));
      if (m === null) return null;
      if (m.length >= 2 && m.readUInt16BE(0) === id) return m;
    }
  }

  /** Send raw bytes and wait for the next datagram. */
  async exchange(msg: Uint8Array, ms = 1000): Promise<Buffer | null> {
    this.#queue.length = 0;
    this.send(msg);
    return this.next(ms);
  }

  /** One query with a fresh ID, its reply matched by ID; rejects after `timeoutMs` without one. */
  query(name: string, type: number, opts: QueryOptions & { timeoutMs?: number } = {}): Promise<DecodedMessage> {
    const id = this.#nextId;
    this.#nextId = (this.#nextId % 0xffff) + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.#pending.delete(id); reject(new Error(`no reply to ${name} (id ${id})`)); }, opts.timeoutMs ?? 2000);
      this.#pending.set(id, (m) => {
        clearTimeout(timer);
        try { resolve(decodeMessage(m)); } catch (e) { reject(e instanceof Error ? e : new Error(String(e))); }
      });
      const { timeoutMs: _t, ...query } = opts;
      this.send(encodeQuery(name, type, { ...query, id }));
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((r) => { this.#socket.close(() => r()); });
  }
}
