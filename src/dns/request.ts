/**
 * @module dns/request
 * The request view: one query parsed once, without building record objects.
 * Every plugin reads the lower-case name, type, transport, EDNS size, DO bit
 * and client address from here (CoreDNS's request.Request).
 */
import { EDNS_DO, Flag, Opcode, Type } from './constants.ts';
import { isSubdomain, lastNameEnd, lastPlainHash, plainNameIs, plainNameUnder, readNameText, scanPlainName, skipName } from './name.ts';
import { encodeQuery } from './message.ts';

export type Transport = 'udp' | 'tcp';

/**
 * A `start` that means "now": refill reads the clock itself (stampNow).
 * Measured (bench/micro.ts --steady): serveQuery reading performance.now()
 * as its default argument cost 16 B a query, a boxed double (a double
 * returned from, or passed to, a call V8 did not inline is a new HeapNumber).
 */
export const START_NOW = -1;

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Why a packet was not turned into a request, and what the server does about it. */
export const ParseOutcome = {
  /** Header unreadable, or a response (QR=1): never answered. */
  DROP: 0,
  FORMERR: 1,
  NOTIMP: 2,
  BADVERS: 3,
} as const;
export type ParseOutcome = (typeof ParseOutcome)[keyof typeof ParseOutcome];

/**
 * Sets `start` to now. Small enough for V8 to inline the clock read here,
 * so its double goes straight into the request's double field (written in
 * place) and is never boxed; read in serveQuery, too big a function for
 * that, it came back as a new HeapNumber (16 B a query).
 */
function stampNow(w: { start: number }): void {
  w.start = performance.now();
}

export class DnsRequest {
  /** The packet as received. The question bytes are copied from here into the reply (echoing the case). */
  readonly raw!: Uint8Array;
  readonly id!: number;
  /** Header flags word as received. */
  readonly flags!: number;
  readonly opcode!: number;
  /**
   * The canonical question name's text, or '' while it is not built: a
   * plain name (dns/name.ts scanPlainName) read by the server is matched in
   * place (under, nameHash), and its text is built on first read of qname,
   * or taken from the table that found it (adoptName), never per query.
   */
  #qname = '';
  /** The hash of a plain question name not yet built (scanPlainName), else -1. */
  #plainHash = -1;
  readonly qtype!: number;
  readonly qclass!: number;
  /** Offset just after the question section. */
  readonly questionEnd!: number;
  readonly edns!: boolean;
  /** Requester's EDNS UDP payload size (at least 512), or 512 without EDNS. */
  readonly udpSize!: number;
  readonly ednsVersion!: number;
  /** DNSSEC OK bit. */
  readonly do!: boolean;
  readonly transport!: Transport;
  readonly remoteAddress!: string;
  readonly remotePort!: number;
  readonly localAddress!: string;
  readonly localPort!: number;
  /** 4 or 6: the client's address family (coredns_dns_requests_total{family}). */
  readonly family!: 4 | 6;
  /** Set by the router: the server label ("dns://:53") and the zone of the block serving it. */
  server = '';
  zone = '';
  /** Metadata labels ("kubernetes/client-namespace") -> value readers; null unless the block has `metadata` (plugin/metadata.ts). */
  metadata: Map<string, () => string> | null = null;
  /**
   * When the request was read, in ms (performance.now()), for durations.
   * Initialised to a number, not declared with `!` (a field declared so
   * holds undefined until refill sets it): V8 then keeps it a double field,
   * written in place, instead of boxing each time stored (16 B a query).
   */
  readonly start: number = 0;

  /** A plugin keeps this request past its serveDNS (hold()): the server must not reuse it. */
  #held = false;

  constructor(
    raw: Uint8Array, q: ParsedQuestion, transport: Transport,
    remoteAddress: string, remotePort: number, localAddress: string, localPort: number, start: number,
  ) {
    this.refill(raw, q, transport, remoteAddress, remotePort, localAddress, localPort, start);
  }

  /**
   * For the server only: makes this request, whose reply was sent, the next
   * query's, so a query answered at once allocates no request (server/serve.ts).
   * `start` START_NOW: the current time.
   */
  refill(
    raw: Uint8Array, q: ParsedQuestion, transport: Transport,
    remoteAddress: string, remotePort: number, localAddress: string, localPort: number, start: number,
  ): this {
    const w = this as Writable<DnsRequest>;
    w.raw = raw;
    w.id = (raw[0]! << 8) | raw[1]!;
    w.flags = (raw[2]! << 8) | raw[3]!;
    w.opcode = (raw[2]! >> 3) & 0xf;
    this.#qname = q.qname;
    this.#plainHash = q.plainHash;
    w.qtype = q.qtype;
    w.qclass = q.qclass;
    w.questionEnd = q.questionEnd;
    w.edns = q.edns;
    w.udpSize = q.udpSize;
    w.ednsVersion = q.ednsVersion;
    w.do = q.do;
    w.transport = transport;
    w.remoteAddress = remoteAddress;
    w.remotePort = remotePort;
    w.localAddress = localAddress;
    w.localPort = localPort;
    w.family = remoteAddress.includes(':') ? 6 : 4;
    if (start < 0) stampNow(w); else w.start = start;
    this.server = '';
    this.zone = '';
    this.metadata = null;
    this.#held = false;
    return this;
  }

  /**
   * Says that this request is still used after the serveDNS that got it
   * returned (a background refresh waiting on I/O): the server then leaves it
   * alone instead of making it the next query's. A request whose answer is a
   * Promise is never reused; only one answered at once needs this.
   */
  hold(): void {
    this.#held = true;
    // Held past this turn, the packet's memory may be read into again (a batch listener's slab): keep the text now.
    void this.qname;
  }

