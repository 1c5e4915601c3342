/**
 * @module server/udp-batch/batch-listener
 * The UDP listener on the native addon: the same contract as UdpListener
 * (routes swapped in place, drain, close, IPv4 clients of a dual-stack socket
 * seen as plain IPv4), but datagrams arrive in batches (recvmmsg) and the
 * replies written while a batch is served leave together (sendmmsg). Per
 * datagram that saves what node:dgram does around the query: a libuv read
 * and a JS callback, the sender's address formatted as a string, a Buffer,
 * and on the way out a send request, a lookup and a syscall.
 *
 * A request keeps a view of its datagram (DnsRequest.raw). While a batch's
 * queries are all answered synchronously the input slab is reused; when one
 * waits on I/O (a Promise), the next batch gets a fresh slab, so the waiting
 * request's bytes stay as they were.
 */
import { constants } from 'node:os';
import type { Route } from '../../config/build.ts';
import { bytesToIp } from '../../dns/ip.ts';
import { ReplyScratch } from '../../dns/response.ts';
import { serveQuery, type Responder, type ServeStats } from '../serve.ts';
import { UDP_RECV_BUFFER_BYTES } from '../udp-listener.ts';
import type { UdpBatchAddon, UdpBatchHandle } from './addon.ts';

/** Bytes per datagram in the input slab: a larger query is dropped (no DNS client sends one over UDP). */
const SLOT = 4096;
/** Int32s per datagram in the input metadata, and per reply in the output metadata (see udp-batch.c). */
const IN_META = 8;
const OUT_META = 3;
/** Output slab: the replies of one batch; one that does not fit is sent on its own. */
const OUT_BYTES = 128 * 1024;
/** Most client addresses remembered as strings (one formatting per client, not per query). */
const MAX_NAMES = 4096;

/** An error like node:dgram's for a failed bind: "bind EADDRINUSE 127.0.0.1:53", with code and errno. */
function errnoError(op: string, errno: number, address: string, port: number): Error {
  const code = Object.entries(constants.errno).find(([, v]) => v === -errno)?.[0] ?? `E${-errno}`;
  const e = new Error(`${op} ${code} ${address}:${port}`) as NodeJS.ErrnoException;
  e.errno = errno;
  e.code = code;
  e.syscall = op;
  return e;
}

export class BatchUdpListener implements Responder {
  routes: readonly Route[];
  readonly #addon: UdpBatchAddon;
  readonly #stats: ServeStats;
  #handle: UdpBatchHandle | null = null;
  #in: Buffer;
  readonly #inMeta: Int32Array;
  readonly #inMetaBytes: Uint8Array;
  readonly #out = Buffer.allocUnsafe(OUT_BYTES);
  readonly #outMeta: Int32Array;
  #localAddress = '';
  #localPort = 0;
  #draining = false;
  /** Serving datagram #current of a batch (-1 outside a batch): a reply sent now goes into the output slab. */
  #current = -1;
  #replies = 0;
  #outUsed = 0;
  /** Replies are written here: send() copies each into the output slab, or sends it at once (MSG_DONTWAIT). */
  readonly scratch = new ReplyScratch();
  readonly #v4Names = new Map<number, string>();
  /** Batches read and datagrams in them, so far (diagnostics, tests). */
  batches = 0;
  datagrams = 0;

  constructor(addon: UdpBatchAddon, routes: readonly Route[], stats: ServeStats) {
    this.#addon = addon;
    this.routes = routes;
    this.#stats = stats;
    this.#in = Buffer.allocUnsafe(SLOT * addon.BATCH);
    this.#inMeta = new Int32Array(IN_META * addon.BATCH);
    this.#inMetaBytes = new Uint8Array(this.#inMeta.buffer);
    this.#outMeta = new Int32Array(OUT_META * addon.BATCH);
  }

  /** Binds `address` ('' = every interface, dual-stack when the host has IPv6). Resolves to the bound port. */
  async listen(address: string, port: number, reusePort = false): Promise<number> {
    const candidates: [4 | 6, string][] = address === ''
      ? [[6, '::'], [4, '0.0.0.0']]
      : [[address.includes(':') ? 6 : 4, address]];
    let last = 0;
    for (const [family, host] of candidates) {
      const r = this.#addon.open(family, host, port, reusePort, this.#in, SLOT, this.#inMeta, this.#out, this.#outMeta, this.#onBatch, UDP_RECV_BUFFER_BYTES);
      if (typeof r === 'number') { last = r; continue; }
      this.#handle = r[0];
      this.#localAddress = host;
      this.#localPort = r[1];
      return r[1];
    }
    throw errnoError('bind', last, address, port);
  }

