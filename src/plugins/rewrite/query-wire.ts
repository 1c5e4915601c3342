/**
 * @module plugins/rewrite/query-wire
 * The rewritten query as bytes: the client's header, the new question, and
 * the client's OPT record with its options changed (or one added when an
 * edns0 rule needs it). Plugins after rewrite, forward included, then see an
 * ordinary request whose `raw` is exactly what would be sent upstream.
 */
import { Type } from '../../dns/constants.ts';
import { encodeName, skipName } from '../../dns/name.ts';
import { DnsRequest, parseQuery } from '../../dns/request.ts';

export interface EdnsOption {
  readonly code: number;
  readonly data: Uint8Array;
}

/** The OPT record of a query: its fixed fields and options, or null when it has none. */
export interface OptRecord {
  udpSize: number;
  /** The TTL field: extended rcode, version, DO and Z flags. */
  ttl: number;
  options: EdnsOption[];
}

/** UDP size of an OPT record rewrite adds to a query that had none (DNS flag day 2020). */
const ADDED_UDP_SIZE = 1232;

/** Reads the OPT record of a query parsed as `req` (its bytes are known to be well formed). */
export function readOpt(req: DnsRequest): OptRecord | null {
  if (!req.edns) return null;
  const raw = req.raw;
  const counts = [(raw[6]! << 8) | raw[7]!, (raw[8]! << 8) | raw[9]!, (raw[10]! << 8) | raw[11]!];
  let pos = req.questionEnd;
  for (let i = 0; i < counts[0]! + counts[1]! + counts[2]!; i++) {
    const at = skipName(raw, pos);
    const type = (raw[at]! << 8) | raw[at + 1]!;
    const rdlen = (raw[at + 8]! << 8) | raw[at + 9]!;
    if (type === Type.OPT && i >= counts[0]! + counts[1]!) {
      const options: EdnsOption[] = [];
      for (let p = at + 10; p + 4 <= at + 10 + rdlen;) {
        const code = (raw[p]! << 8) | raw[p + 1]!;
        const len = (raw[p + 2]! << 8) | raw[p + 3]!;
        options.push({ code, data: raw.slice(p + 4, p + 4 + len) });
        p += 4 + len;
      }
      return {
        udpSize: (raw[at + 2]! << 8) | raw[at + 3]!,
        ttl: ((raw[at + 4]! << 24) | (raw[at + 5]! << 16) | (raw[at + 6]! << 8) | raw[at + 7]!) >>> 0,
        options,
      };
    }
    pos = at + 10 + rdlen;
  }
  return null;
}

export function newOpt(): OptRecord {
  return { udpSize: ADDED_UDP_SIZE, ttl: 0, options: [] };
}

/**
 * A request for the new question (and OPT, when `opt` is given; else the
 * client's OPT is kept as it was), from the same client, with the same ID,
 * flags, transport and start time as `from`.
 */
export function rewrittenRequest(from: DnsRequest, qname: string, qtype: number, qclass: number, opt: OptRecord | null | 'keep'): DnsRequest {
  const name = encodeName(qname);
  const keepOpt = opt === 'keep' ? readOpt(from) : opt;
  const optLen = keepOpt === null ? 0 : 11 + keepOpt.options.reduce((n, o) => n + 4 + o.data.length, 0);
  const raw = Buffer.alloc(12 + name.length + 4 + optLen);
  raw[0] = from.raw[0]!; raw[1] = from.raw[1]!; raw[2] = from.raw[2]!; raw[3] = from.raw[3]!;
  raw[5] = 1;
  raw.set(name, 12);
  let p = 12 + name.length;
  raw.writeUInt16BE(qtype, p); raw.writeUInt16BE(qclass, p + 2);
  p += 4;
  if (keepOpt !== null) {
    raw[11] = 1;
    raw[p] = 0;
    raw.writeUInt16BE(Type.OPT, p + 1);
    raw.writeUInt16BE(keepOpt.udpSize, p + 3);
    raw.writeUInt32BE(keepOpt.ttl, p + 5);
    raw.writeUInt16BE(optLen - 11, p + 9);
    p += 11;
    for (const o of keepOpt.options) {
      raw.writeUInt16BE(o.code, p); raw.writeUInt16BE(o.data.length, p + 2);
      raw.set(o.data, p + 4);
      p += 4 + o.data.length;
    }
  }
  const q = parseQuery(raw);
  if (typeof q === 'number') throw new Error(`rewritten query for '${qname}' cannot be read back`);
  const req = new DnsRequest(raw, q, from.transport, from.remoteAddress, from.remotePort, from.localAddress, from.localPort, from.start);
  req.server = from.server;
  req.zone = from.zone;
  req.metadata = from.metadata;
  return req;
}
