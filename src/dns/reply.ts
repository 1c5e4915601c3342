/**
 * @module dns/reply
 * What a plugin returns: rcode, flags and the three sections. A reply can be
 * packed once for the question it answers (the kubernetes index does this when
 * a name changes), and the writer then copies those bytes for every query,
 * patching only the ID, flags and the question's case.
 */
import { Flag, Rcode, Type } from './constants.ts';
import { encodeName, isSubdomain, labelText, nameToLabels, NameError, parentName, readName } from './name.ts';
import type { RR } from './rr.ts';

/**
 * The sections of a reply in wire form, for one question name. Owner names
 * are compressed against the question (offset 12), so the bytes are valid for
 * every spelling of that name: case changes nothing of its length.
 */
export interface PackedSections {
  /** Canonical question name these bytes were packed for. */
  readonly qname: string;
  /** Wire length of the question name (the body assumes it starts at 12 + this + 4). */
  readonly qnameWireLength: number;
  readonly body: Uint8Array;
  /**
   * Records in the answer, authority and additional sections. Plain fields, not
   * an array: the writer reads them for every reply, and with many kept answers
   * each extra object to follow is another cache miss.
   */
  readonly an: number;
  readonly ns: number;
  readonly ar: number;
  /**
   * Two numbers per record, in order: its end offset in body (the writer cuts
   * there on truncation), then the offset of its TTL field (TTL ageing in the
   * cache). One plain array of small integers, not two typed arrays: a typed
   * array costs about 220 bytes (view, ArrayBuffer, store) before its data, and
   * the index keeps one packed reply per name (see kubernetes/README.md, Memory).
   */
  readonly marks: readonly number[];
  /**
   * > 0: the bytes serve every question name under one zone (`qname`),
   * whose wire length this is: the body starts with the only name that
   * depends on the question, a compression pointer to the zone's suffix
   * inside it, which the writer sets per query (Reply.negativeInZone).
   * 0: packed for `qname` alone.
   */
  readonly zoneWireLength: number;
}

export interface ReplyInit {
  rcode?: number;
  authoritative?: boolean;
  recursionAvailable?: boolean;
  answer?: readonly RR[];
  authority?: readonly RR[];
  additional?: readonly RR[];
  plugin?: string;
  /** EDNS options (code, length, data ...) for our OPT record, sent only when the client used EDNS (template's ederror). */
  ednsOptions?: Uint8Array | null;
  /** Further messages sent after this one on the same TCP connection (a zone transfer's stream). */
  more?: readonly Reply[] | null;
  /** The plugin keeps this reply packed and gives it again at the cost of a cache hit (Reply.kept). */
  kept?: boolean;
}

export class Reply {
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly recursionAvailable: boolean;
  /**
   * The sections. A slim reply (slim()) holds them only as its packed bytes
   * and decodes them on the first read, then keeps them: the query path's
   * readers use answerCount, answerType(), allTtlsAre() and minimalTtlMemo,
   * which need no records, so a kept answer nobody inspects costs its bytes.
   */
  #answer: readonly RR[] | null;
  #authority: readonly RR[] | null;
  #additional: readonly RR[] | null;
  /** The plugin that wrote it (coredns_dns_responses_total{plugin}); '' when the server did. */
  readonly plugin: string;
  /** EDNS option bytes for our OPT record; null for none. */
  readonly ednsOptions: Uint8Array | null;
  /** Messages that follow this one (AXFR over TCP); null for an ordinary reply. */
  readonly more: readonly Reply[] | null;
  /** Seconds to take off every TTL when written (the cache's age of the entry). */
  readonly ttlAge: number;
  /** Error a plugin met while producing this reply; the errors plugin logs it. */
  readonly error: Error | null;
  /**
   * The plugin that made this reply keeps it, packed, and answers the same
   * question again from it at the cost of a cache hit (the kubernetes
   * index): a cache in front gains nothing by storing a copy, so it lets
   * such replies pass (cache/README.md, "Differences from CoreDNS").
   */
  readonly kept: boolean;
  /**
   * The cache's minimal TTL of this reply (cache/classify.ts minimalTtl),
   * -1 until computed: the sections never change, so a kept reply passing
   * the cache again and again is scanned once.
   */
  minimalTtlMemo = -1;
  /**
   * The cache (its token) that last found this kept reply passes it
   * unchanged, so it passes again without being classified and scanned.
   */
  passedBy: object | null = null;
  /**
   * loadbalance's count of the records it could rotate (the larger of the
   * A/AAAA and the MX counts), -1 until counted: a kept reply is counted
   * once, so one with a single address costs a field read after that.
   */
  spreadMemo = -1;
  private packedCache: PackedSections | null = null;
  /** A slim reply's one TTL shared by all its records, or -1 when they differ (allTtlsAre without the records). */
  #sameTtl = -1;
  /** The last aged() copy: a reply served many times a second is aged to the same second again and again. */
  private agedCopy: Reply | null = null;

