/**
 * @module test/support/fake-upstream
 * A scriptable DNS server on 127.0.0.1 (UDP and TCP on one ephemeral port)
 * for forward and cache tests: each query is recorded and answered by a
 * behaviour function, which can answer, stay silent (black hole), truncate,
 * send spoofed packets first, or delay. Replies are written by the server's
 * own writer, so they are well-formed.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { Flag, Type } from '../../src/dns/constants.ts';
import { encodeQuery } from '../../src/dns/message.ts';
import { rrs } from '../../src/dns/rr.ts';
import { Reply, type ReplyInit } from '../../src/dns/reply.ts';
import { DnsRequest, parseQuery, type ParsedQuestion } from '../../src/dns/request.ts';
import { writeReply } from '../../src/dns/response.ts';

export interface FakeQuery {
  readonly transport: 'udp' | 'tcp';
  readonly raw: Buffer;
  readonly id: number;
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly edns: boolean;
  readonly do: boolean;
  /** The sender's source port. */
  readonly remotePort: number;
  readonly req: DnsRequest;
}

export interface FakeAnswer {
  /** The reply; omitted or null: no reply at all (black hole). */
  readonly reply?: ReplyInit | null;
  /** Over UDP, answer with TC=1 and no records instead. */
  readonly truncateUdp?: boolean;
  /** Raw packets sent before the reply (spoofing tests). */
  readonly before?: readonly Buffer[];
  readonly delayMs?: number;
}

export type FakeBehaviour = (q: FakeQuery) => FakeAnswer;

export interface FakeUpstream {
  readonly port: number;
  /** "127.0.0.1:PORT". */
  readonly address: string;
  readonly queries: FakeQuery[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** TCP connections open now. */
  readonly openConnections: number;
  behaviour: FakeBehaviour;
  /** Queries seen for `name` (canonical), optionally of one transport. */
  count(name: string, transport?: 'udp' | 'tcp'): number;
  close(): Promise<void>;
}

/** Reply bytes for `q` as our writer would send them, with optional header patches. */
export function replyBytes(q: FakeQuery, init: ReplyInit, patch: { id?: number; tc?: boolean } = {}): Buffer {
  const out = writeReply(q.req, new Reply(init), { maxUdpSize: 4096 });
  if (patch.id !== undefined) out.writeUInt16BE(patch.id, 0);
  if (patch.tc) { out[2] = out[2]! | (Flag.TC >> 8); out.writeUInt16BE(0, 6); out.writeUInt16BE(0, 8); }
  return out;
}

function toQuery(raw: Buffer, transport: 'udp' | 'tcp', remotePort: number): FakeQuery | null {
  const q = parseQuery(raw);
  if (typeof q === 'number') return null;
  const pq = q as ParsedQuestion;
  const req = new DnsRequest(raw, pq, transport, '127.0.0.1', 0, '127.0.0.1', 0, performance.now());
  return { transport, raw, id: req.id, name: pq.qname, type: pq.qtype, class: pq.qclass, edns: pq.edns, do: pq.do, remotePort, req };
}

export async function startFakeUpstream(behaviour: FakeBehaviour): Promise<FakeUpstream> {
  const queries: FakeQuery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let udp: UdpSocket | null = null;
  let tcp: Server | null = null;
  const state = { behaviour, connections: 0 };

  const respond = (q: FakeQuery, send: (b: Buffer) => void): void => {
    queries.push(q);
    const a = state.behaviour(q);
    const go = (): void => {
      for (const b of a.before ?? []) send(b);
      if (!a.reply) return;
      if (q.transport === 'udp' && a.truncateUdp) send(replyBytes(q, { ...a.reply, answer: [], authority: [], additional: [] }, { tc: true }));
      else send(replyBytes(q, a.reply));
    };
    if (a.delayMs) {
      const t = setTimeout(() => { timers.delete(t); go(); }, a.delayMs);
      timers.add(t);
    } else go();
  };

  for (let attempt = 0; attempt < 20 && tcp === null; attempt++) {
    const u = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      u.once('error', reject);
      u.bind(0, '127.0.0.1', () => resolve(u.address().port));
    });
    const t = createServer((s) => {
      state.connections++;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
      let pending: Buffer = Buffer.alloc(0);
      s.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const len = pending.readUInt16BE(0);
          const raw = Buffer.from(pending.subarray(2, 2 + len));
          pending = pending.subarray(2 + len);
          const q = toQuery(raw, 'tcp', s.remotePort ?? 0);
          if (q) respond(q, (b) => { if (!s.destroyed) { const h = Buffer.alloc(2); h.writeUInt16BE(b.length); s.write(Buffer.concat([h, b])); } });
        }
      });
    });
    const ok = await new Promise<boolean>((resolve) => {
      t.once('error', () => resolve(false));
      t.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!ok) { u.close(); continue; }
    u.on('message', (msg, rinfo) => {
      const q = toQuery(msg, 'udp', rinfo.port);
      if (q) respond(q, (b) => { udp?.send(b, rinfo.port, rinfo.address); });
    });
    udp = u;
    tcp = t;
  }
  if (udp === null || tcp === null) throw new Error('could not bind a fake upstream');
  const port = udp.address().port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    queries,
    get connections() { return state.connections; },
    get openConnections() { return sockets.size; },
    get behaviour() { return state.behaviour; },
    set behaviour(b: FakeBehaviour) { state.behaviour = b; },
    count: (name, transport) => queries.filter((q) => q.name === name && (transport === undefined || q.transport === transport)).length,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      const u = udp!, t = tcp!;
      udp = null;
      await new Promise<void>((r) => u.close(() => r()));
      await new Promise<void>((r) => t.close(() => r()));
    },
  };
}

/** A reply to `q`'s ID for another question (`name` A `ip`): what an off-path spoofer might send. */
export function spoofedReply(q: FakeQuery, name: string, ip: string): Buffer {
  const other = toQuery(encodeQuery(name, Type.A, { id: q.id }), 'udp', 0)!;
  return replyBytes(other, { answer: [rrs.a(name, 300, ip)] });
}

