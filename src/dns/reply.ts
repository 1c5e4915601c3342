/**
 * @module dns/reply
 * What a plugin returns: rcode, flags and the three sections. A reply can be
 * packed once for the question it answers (the kubernetes index does this when
 * a name changes), and the writer then copies those bytes for every query,
 * patching only the ID, flags and the question's case.
 */
import { Flag, Rcode, Type } from './constants.ts';
import { isSubdomain, labelText, nameToLabels, NameError, parentName } from './name.ts';
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
  /** End offset (in body) of each record, in order: lets the writer cut cleanly on truncation. */
  readonly rrEnds: Uint32Array;
  /** Offset (in body) of each record's TTL field, for TTL ageing in the cache. */
  readonly ttlOffsets: Uint32Array;
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
  readonly answer: readonly RR[];
  readonly authority: readonly RR[];
  readonly additional: readonly RR[];
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
  /** The last aged() copy: a reply served many times a second is aged to the same second again and again. */
  private agedCopy: Reply | null = null;

  constructor(init: ReplyInit, ttlAge = 0, error: Error | null = null) {
    this.rcode = init.rcode ?? Rcode.NOERROR;
    this.authoritative = init.authoritative ?? false;
    this.recursionAvailable = init.recursionAvailable ?? false;
    this.answer = init.answer ?? EMPTY;
    this.authority = init.authority ?? EMPTY;
    this.additional = init.additional ?? EMPTY;
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
    if (other.answer === this.answer && other.authority === this.authority && other.additional === this.additional) {
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
    const r = new Reply(this, age, this.error);
    r.packedCache = this.packedCache;
    this.agedCopy = r;
    return r;
  }

  /** A copy with fields replaced (drops the packed bytes, and `kept`, when a section changes: no plugin keeps that copy). */
  with(change: ReplyInit): Reply {
    const same = change.answer === undefined && change.authority === undefined && change.additional === undefined;
    const r = new Reply({ ...this, kept: same && this.kept, ...change }, this.ttlAge, this.error);
    if (same) r.packedCache = this.packedCache;
    return r;
  }

  withError(error: Error): Reply {
    const r = new Reply(this, this.ttlAge, error);
    r.packedCache = this.packedCache;
    return r;
  }
}

const EMPTY: readonly RR[] = Object.freeze([]);

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
  const n = reply.answer.length + reply.authority.length + reply.additional.length;
  let capacity = 0;
  for (const section of all) for (const r of section) capacity += r.name.length + 2 + 10 + r.data.length;
  const out = new Uint8Array(capacity);
  const rrEnds = new Uint32Array(n);
  const ttlOffsets = new Uint32Array(n);
  let pos = 0;
  let i = 0;
  for (const section of all) {
    for (const r of section) {
      pos = writeCompressedName(out, pos, r.name, known, base);
      const ttl = Math.max(0, r.ttl) >>> 0;
      out[pos] = r.type >> 8; out[pos + 1] = r.type & 0xff;
      out[pos + 2] = r.class >> 8; out[pos + 3] = r.class & 0xff;
      out[pos + 4] = ttl >>> 24; out[pos + 5] = (ttl >> 16) & 0xff; out[pos + 6] = (ttl >> 8) & 0xff; out[pos + 7] = ttl & 0xff;
      out[pos + 8] = r.data.length >> 8; out[pos + 9] = r.data.length & 0xff;
      ttlOffsets[i] = pos + 4;
      pos += 10;
      const at = rdataNameAt.get(r.type);
      if (at !== undefined && base + pos + at < 0x3fff) addWireSuffixes(known, r.data, at, base + pos + at);
      out.set(r.data, pos);
      pos += r.data.length;
      rrEnds[i++] = pos;
    }
  }
  return {
    qname, qnameWireLength, body: out.subarray(0, pos),
    an: reply.answer.length, ns: reply.authority.length, ar: reply.additional.length, rrEnds, ttlOffsets, zoneWireLength: 0,
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