  /** Canonical (lower-case, fully qualified) question name. */
  get qname(): string {
    if (this.#qname === '') { this.#qname = readNameText(this.raw, 12); this.#plainHash = -1; }
    return this.#qname;
  }

  /**
   * The hash of the plain question name (dns/name.ts plainTextHash of its
   * text) while its text is not built; -1 once it is, or for a name that is
   * not plain. A table keyed by it finds the name's entry without the text.
   */
  get nameHash(): number {
    return this.#plainHash;
  }

  /** Whether the question name is `name` (canonical), compared in place when its text is not built. */
  nameIs(name: string): boolean {
    if (this.#plainHash < 0) return this.qname === name;
    return plainNameIs(this.raw, 12, this.questionEnd - 4, name);
  }

  /**
   * `name` (canonical), which nameIs found to be the question name, becomes
   * its text: the string a table keyed it by, so no text is built for it.
   */
  adoptName(name: string): void {
    this.#qname = name;
    this.#plainHash = -1;
  }

  /** isSubdomain(qname, zone), matched in place when the text is not built. */
  under(zone: string): boolean {
    if (this.#plainHash < 0) return isSubdomain(this.qname, zone);
    return plainNameUnder(this.raw, 12, this.questionEnd - 4, zone);
  }

  /** The first of `zones` holding the question name (the longest, when they are sorted longest first), or null. */
  zoneIn(zones: readonly string[]): string | null {
    for (let i = 0; i < zones.length; i++) if (this.under(zones[i]!)) return zones[i]!;
    return null;
  }

  /** Whether hold() was called since this request was filled. */
  get held(): boolean {
    return this.#held;
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
  /** '' when the name is plain and parsed lazily (parseQuery's `lazyName`): see plainHash. */
  qname: string;
  /** With qname '': the hash of the plain name (scanPlainName); else -1. */
  plainHash: number;
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
  return { qname: '', plainHash: -1, qtype: 0, qclass: 0, questionEnd: 0, edns: false, udpSize: 512, ednsVersion: 0, do: false };
}

/**
 * Parses the question and the OPT record. Returns the question, or the
 * outcome for a packet that must not reach the plugins. With `into`, the
 * question is written there and `into` returned (no allocation: the server
 * reuses one and copies it into the request at once). With `lazyName`, a
 * plain name's text is not built (qname '', plainHash set: the server's
 * requests build it on first read).
 */
export function parseQuery(msg: Uint8Array, into?: ParsedQuestion, lazyName = false): ParsedQuestion | ParseOutcome {
  if (msg.length < 12) return ParseOutcome.DROP;
  if ((msg[2]! & 0x80) !== 0) return ParseOutcome.DROP;
  const opcode = (msg[2]! >> 3) & 0xf;
  const qd = (msg[4]! << 8) | msg[5]!;
  const an = (msg[6]! << 8) | msg[7]!;
  const ns = (msg[8]! << 8) | msg[9]!;
  const ar = (msg[10]! << 8) | msg[11]!;
  if (qd !== 1) return opcode === Opcode.QUERY ? ParseOutcome.FORMERR : ParseOutcome.NOTIMP;
  const q = into ?? newParsedQuestion();
  // Malformed input is reported by return values all the way down: no exception on the query path.
  let end = lazyName ? scanPlainName(msg, 12) : -1;
  if (end > 0) {
    q.qname = '';
    q.plainHash = lastPlainHash();
  } else {
    const name = readNameText(msg, 12);
    if (name === '') return ParseOutcome.FORMERR;
    end = lastNameEnd();
    q.qname = name;
    q.plainHash = -1;
  }
  if (end + 4 > msg.length) return ParseOutcome.FORMERR;
  q.qtype = (msg[end]! << 8) | msg[end + 1]!;
  q.qclass = (msg[end + 2]! << 8) | msg[end + 3]!;
  q.questionEnd = end + 4;
  q.edns = false;
  q.udpSize = 512;
  q.ednsVersion = 0;
  q.do = false;
  // Skip answer and authority records, then look for OPT among the additional ones.
  let pos = q.questionEnd;
  for (let i = 0; i < an + ns && pos >= 0; i++) pos = skipRecord(msg, pos);
  for (let i = 0; i < ar && pos >= 0; i++) {
    const nameStart = pos;
    pos = skipName(msg, pos);
    if (pos < 0 || pos + 10 > msg.length) return ParseOutcome.FORMERR;
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
  if (pos < 0) return ParseOutcome.FORMERR;
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
  let pos = 12;
  for (let i = 0; i < qd; i++) {
    pos = skipName(msg, pos);
    if (pos < 0) return false;
    pos += 4;
    if (pos > msg.length) return false;
  }
  for (let i = 0; i < an + ns; i++) {
    pos = skipRecord(msg, pos);
    if (pos < 0) return false;
  }
  for (let i = 0; i < ar; i++) {
    const start = pos;
    pos = skipRecord(msg, pos);
    if (pos < 0) return false;
    const typeAt = skipName(msg, start);
    if (((msg[typeAt]! << 8) | msg[typeAt + 1]!) === Type.OPT) {
      if (msg[start] !== 0) return false;
      opts++;
    }
  }
  return opts === 1;
}

/** The end of the record at `pos`, or -1 when it runs past the end of the message. */
function skipRecord(msg: Uint8Array, pos: number): number {
  const p = skipName(msg, pos);
  if (p < 0 || p + 10 > msg.length) return -1;
  const rdlen = (msg[p + 8]! << 8) | msg[p + 9]!;
  const end = p + 10 + rdlen;
  return end > msg.length ? -1 : end;
}
