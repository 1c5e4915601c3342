/**
 * @module dns/message
 * Whole-message decoding and query encoding, for the paths that talk to other
 * servers (forward, loop, health checks) and for tests. Not used to answer
 * queries: that is request.ts + response.ts.
 */
import { Class, EDNS_DO, Type } from './constants.ts';
import { encodeName, readName, NameError } from './name.ts';
import { Reply } from './reply.ts';
import { rr, type RR } from './rr.ts';

export interface Question { readonly name: string; readonly type: number; readonly class: number }

export interface DecodedMessage {
  readonly id: number;
  readonly flags: number;
  readonly rcode: number;
  readonly question: readonly Question[];
  readonly answer: readonly RR[];
  readonly authority: readonly RR[];
  /** Additional records without the OPT. */
  readonly additional: readonly RR[];
  readonly edns: { readonly udpSize: number; readonly version: number; readonly do: boolean } | null;
}

/** Rdata layouts with names inside: each entry says which fields are names (n), 16/32-bit ints (2/4) or the rest (r). */
const nameLayouts = new Map<number, string>([
  [Type.CNAME, 'n'], [Type.PTR, 'n'], [Type.NS, 'n'], [Type.MX, '2n'], [Type.SRV, '222n'], [Type.SOA, 'nn44444'],
]);

/** Decodes a whole message; names inside known rdata are decompressed so records stand alone. */
export function decodeMessage(msg: Uint8Array): DecodedMessage {
  if (msg.length < 12) throw new NameError('message shorter than a header');
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const id = v.getUint16(0), flags = v.getUint16(2);
  const counts = [v.getUint16(4), v.getUint16(6), v.getUint16(8), v.getUint16(10)];
  let pos = 12;
  const question: Question[] = [];
  for (let i = 0; i < counts[0]!; i++) {
    const { name, end } = readName(msg, pos);
    if (end + 4 > msg.length) throw new NameError('truncated question');
    question.push({ name, type: v.getUint16(end), class: v.getUint16(end + 2) });
    pos = end + 4;
  }
  const sections: RR[][] = [[], [], []];
  let edns: DecodedMessage['edns'] = null;
  let extRcode = 0;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const { name, end } = readName(msg, pos);
      if (end + 10 > msg.length) throw new NameError('truncated record');
      const type = v.getUint16(end), cls = v.getUint16(end + 2), ttl = v.getUint32(end + 4), rdlen = v.getUint16(end + 8);
      const start = end + 10;
      if (start + rdlen > msg.length) throw new NameError('truncated rdata');
      pos = start + rdlen;
      if (type === Type.OPT) {
        extRcode = ttl >>> 24;
        edns = { udpSize: cls, version: (ttl >>> 16) & 0xff, do: (ttl & EDNS_DO) !== 0 };
        continue;
      }
      sections[s]!.push(rr(name, type, ttl, decompressRdata(msg, type, start, rdlen), cls));
    }
  }
  return {
    id, flags, rcode: (extRcode << 4) | (flags & 0xf), question,
    answer: sections[0]!, authority: sections[1]!, additional: sections[2]!, edns,
  };
}

function decompressRdata(msg: Uint8Array, type: number, start: number, len: number): Uint8Array {
  const layout = nameLayouts.get(type);
  if (!layout) return msg.slice(start, start + len);
  const parts: Uint8Array[] = [];
  let p = start;
  for (const f of layout) {
    if (f === 'n') {
      const { name, end } = readName(msg, p);
      parts.push(encodeName(name));
      p = end;
    } else {
      const n = Number(f);
      parts.push(msg.slice(p, p + n));
      p += n;
    }
  }
  if (p !== start + len) throw new NameError('rdata length does not match its contents');
  return Buffer.concat(parts);
}

export interface QueryOptions {
  id?: number;
  rd?: boolean;
  cd?: boolean;
  /** Add an OPT record with this UDP size. */
  udpSize?: number;
  do?: boolean;
  qclass?: number;
}

/** Encodes a query for one question. */
export function encodeQuery(name: string, type: number, opts: QueryOptions = {}): Buffer {
  const qn = encodeName(name);
  const opt = opts.udpSize !== undefined ? 11 : 0;
  const out = Buffer.alloc(12 + qn.length + 4 + opt);
  out.writeUInt16BE(opts.id ?? 0, 0);
  out.writeUInt16BE((opts.rd ?? true ? 0x0100 : 0) | (opts.cd ? 0x0010 : 0), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(opt ? 1 : 0, 10);
  out.set(qn, 12);
  out.writeUInt16BE(type, 12 + qn.length);
  out.writeUInt16BE(opts.qclass ?? Class.IN, 14 + qn.length);
  if (opt) {
    const at = 16 + qn.length;
    out.writeUInt16BE(Type.OPT, at + 1);
    out.writeUInt16BE(opts.udpSize!, at + 3);
    out.writeUInt16BE(opts.do ? EDNS_DO : 0, at + 7);
  }
  return out;
}

/** A decoded upstream message as a Reply a plugin can return. */
export function replyFromMessage(m: DecodedMessage, plugin: string): Reply {
  return new Reply({
    rcode: m.rcode, authoritative: (m.flags & 0x0400) !== 0, recursionAvailable: (m.flags & 0x0080) !== 0,
    answer: m.answer, authority: m.authority, additional: m.additional, plugin,
  });
}
