/**
 * @module dns/request
 * The request view: one query parsed once, without building record objects.
 * Every plugin reads the lower-case name, type, transport, EDNS size, DO bit
 * and client address from here (CoreDNS's request.Request).
 */
import { EDNS_DO, Flag, Opcode, Type } from './constants.ts';
import { lastNameEnd, NameError, readNameText, skipName } from './name.ts';
import { encodeQuery } from './message.ts';

export type Transport = 'udp' | 'tcp';

/** Why a packet was not turned into a request, and what the server does about it. */
export const ParseOutcome = {
  /** Header unreadable, or a response (QR=1): never answered. */
  DROP: 0,
  FORMERR: 1,
  NOTIMP: 2,
  BADVERS: 3,
} as const;
export type ParseOutcome = (typeof ParseOutcome)[keyof typeof ParseOutcome];

export class DnsRequest {
  /** The packet as received. The question bytes are copied from here into the reply (echoing the case). */
  readonly raw: Uint8Array;
  readonly id: number;
  /** Header flags word as received. */
  readonly flags: number;
  readonly opcode: number;
  /** Canonical (lower-case, fully qualified) question name. */
  readonly qname: string;
  readonly qtype: number;
  readonly qclass: number;
  /** Offset just after the question section. */
  readonly questionEnd: number;
  readonly edns: boolean;
  /** Requester's EDNS UDP payload size (at least 512), or 512 without EDNS. */
  readonly udpSize: number;
  readonly ednsVersion: number;
  /** DNSSEC OK bit. */
  readonly do: boolean;
  readonly transport: Transport;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** 4 or 6: the client's address family (coredns_dns_requests_total{family}). */
  readonly family: 4 | 6;
  /** Set by the router: the server label ("dns://:53") and the zone of the block serving it. */
  server = '';
  zone = '';
  /** Metadata labels ("kubernetes/client-namespace") -> value readers; null unless the block has `metadata` (plugin/metadata.ts). */
  metadata: Map<string, () => string> | null = null;
  /** When the request was read, in ms (performance.now()), for durations. */
  readonly start: number;

  constructor(
    raw: Uint8Array, q: ParsedQuestion, transport: Transport,
    remoteAddress: string, remotePort: number, localAddress: string, localPort: number, start: number,
  ) {
    this.raw = raw;
    this.id = (raw[0]! << 8) | raw[1]!;
    this.flags = (raw[2]! << 8) | raw[3]!;
    this.opcode = (raw[2]! >> 3) & 0xf;
    this.qname = q.qname;
    this.qtype = q.qtype;
    this.qclass = q.qclass;
    this.questionEnd = q.questionEnd;
    this.edns = q.edns;
    this.udpSize = q.udpSize;
    this.ednsVersion = q.ednsVersion;
    this.do = q.do;
    this.transport = transport;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.localAddress = localAddress;
    this.localPort = localPort;
    this.family = remoteAddress.includes(':') ? 6 : 4;
    this.start = start;
  }

  /** A request for another question from the same client (autopath, ExternalName targets, loop probes). */
  static synthetic(qname: string, qtype: number, from: DnsRequest | null, transport: Transport = 'udp'): DnsRequest {
    const raw = encodeQuery(qname, qtype, { id: from?.id ?? 0 });
    const q = parseQuery(raw) as ParsedQuestion;
    return new DnsRequest(raw, q, from?.transport ?? transport, from?.remoteAddress ?? '127.0.0.1', from?.remotePort ?? 0,
      from?.localAddress ?? '127.0.0.1', from?.localPort ?? 0, performance.now());
  }

  get recursionDesired(): boolean {
    return (this.flags & Flag.RD) !== 0;
  }
}

export interface ParsedQuestion {
  qname: string;
  qtype: number;
  qclass: number;
  questionEnd: number;
  edns: boolean;
  udpSize: number;
  ednsVersion: number;
  do: boolean;
}

/** A ParsedQuestion to fill again and again (the hot path copies it into its DnsRequest at once). */
export function newParsedQuestion(): ParsedQuestion {
  return { qname: '', qtype: 0, qclass: 0, questionEnd: 0, edns: false, udpSize: 512, ednsVersion: 0, do: false };
}

/**
 * Parses the question and the OPT record. Returns the question, or the
 * outcome for a packet that must not reach the plugins. With `into`, the
 * question is written there and `into` returned (no allocation: the server
 * reuses one and copies it into the request at once).
 */
