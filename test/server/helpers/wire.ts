/**
 * @module test/server/helpers/wire
 * Raw DNS over real sockets for tests that need bytes the normal clients will
 * not send: hand-made headers, broken names, several OPT records, pipelined
 * TCP frames. Everything talks to 127.0.0.1 only, and every wait is bounded.
 */
import { connect, type Socket } from 'node:net';
import { encodeQuery, type QueryOptions } from '../../../src/dns/message.ts';
import { Type } from '../../../src/dns/constants.ts';

/** A well-formed query (RD set, one question), optionally with EDNS. */
export function query(name: string, type: number = Type.A, opts: QueryOptions = {}): Buffer {
  return encodeQuery(name, type, { id: 0x1234, ...opts });
}

/** A copy of `msg` with header fields replaced. */
export function withHeader(msg: Uint8Array, h: { id?: number; flags?: number; qd?: number; an?: number; ns?: number; ar?: number }): Buffer {
  const out = Buffer.from(msg);
  if (h.id !== undefined) out.writeUInt16BE(h.id, 0);
  if (h.flags !== undefined) out.writeUInt16BE(h.flags, 2);
  if (h.qd !== undefined) out.writeUInt16BE(h.qd, 4);
  if (h.an !== undefined) out.writeUInt16BE(h.an, 6);
  if (h.ns !== undefined) out.writeUInt16BE(h.ns, 8);
  if (h.ar !== undefined) out.writeUInt16BE(h.ar, 10);
  return out;
}

/** `msg` with one more OPT record at the end (ARCOUNT incremented). */
export function appendOpt(msg: Uint8Array, opt: { udpSize?: number; version?: number; do?: boolean; rdata?: Uint8Array; owner?: Uint8Array } = {}): Buffer {
  const owner = opt.owner ?? new Uint8Array([0]);
  const rdata = opt.rdata ?? new Uint8Array(0);
  const rec = Buffer.alloc(owner.length + 10 + rdata.length);
  rec.set(owner, 0);
  let p = owner.length;
  rec.writeUInt16BE(Type.OPT, p); rec.writeUInt16BE(opt.udpSize ?? 1232, p + 2);
  rec[p + 4] = 0; rec[p + 5] = opt.version ?? 0; rec.writeUInt16BE(opt.do ? 0x8000 : 0, p + 6);
  rec.writeUInt16BE(rdata.length, p + 8);
  rec.set(rdata, p + 10);
  const out = Buffer.concat([Buffer.from(msg), rec]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

/** A header (12 bytes) followed by `body`: for hand-built questions. */
export function message(h: { id?: number; flags?: number; qd?: number; an?: number; ns?: number; ar?: number }, body: Uint8Array): Buffer {
  return withHeader(Buffer.concat([Buffer.alloc(12), Buffer.from(body)]), { id: 0x4321, flags: 0x0100, qd: 1, an: 0, ns: 0, ar: 0, ...h });
}

/** Bytes of `...parts` (numbers are bytes, strings are ASCII). */
export function bytes(...parts: (number | string | Uint8Array)[]): Buffer {
  return Buffer.concat(parts.map((p) => typeof p === 'number' ? Buffer.from([p]) : typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)));
}


/** One TCP connection to 127.0.0.1 that splits what it receives into DNS frames. */
export class TcpClient {
  readonly socket: Socket;
  readonly #frames: Buffer[] = [];
  #buf = Buffer.alloc(0);
  #waiter: (() => void) | null = null;
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk]);
      while (this.#buf.length >= 2 && this.#buf.length >= 2 + this.#buf.readUInt16BE(0)) {
        const len = this.#buf.readUInt16BE(0);
        this.#frames.push(this.#buf.subarray(2, 2 + len));
        this.#buf = this.#buf.subarray(2 + len);
      }
      this.#waiter?.();
    });
    socket.on('error', () => { /* the server may reset us; `closed` tells */ });
    this.closedPromise = new Promise((r) => socket.on('close', () => { this.closed = true; this.#waiter?.(); r(); }));
  }

  static connect(port: number, ms = 2000): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port });
      const t = setTimeout(() => { s.destroy(); reject(new Error('connect timed out')); }, ms);
      s.once('connect', () => { clearTimeout(t); resolve(new TcpClient(s)); });
      s.once('error', (e) => { clearTimeout(t); reject(e); });
    });
  }

  /** Length-prefixed frames for `msgs`, in one buffer. */
  static frames(...msgs: Uint8Array[]): Buffer {
    return Buffer.concat(msgs.flatMap((m) => { const h = Buffer.alloc(2); h.writeUInt16BE(m.length); return [h, Buffer.from(m)]; }));
  }

  /** Write `msgs` as length-prefixed frames in a single write. */
  send(...msgs: Uint8Array[]): void {
    this.socket.write(TcpClient.frames(...msgs));
  }

  writeRaw(b: Uint8Array): void {
    this.socket.write(b);
  }

  /** The next frame, or null when none comes within `ms` (or the connection closed). */
  async next(ms = 1000): Promise<Buffer | null> {
    const deadline = Date.now() + ms;
    while (this.#frames.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return null;
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.#waiter = () => { clearTimeout(t); r(); }; });
      this.#waiter = null;
    }
    return this.#frames.shift()!;
  }

  /** Resolves true when the connection closes within `ms`. */
  async waitClosed(ms: number): Promise<boolean> {
    if (this.closed) return true;
    return Promise.race([this.closedPromise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  }

  close(): void {
    this.socket.destroy();
  }
}