  constructor(init: ReplyInit, ttlAge = 0, error: Error | null = null) {
    this.rcode = init.rcode ?? Rcode.NOERROR;
    this.authoritative = init.authoritative ?? false;
    this.recursionAvailable = init.recursionAvailable ?? false;
    this.#answer = init.answer ?? EMPTY;
    this.#authority = init.authority ?? EMPTY;
    this.#additional = init.additional ?? EMPTY;
    this.plugin = init.plugin ?? '';
    this.ednsOptions = init.ednsOptions ?? null;
    this.more = init.more ?? null;
    this.kept = init.kept ?? false;
    this.ttlAge = ttlAge;
    this.error = error;
  }

  /** An empty reply with this rcode (SERVFAIL, REFUSED, ...). */
  static error(rcode: number, plugin = '', error: Error | null = null): Reply {
    return new Reply({ rcode, plugin }, 0, error);
  }

  /** Flag bits this reply sets in the header (AA, RA). */
  get flagBits(): number {
    return (this.authoritative ? Flag.AA : 0) | (this.recursionAvailable ? Flag.RA : 0);
  }

  get answer(): readonly RR[] {
    return this.#answer ?? this.#inflate()[0];
  }

  get authority(): readonly RR[] {
    return this.#authority ?? this.#inflate()[1];
  }

  get additional(): readonly RR[] {
    return this.#additional ?? this.#inflate()[2];
  }