export function parseQuery(msg: Uint8Array, into?: ParsedQuestion): ParsedQuestion | ParseOutcome {
  if (msg.length < 12) return ParseOutcome.DROP;
  if ((msg[2]! & 0x80) !== 0) return ParseOutcome.DROP;
  const opcode = (msg[2]! >> 3) & 0xf;
  const qd = (msg[4]! << 8) | msg[5]!;
  const an = (msg[6]! << 8) | msg[7]!;
  const ns = (msg[8]! << 8) | msg[9]!;
  const ar = (msg[10]! << 8) | msg[11]!;
  if (qd !== 1) return opcode === Opcode.QUERY ? ParseOutcome.FORMERR : ParseOutcome.NOTIMP;
  const q = into ?? newParsedQuestion();
  try {
    const name = readNameText(msg, 12);
    const end = lastNameEnd();
    if (end + 4 > msg.length) return ParseOutcome.FORMERR;
    q.qname = name;
    q.qtype = (msg[end]! << 8) | msg[end + 1]!;
    q.qclass = (msg[end + 2]! << 8) | msg[end + 3]!;
    q.questionEnd = end + 4;
    q.edns = false;
    q.udpSize = 512;
    q.ednsVersion = 0;
    q.do = false;
    // Skip answer and authority records, then look for OPT among the additional ones.
    let pos = q.questionEnd;
    for (let i = 0; i < an + ns; i++) pos = skipRecord(msg, pos);
    for (let i = 0; i < ar; i++) {
      const nameStart = pos;
      pos = skipName(msg, pos);
      if (pos + 10 > msg.length) return ParseOutcome.FORMERR;
      const type = (msg[pos]! << 8) | msg[pos + 1]!;
      const rdlen = (msg[pos + 8]! << 8) | msg[pos + 9]!;
      if (type === Type.OPT) {
        if (q.edns || msg[nameStart] !== 0) return ParseOutcome.FORMERR; // two OPTs, or OPT not at the root
        q.edns = true;
        const size = (msg[pos + 2]! << 8) | msg[pos + 3]!;
        q.udpSize = size < 512 ? 512 : size;
        q.ednsVersion = msg[pos + 5]!;
        q.do = (((msg[pos + 6]! << 8) | msg[pos + 7]!) & EDNS_DO) !== 0;
      }
      pos += 10 + rdlen;
      if (pos > msg.length) return ParseOutcome.FORMERR;
    }
  } catch (e) {
    if (e instanceof NameError) return ParseOutcome.FORMERR;
    throw e;
  }
  if (opcode !== Opcode.QUERY) return ParseOutcome.NOTIMP;
  if (q.edns && q.ednsVersion > 0) return ParseOutcome.BADVERS;
  return q;
}

/**
 * For a packet that gets an error reply: true when it carries exactly one
 * readable OPT record at the root, so the reply must carry ours (RFC 6891
 * 7). False when any part cannot be read, or the OPT is the problem.
 */
export function hasSingleOpt(msg: Uint8Array): boolean {
  if (msg.length < 12) return false;
  const qd = (msg[4]! << 8) | msg[5]!;
  const an = (msg[6]! << 8) | msg[7]!;
  const ns = (msg[8]! << 8) | msg[9]!;
  const ar = (msg[10]! << 8) | msg[11]!;
  let opts = 0;
  try {
    let pos = 12;
    for (let i = 0; i < qd; i++) {
      pos = skipName(msg, pos) + 4;
      if (pos > msg.length) return false;
    }
    for (let i = 0; i < an + ns; i++) pos = skipRecord(msg, pos);
    for (let i = 0; i < ar; i++) {
      const start = pos;
      pos = skipRecord(msg, pos);
      const typeAt = skipName(msg, start);
      if (((msg[typeAt]! << 8) | msg[typeAt + 1]!) === Type.OPT) {
        if (msg[start] !== 0) return false;
        opts++;
      }
    }
  } catch (e) {
    if (e instanceof NameError) return false;
    throw e;
  }
  return opts === 1;
}

function skipRecord(msg: Uint8Array, pos: number): number {
  const p = skipName(msg, pos);
  if (p + 10 > msg.length) throw new NameError('record runs past the end of the message');
  const rdlen = (msg[p + 8]! << 8) | msg[p + 9]!;
  const end = p + 10 + rdlen;
  if (end > msg.length) throw new NameError('rdata runs past the end of the message');
  return end;
}