  /** Serves `n` datagrams of the input slab; returns the number of replies written to the output slab. */
  readonly #onBatch = (n: number): number => {
    this.#replies = 0;
    this.#outUsed = 0;
    this.batches++;
    this.datagrams += n;
    if (this.#draining) return 0;
    const meta = this.#inMeta;
    const inflight = this.#stats.inflight;
    const slab = this.#in;
    // The batch was read at once: one clock reading stands for all of its queries.
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const m = i * IN_META;
      const len = meta[m]!;
      if (meta[m + 1] !== 0 || len > SLOT) { this.#stats.dropped++; continue; }
      this.#current = i;
      const offset = i * SLOT;
      serveQuery(slab.subarray(offset, offset + len), 'udp', this.#sender(i), meta[m + 3]!, this.#localAddress, this.#localPort,
        this.routes, this, this.#stats, start);
    }
    this.#current = -1;
    // A query of this batch waits on I/O and holds a view of the slab: the next batch reads into a new one.
    if (this.#stats.inflight > inflight && this.#handle !== null) {
      this.#in = Buffer.allocUnsafe(SLOT * this.#addon.BATCH);
      this.#addon.setInput(this.#handle, this.#in);
    }
    return this.#replies;
  };

  /** The sender of datagram i as text: IPv4 remembered by its 32-bit value, IPv6 formatted each time (rare). */
  #sender(i: number): string {
    const m = i * IN_META;
    if (this.#inMeta[m + 2] === 4) {
      const key = this.#inMeta[m + 4]!;
      let name = this.#v4Names.get(key);
      if (name === undefined) {
        const at = (m + 4) * 4;
        const b = this.#inMetaBytes;
        name = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
        if (this.#v4Names.size >= MAX_NAMES) this.#v4Names.clear();
        this.#v4Names.set(key, name);
      }
      return name;
    }
    const at = (m + 4) * 4;
    return bytesToIp(this.#inMetaBytes.subarray(at, at + 16));
  }

  send(buf: Buffer, port: number, address: string): void {
    const handle = this.#handle;
    if (handle === null) return;
    const i = this.#current;
    if (i < 0) {
      // A reply that was waited for: on its own (a failure is dropped; the client retries).
      this.#addon.sendTo(handle, buf, port, address);
      return;
    }
    const at = this.#outUsed;
    if (at + buf.length > OUT_BYTES || this.#replies >= this.#addon.BATCH) {
      this.#addon.sendIndexed(handle, buf, i);
      return;
    }
    this.#out.set(buf, at);
    const k = this.#replies * OUT_META;
    this.#outMeta[k] = at;
    this.#outMeta[k + 1] = buf.length;
    this.#outMeta[k + 2] = i;
    this.#outUsed = at + buf.length;
    this.#replies++;
  }

  get port(): number {
    return this.#localPort;
  }

  /** The socket's receive buffer as the kernel reports it (Linux doubles what it grants), as UdpListener's; null when unknown. */
  get recvBufferBytes(): number | null {
    if (this.#handle === null || this.#addon.recvBufferSize === undefined) return null;
    const n = this.#addon.recvBufferSize(this.#handle);
    return n > 0 ? n : null;
  }

  /** Ignore new queries but keep the socket, so replies still being produced can be sent. */
  drain(): void {
    this.#draining = true;
    if (this.#handle !== null) this.#addon.pause(this.#handle);
  }

  /**
   * Resolves once the socket is closed and its port free. The addon closes the
   * fd in libuv's close callback, which runs in the closing phase of the loop
   * iteration that called uv_close; an immediate queued from an immediate runs
   * in the check phase after that closing phase.
   */
  close(): Promise<void> {
    const h = this.#handle;
    this.#handle = null;
    if (h === null) return Promise.resolve();
    this.#addon.close(h);
    return new Promise((resolve) => { setImmediate(() => setImmediate(resolve)); });
  }
}