  /**
   * The sections for a reader that goes over many replies once (a zone
   * transfer): a slim reply's are decoded for the caller and not kept.
   */
  peekSections(): readonly [readonly RR[], readonly RR[], readonly RR[]] {
    const a = this.#answer;
    return a !== null ? [a, this.#authority!, this.#additional!] : unpackSections(this.packedCache!);
  }

  /** Whether the sections are held as record objects: false for a slim reply not decoded (yet). */
  get holdsRecords(): boolean {
    return this.#answer !== null;
  }

  /** Records in the answer section, without decoding a slim reply. */
  get answerCount(): number {
    return this.#answer?.length ?? this.packedCache!.an;
  }

  get authorityCount(): number {
    return this.#authority?.length ?? this.packedCache!.ns;
  }

  get additionalCount(): number {
    return this.#additional?.length ?? this.packedCache!.ar;
  }

  /** Type of the i-th answer record (i < answerCount), without decoding a slim reply. */
  answerType(i: number): number {
    const a = this.#answer;
    if (a !== null) return a[i]!.type;
    const p = this.packedCache!;
    const at = p.marks[2 * i + 1]! - 4; // type, class, then the TTL
    return (p.body[at]! << 8) | p.body[at + 1]!;
  }

  /** Whether every record of the reply has TTL `ttl` (none: true), without decoding a slim reply. */
  allTtlsAre(ttl: number): boolean {
    if (this.#answer === null) return this.#sameTtl === ttl;
    return sameTtl(this.#answer, ttl) && sameTtl(this.#authority!, ttl) && sameTtl(this.#additional!, ttl);
  }

  /**
   * Keep the sections only as the bytes packed for `qname` (see the
   * sections above): for an answer kept by a plugin for long, such as the
   * kubernetes index's, whose record objects would cost more than its bytes.
   * Only a positive answer without authority records is made slim (its
   * cache classification needs nothing but the answer count); other replies
   * are only packed (prepack). Behaviour is unchanged: the sections read back equal.
   */
  slim(qname: string): this {
    this.prepack(qname);
    const a = this.#answer, ns = this.#authority, ar = this.#additional;
    if (a === null || ns === null || ar === null || this.rcode !== Rcode.NOERROR || a.length === 0 || ns.length > 0) return this;
    if (this.packedCache!.zoneWireLength > 0) return this;
    let min = Infinity, same = a[0]!.ttl;
    for (const section of [a, ar]) {
      for (const r of section) {
        if (r.ttl < min) min = r.ttl;
        if (r.ttl !== same) same = -1;
      }
    }
    // What the cache's minimalTtl finds for a positive answer (classify/minimalTtl), so it never decodes this one.
    if (this.minimalTtlMemo < 0) this.minimalTtlMemo = Math.min(min, MAXIMUM_DEFAULT_TTL);
    this.#sameTtl = same;
    this.#answer = this.#authority = this.#additional = null;
    return this;
  }

  /**
   * About how many heap bytes this reply holds (V8 object sizes measured
   * with bench/kept-breakdown.ts): the object, its packed bytes (a typed
   * array on the heap up to 64 bytes, a backing store beyond) and record
   * marks, and its record objects when it holds them. For a byte bound on
   * kept answers, computed when the answer is kept.
   */
  approxBytes(): number {
    const p = this.packedCache;
    let n = 176;
    if (p !== null) n += 88 + 200 + p.body.length + (p.body.length <= 64 ? 16 : 56) + 48 + 8 * p.marks.length;
    const a = this.#answer;
    if (a !== null) n += 96 + 330 * (a.length + this.#authority!.length + this.#additional!.length);
    return n;
  }

  /** Decodes a slim reply's sections from its packed bytes, once; they are kept from then on. */
  #inflate(): [readonly RR[], readonly RR[], readonly RR[]] {
    const p = this.packedCache!;
    const sections = unpackSections(p);
    this.#answer = sections[0];
    this.#authority = sections[1];
    this.#additional = sections[2];
    return sections;
  }

  /** Everything but the sections, as a ReplyInit. */
  #fields(): ReplyInit {
    return {
      rcode: this.rcode, authoritative: this.authoritative, recursionAvailable: this.recursionAvailable, plugin: this.plugin,
      ednsOptions: this.ednsOptions, more: this.more, kept: this.kept,
    };
  }

  /**
   * A copy with the same sections and packed bytes (a slim reply's copy is
   * slim too), another age and error, and the other fields in `change`
   * replaced (then the cache's TTL memo is found anew: it depends on rcode).
   */
  #copy(ttlAge: number, error: Error | null, change: ReplyInit | null = null): Reply {
    const r = new Reply(change === null ? this.#fields() : { ...this.#fields(), ...change }, ttlAge, error);
    r.#answer = this.#answer; r.#authority = this.#authority; r.#additional = this.#additional;
    r.#sameTtl = this.#sameTtl;
    if (change === null) r.minimalTtlMemo = this.minimalTtlMemo;
    r.packedCache = this.packedCache;
    return r;
  }

  /** Pack for `qname` now and keep it (call at index time for replies that are served many times); a no-op when already packed for it. */
  prepack(qname: string): this {
    const p = this.packedCache;
    if (p === null || (p.qname !== qname && p.zoneWireLength === 0)) this.packedCache = packSections(this, qname);
    return this;
  }

  /**
   * NXDOMAIN or NODATA with `soa` (owned by `zone`) in the authority section,
   * packed once for every name under `zone`: one reply object serves them
   * all, so a negative answer for a name never asked before costs no
   * packing and no allocation. The SOA owner is a pointer to the zone's
   * labels at the end of the question, set by the writer.
   */
  static negativeInZone(zone: string, rcode: number, soa: RR, plugin: string, kept = false): Reply {
    const r = new Reply({ rcode, authoritative: true, authority: [soa], plugin, kept });
    const viaZone = packSections(r, zone);
    // Packed for the zone itself, the SOA owner is the whole question name: a pointer to offset 12.
    if (viaZone.body[0] !== 0xc0 || viaZone.body[1] !== 12) throw new Error('negativeInZone: the SOA must be owned by the zone');
    r.packedCache = { ...viaZone, zoneWireLength: viaZone.qnameWireLength };
    return r;
  }

  /** Take `other`'s packed bytes when both have the very same sections (same arrays), so nothing is packed twice. */
  sharePackedOf(other: Reply): this {
    const a = this.#answer;
    if (a !== null && other.#answer === a && other.#authority === this.#authority && other.#additional === this.#additional) {
      this.packedCache = other.packedCache;
    }
    return this;
  }

  /** Packed sections for this question name: the kept ones when they match, else packed now. */
  packedFor(qname: string): PackedSections {
    const p = this.packedCache;
    // Zone-wide bytes only for a name of that zone (`qname` of such bytes is the zone): a plugin may hand the
    // reply to a request for another name (rewrite does), which gets bytes packed for it.
    if (p !== null && (p.qname === qname || (p.zoneWireLength > 0 && isSubdomain(qname, p.qname)))) return p;
    return packSections(this, qname);
  }

  /**
   * The same reply, to be written with TTLs reduced by `age` seconds. Shares
   * the packed bytes; the copy is kept, so asking again for the same age
   * allocates nothing.
   */
  aged(age: number): Reply {
    const last = this.agedCopy;
    if (last !== null && last.ttlAge === age && last.packedCache === this.packedCache) return last;
    const r = this.#copy(age, this.error);
    this.agedCopy = r;
    return r;
  }

  /** A copy with fields replaced (drops the packed bytes, and `kept`, when a section changes: no plugin keeps that copy). */
  with(change: ReplyInit): Reply {
    const same = change.answer === undefined && change.authority === undefined && change.additional === undefined;
    if (same) return this.#copy(this.ttlAge, this.error, change);
    return new Reply({
      ...this.#fields(), answer: this.answer, authority: this.authority, additional: this.additional, kept: false, ...change,
    }, this.ttlAge, this.error);
  }

  withError(error: Error): Reply {
    return this.#copy(this.ttlAge, error);
  }
}

const EMPTY: readonly RR[] = Object.freeze([]);

/** CoreDNS's MaximumDefaultTTL: the most minimalTtlMemo ever holds (the cache's minimalTtl starts from it). */
export const MAXIMUM_DEFAULT_TTL = 3600;

function sameTtl(rrs: readonly RR[], ttl: number): boolean {
  for (let i = 0; i < rrs.length; i++) if (rrs[i]!.ttl !== ttl) return false;
  return true;
}

/**
 * The records of packed sections, as packSections was given them: owner
 * names decompressed against the question name the bytes were packed for,
 * rdata copied (packSections never compresses names inside rdata).
 */
export function unpackSections(p: PackedSections): [RR[], RR[], RR[]] {
  const q = encodeName(p.qname);
  const base = 12 + q.length + 4;
  const msg = new Uint8Array(base + p.body.length);
  msg.set(q, 12);
  msg.set(p.body, base);
  const out: [RR[], RR[], RR[]] = [new Array<RR>(p.an), new Array<RR>(p.ns), new Array<RR>(p.ar)];
  let pos = base;
  for (let i = 0; i < p.an + p.ns + p.ar; i++) {
    const { name, end } = readName(msg, pos);
    const type = (msg[end]! << 8) | msg[end + 1]!;
    const cls = (msg[end + 2]! << 8) | msg[end + 3]!;
    const ttl = ((msg[end + 4]! << 24) | (msg[end + 5]! << 16) | (msg[end + 6]! << 8) | msg[end + 7]!) >>> 0;
    const len = (msg[end + 8]! << 8) | msg[end + 9]!;
    pos = end + 10 + len;
    const record: RR = { name, type, class: cls, ttl, data: msg.slice(end + 10, pos) };
    if (i < p.an) out[0][i] = record; else if (i < p.an + p.ns) out[1][i - p.an] = record; else out[2][i - p.an - p.ns] = record;
  }
  return out;
}

/** An RFC 8914 Extended DNS Error as EDNS option bytes (option 15: info code, then extra text). */
export function edeOption(code: number, text = ''): Uint8Array {
  const extra = Buffer.from(text, 'utf8');
  const out = new Uint8Array(6 + extra.length);
  out[1] = 15;
  out[2] = (2 + extra.length) >> 8; out[3] = (2 + extra.length) & 0xff;
  out[4] = code >> 8; out[5] = code & 0xff;
  out.set(extra, 6);
  return out;
}

/** Return this to send no reply at all (the client times out, as with CoreDNS's acl drop). */
export const DROP: Reply = new Reply({ rcode: Rcode.REFUSED, plugin: 'drop' });

/** Types whose rdata is, or starts with after a fixed prefix, one domain name: it may serve as a compression target. */
const rdataNameAt = new Map<number, number>([[Type.CNAME, 0], [Type.PTR, 0], [Type.NS, 0], [Type.SRV, 6], [Type.MX, 2]]);

/**
 * Encodes the sections of `reply` as they follow a question for `qname`.
 * Owner names are compressed against names already written (question and
 * earlier owners, and names at the start of CNAME/PTR/NS/SRV/MX rdata).
 * Writes into one buffer sized for the worst case (no compression).
 */
export function packSections(reply: Reply, qname: string): PackedSections {
  const known = new Map<string, number>();
  const qnameWireLength = addSuffixes(known, qname, 12);
  const base = 12 + qnameWireLength + 4;
  const all = [reply.answer, reply.authority, reply.additional];
  let capacity = 0;
  for (const section of all) for (const r of section) capacity += r.name.length + 2 + 10 + r.data.length;
  const out = new Uint8Array(capacity);
  const marks: number[] = [];
  let pos = 0;
  for (const section of all) {
    for (const r of section) {
      pos = writeCompressedName(out, pos, r.name, known, base);
      const ttl = Math.max(0, r.ttl) >>> 0;
      out[pos] = r.type >> 8; out[pos + 1] = r.type & 0xff;
      out[pos + 2] = r.class >> 8; out[pos + 3] = r.class & 0xff;
      out[pos + 4] = ttl >>> 24; out[pos + 5] = (ttl >> 16) & 0xff; out[pos + 6] = (ttl >> 8) & 0xff; out[pos + 7] = ttl & 0xff;
      out[pos + 8] = r.data.length >> 8; out[pos + 9] = r.data.length & 0xff;
      const ttlAt = pos + 4;
      pos += 10;
      const at = rdataNameAt.get(r.type);
      if (at !== undefined && base + pos + at < 0x3fff) addWireSuffixes(known, r.data, at, base + pos + at);
      out.set(r.data, pos);
      pos += r.data.length;
      marks.push(pos, ttlAt);
    }
  }
  return {
    // A copy of the exact length: `out` is sized for no compression, and a view would keep all of it.
    qname, qnameWireLength, body: out.slice(0, pos),
    an: reply.answer.length, ns: reply.authority.length, ar: reply.additional.length, marks: marks.slice(), zoneWireLength: 0,
  };
}

/**
 * Writes `name` at out[pos], ending in a pointer to the longest suffix
 * already written, and records its own new suffixes (message offset =
 * `base` + body offset). Returns the position after it. Throws NameError for
 * a name no message may carry (label over 63, name over 255 octets), so a
 * plugin bug becomes SERVFAIL instead of a corrupt reply.
 */
function writeCompressedName(out: Uint8Array, pos: number, name: string, known: Map<string, number>, base: number): number {
  const labels = nameToLabels(name);
  let wire = 1;
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) throw new NameError(`bad label length ${l.length} in '${name}'`);
    wire += l.length + 1;
  }
  if (wire > 255) throw new NameError(`name longer than 255 octets: '${name}'`);
  let suffix = name;
  for (let i = 0; i < labels.length; i++) {
    const ptr = known.get(suffix);
    if (ptr !== undefined) {
      out[pos] = 0xc0 | (ptr >> 8); out[pos + 1] = ptr & 0xff;
      return pos + 2;
    }
    if (base + pos < 0x3fff) known.set(suffix, base + pos);
    const l = labels[i]!;
    out[pos] = l.length;
    out.set(l, pos + 1);
    pos += l.length + 1;
    suffix = parentName(suffix);
  }
  out[pos] = 0;
  return pos + 1;
}


/** Records the suffixes of the question name written at `at`; returns its wire length. */
function addSuffixes(known: Map<string, number>, name: string, at: number): number {
  const labels = nameToLabels(name);
  let suffix = name;
  let off = at;
  for (const l of labels) {
    if (off < 0x3fff && !known.has(suffix)) known.set(suffix, off);
    off += l.length + 1;
    suffix = parentName(suffix);
  }
  return off - at + 1;
}

/** Records the suffixes of an uncompressed wire name found at data[start] (written at message offset `at`). */
function addWireSuffixes(known: Map<string, number>, data: Uint8Array, start: number, at: number): void {
  const labels: string[] = [];
  const offs: number[] = [];
  for (let p = start; p < data.length && data[p] !== 0;) {
    const len = data[p]!;
    offs.push(at + p - start);
    // The same escaped, lower-case text as names read from the wire, so a dot inside a label never matches a label boundary.
    labels.push(labelText(data, p + 1, len));
    p += len + 1;
  }
  for (let i = 0; i < labels.length; i++) {
    const suffix = labels.slice(i).join('.') + '.';
    if (offs[i]! < 0x3fff && !known.has(suffix)) known.set(suffix, offs[i]!);
  }
}
