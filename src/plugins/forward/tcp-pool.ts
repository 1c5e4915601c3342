/**
 * @module plugins/forward/tcp-pool
 * Pooled TCP connections to one upstream. A connection carries several
 * queries at once (RFC 7766 pipelining), told apart by message ID; a query
 * goes to the least busy open connection, and a new one is dialled when all
 * carry PIPELINE_DEPTH queries already (upstreams such as dnsmasq answer one
 * connection's queries one at a time). A connection idle for `expire` is
 * closed. Replies that match no in-flight query, or whose question differs
 * from it, are dropped. With TLS options the connections are DNS over TLS
 * (RFC 7858), pooled and reused the same way: one handshake serves many queries.
 * Each query's read deadline is an entry in the forward's one DeadlineQueue
 * (as on UDP), not a timer of its own: a black-holed TCP or TLS upstream then
 * expires its backlog in bounded slices too.
 */
import { frameEnd } from '../../dns/tcp-frame.ts';
import { connect, type Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { sharedDeadlines, type DeadlineEntry, type DeadlineQueue } from './deadlines.ts';
import { answersQuery, idOf, randomId, setId, UpstreamError, type UpstreamQuery } from './wire.ts';

/** In-flight queries per connection before another connection is dialled. */
export const PIPELINE_DEPTH = 8;
/** Connections per upstream at most; beyond it queries queue on the least busy one. */
export const MAX_CONNECTIONS = 64;

export interface TcpTarget {
  readonly host: string;
  readonly port: number;
  readonly label: string;
  /** DNS over TLS: the client side's options (CA, client certificate, server name); null for plain TCP. */
  readonly tls: ConnectionOptions | null;
}

/** Told about each query: reused an open connection (hit) or dialled one (miss). */
export interface ConnCacheCounter {
  hit(): void;
  miss(): void;
}

interface Pending {
  readonly query: UpstreamQuery;
  readonly resolve: (b: Buffer) => void;
  readonly reject: (e: Error) => void;
  readonly deadline: DeadlineEntry;
}

class TcpConnection {
  readonly #pool: TcpPool;
  readonly socket: Socket;
  readonly pending = new Map<number, Pending>();
  connected = false;
  closed = false;
  #buffer: Buffer | null = null;
  #idle: NodeJS.Timeout | null = null;

  constructor(pool: TcpPool, target: TcpTarget) {
    this.#pool = pool;
    const tls = target.tls;
    this.socket = tls === null
      ? connect({ host: target.host, port: target.port, noDelay: true })
      // node:tls loads on the first tls:// connection, not at start: ~3 MiB of RSS (on top of node:http, net and crypto).
      : process.getBuiltinModule('node:tls').connect({ ...tls, host: target.host, port: target.port });
    if (tls !== null) this.socket.setNoDelay(true);
    // Over TLS the connection is up once the handshake (and the certificate check) is done; queries written before wait in the stream.
    this.socket.on(tls === null ? 'connect' : 'secureConnect', () => { this.connected = true; });
    this.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.socket.on('error', (e) => this.close(UpstreamError.from(e, target.label, 'tcp')));
    this.socket.on('close', () => this.close(new UpstreamError('ECLOSED', target.label, `tcp ${target.label}: connection closed`)));
  }

  /** Sends `query` (its ID made unique on this connection) and waits for the matching reply. */
  send(query: UpstreamQuery, timeoutMs: number): Promise<Buffer> {
    let id = idOf(query.bytes);
    for (let i = 0; this.pending.has(id) && i < 64; i++) id = randomId();
    if (this.pending.has(id)) return Promise.reject(new UpstreamError('EBUSY', this.#pool.target.label, 'no free message ID'));
    setId(query.bytes, id);
    if (this.#idle) { clearTimeout(this.#idle); this.#idle = null; }
    return new Promise<Buffer>((resolve, reject) => {
      const deadline = this.#pool.deadlines.add(timeoutMs, () => this.#timeout(id));
      this.pending.set(id, { query, resolve, reject, deadline });
      const frame = Buffer.allocUnsafe(2 + query.bytes.length);
      frame.writeUInt16BE(query.bytes.length, 0);
      frame.set(query.bytes, 2);
      this.socket.write(frame);
    });
  }

  #timeout(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    const label = this.#pool.target.label;
    p.reject(new UpstreamError('ETIMEDOUT', label, `read tcp ${label}: i/o timeout`));
    // A connection that never came up is no use to anyone.
    if (!this.connected) this.close(new UpstreamError('ETIMEDOUT', label, `dial tcp ${label}: i/o timeout`));
    else this.#idleCheck();
  }

  #onData(chunk: Buffer): void {
    const buf = this.#buffer === null ? chunk : Buffer.concat([this.#buffer, chunk]);
    let off = 0;
    for (let end = frameEnd(buf, off); end >= 0; end = frameEnd(buf, off)) {
      const msg = buf.subarray(off + 2, end);
      off = end;
      if (msg.length < 12) continue;
      const p = this.pending.get(idOf(msg));
      if (!p || !answersQuery(p.query.bytes, p.query.questionEnd, msg)) continue;
      this.pending.delete(idOf(msg));
      this.#pool.deadlines.cancel(p.deadline);
      p.resolve(Buffer.from(msg));
    }
    this.#buffer = off === buf.length ? null : Buffer.from(buf.subarray(off));
    this.#idleCheck();
  }

  #idleCheck(): void {
    if (this.pending.size > 0 || this.closed || this.#idle) return;
    if (this.#pool.closing) { this.close(null); return; }
    this.#idle = setTimeout(() => this.close(null), this.#pool.expireMs);
    this.#idle.unref();
  }

  /** Closes the connection; in-flight queries fail with `reason` (ECLOSED lets forward retry on a new one). */
  close(reason: UpstreamError | null): void {
    if (this.closed) return;
    this.closed = true;
    if (this.#idle) clearTimeout(this.#idle);
    this.socket.destroy();
    this.#pool.forget(this);
    const err = reason ?? new UpstreamError('ECLOSED', this.#pool.target.label, `tcp ${this.#pool.target.label}: connection closed`);
    const deadlines = this.#pool.deadlines;
    for (const p of this.pending.values()) { deadlines.cancel(p.deadline); p.reject(err); }
    this.pending.clear();
  }
}

export class TcpPool {
  readonly target: TcpTarget;
  readonly expireMs: number;
  readonly #counter: ConnCacheCounter | null;
  /** Where every query's read deadline is kept: the forward's queue, shared with its UDP exchanges. */
  readonly deadlines: DeadlineQueue;
  readonly #conns = new Set<TcpConnection>();
  closing = false;

  constructor(target: TcpTarget, expireMs: number, counter: ConnCacheCounter | null = null, deadlines: DeadlineQueue = sharedDeadlines) {
    this.target = target;
    this.expireMs = expireMs;
    this.#counter = counter;
    this.deadlines = deadlines;
  }

  /** Open connections (tests). */
  get size(): number {
    return this.#conns.size;
  }

  /** Sends `query` over a pooled connection; resolves with the matching reply. */
  exchange(query: UpstreamQuery, timeoutMs: number): Promise<Buffer> {
    if (this.closing) return Promise.reject(new UpstreamError('ECLOSED', this.target.label, 'forwarder is shutting down'));
    let best: TcpConnection | null = null;
    for (const c of this.#conns) if (best === null || c.pending.size < best.pending.size) best = c;
    if (best !== null && (best.pending.size < PIPELINE_DEPTH || this.#conns.size >= MAX_CONNECTIONS)) {
      this.#counter?.hit();
      return best.send(query, timeoutMs);
    }
    this.#counter?.miss();
    const conn = new TcpConnection(this, this.target);
    this.#conns.add(conn);
    return conn.send(query, timeoutMs);
  }

  /** Whether this query would reuse an open connection: a retry after ECLOSED on a reused one is worth it. */
  hasOpen(): boolean {
    return this.#conns.size > 0;
  }

  forget(conn: TcpConnection): void {
    this.#conns.delete(conn);
  }

  /** Close idle connections now and busy ones once their queries are answered (or time out). */
  close(): void {
    this.closing = true;
    for (const c of [...this.#conns]) if (c.pending.size === 0) c.close(null);
  }

  /** Close everything now. */
  destroy(): void {
    this.closing = true;
    for (const c of [...this.#conns]) c.close(null);
  }
}
