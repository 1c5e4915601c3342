/**
 * @module bench/dns-wire
 * A minimal DNS-over-UDP client for the harness's own needs: readiness probes
 * (`dns-version.cluster.local TXT`) and the per-peer sanity check. Not a load
 * generator: dnsperf does the load. Kept independent of src/ so the harness
 * works while the server is being written.
 */

import dgram from 'node:dgram';

export const QTYPES: Readonly<Record<string, number>> = {
  A: 1, NS: 2, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33,
};

export const RCODES: readonly string[] = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED',
];

export interface DnsAnswer {
  readonly id: number;
  readonly rcode: string;
  readonly aa: boolean;
  readonly tc: boolean;
  /** Answer-section records whose type is the question's type. */
  readonly matching: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
}

/** Wire form of a query (RD set, like a stub resolver; no EDNS). */
export function encodeQuery(id: number, name: string, qtype: string): Buffer {
  const type = QTYPES[qtype.toUpperCase()];
  if (type === undefined) throw new Error(`unknown qtype ${qtype}`);
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  parts.push(header);
  for (const label of labels) {
    const b = Buffer.from(label, 'ascii');
    if (b.length > 63) throw new Error(`label too long in ${name}`);
    parts.push(Buffer.from([b.length]), b);
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3); // IN
  parts.push(tail);
  return Buffer.concat(parts);
}

function skipName(buf: Buffer, off: number): number {
  for (;;) {
    if (off >= buf.length) throw new Error('truncated name');
    const len = buf[off] ?? 0;
    if ((len & 0xc0) === 0xc0) return off + 2;
    if (len === 0) return off + 1;
    off += 1 + len;
  }
}

/** Header, rcode and how many answers carry the question's type. */
export function decodeResponse(buf: Buffer): DnsAnswer {
  if (buf.length < 12) throw new Error('short response');
  const flags = buf.readUInt16BE(2);
  const qdcount = buf.readUInt16BE(4);
  const ancount = buf.readUInt16BE(6);
  let off = 12;
  let qtype = -1;
  for (let i = 0; i < qdcount; i++) {
    off = skipName(buf, off);
    qtype = buf.readUInt16BE(off);
    off += 4;
  }
  let matching = 0;
  for (let i = 0; i < ancount; i++) {
    off = skipName(buf, off);
    const type = buf.readUInt16BE(off);
    const rdlen = buf.readUInt16BE(off + 8);
    off += 10 + rdlen;
    if (type === qtype) matching++;
  }
  const rc = flags & 0x0f;
  return {
    id: buf.readUInt16BE(0),
    rcode: RCODES[rc] ?? `RCODE${rc}`,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    matching,
    ancount,
    nscount: buf.readUInt16BE(8),
    arcount: buf.readUInt16BE(10),
  };
}

/**
 * A reusable UDP client bound to one server. `query` resolves with the answer
 * or null on timeout; it never rejects for network errors (a refused port
 * during startup is just "no answer yet").
 */
export class DnsClient {
  readonly #socket: dgram.Socket;
  readonly #port: number;
  readonly #host: string;
  readonly #pending = new Map<number, (a: DnsAnswer | null) => void>();
  #nextId = 1;
  #ready: Promise<void>;

  constructor(port: number, host = '127.0.0.1') {
    this.#port = port;
    this.#host = host;
    this.#socket = dgram.createSocket('udp4');
    this.#socket.on('error', () => { /* ICMP unreachable etc.: treated as no answer */ });
    this.#socket.on('message', (msg) => {
      let ans: DnsAnswer;
      try { ans = decodeResponse(msg); } catch { return; }
      const cb = this.#pending.get(ans.id);
      if (cb) { this.#pending.delete(ans.id); cb(ans); }
    });
    this.#ready = new Promise((resolve) => this.#socket.bind(0, '127.0.0.1', () => resolve()));
  }

  async query(name: string, qtype: string, timeoutMs = 500): Promise<DnsAnswer | null> {
    await this.#ready;
    const id = this.#nextId;
    this.#nextId = (this.#nextId % 0xfffe) + 1;
    const packet = encodeQuery(id, name, qtype);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#pending.delete(id); resolve(null); }, timeoutMs);
      this.#pending.set(id, (a) => { clearTimeout(timer); resolve(a); });
      this.#socket.send(packet, this.#port, this.#host, (err) => {
        if (err) { clearTimeout(timer); this.#pending.delete(id); resolve(null); }
      });
    });
  }

  close(): void {
    for (const cb of this.#pending.values()) cb(null);
    this.#pending.clear();
    try { this.#socket.close(); } catch { /* already closed */ }
  }
}
