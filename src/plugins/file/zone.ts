/**
 * @module plugins/file/zone
 * One authoritative zone in memory and the RFC 1034 4.3.2 lookup over it:
 * exact answers with the apex NS in authority and in-zone addresses of
 * NS/MX/SRV targets in additional (as CoreDNS's file plugin), CNAME chains
 * followed inside the zone, referrals with glue below a delegation,
 * wildcards (RFC 4592), NODATA and NXDOMAIN with the SOA (TTL capped by its
 * minimum, RFC 2308). Replies for names that exist are built once and kept.
 */
import { Rcode, Type } from '../../dns/constants.ts';
import { isSubdomain, parentName, readName } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import { withName, withTtl, type RR } from '../../dns/rr.ts';

const PLUGIN = 'file';
/** CNAME hops followed inside the zone before giving up (a loop or a very long chain). */
const MAX_CHAIN = 8;
/** Replies kept per zone; past this, replies are built per query (names that exist are bounded by the zone, types are not). */
const MAX_KEPT = 20_000;

export class ZoneError extends Error {}

/** Where a lookup ended. */
export type Lookup =
  | { readonly kind: 'reply'; readonly reply: Reply }
  | { readonly kind: 'nxdomain'; readonly reply: Reply };

export class Zone {
  readonly origin: string;
  readonly soa: RR;
  readonly serial: number;
  /** Every record, SOA first, in file order otherwise (AXFR). */
  readonly records: readonly RR[];
  readonly #byName = new Map<string, Map<number, RR[]>>();
  /** Names that exist only because something below them does (empty non-terminals). */
  readonly #nonTerminals = new Set<string>();
  /** Delegation points below the apex. */
  readonly #cuts = new Set<string>();
  readonly #negSoa: RR;
  readonly #nxdomain: Reply;
  readonly #kept = new Map<string, Reply>();

  constructor(origin: string, records: readonly RR[]) {
    this.origin = origin;
    const soas = records.filter((r) => r.type === Type.SOA);
    const apexSoa = soas.filter((r) => r.name === origin);
    if (apexSoa.length !== 1) throw new ZoneError(`zone ${origin} needs exactly one SOA record at its apex, found ${apexSoa.length}`);
    if (soas.length > 1) throw new ZoneError(`zone ${origin} has an SOA record below its apex (${soas.find((r) => r.name !== origin)!.name})`);
    for (const r of records) {
      if (!isSubdomain(r.name, origin)) throw new ZoneError(`out of zone data: ${r.name} is not in ${origin}`);
      let types = this.#byName.get(r.name);
      if (types === undefined) { types = new Map(); this.#byName.set(r.name, types); }
      const list = types.get(r.type) ?? [];
      // An RRset has one TTL (RFC 2181 5.2): the first record's, as Knot and CoreDNS.
      list.push(list.length > 0 && list[0]!.ttl !== r.ttl ? withTtl(r, list[0]!.ttl) : r);
      types.set(r.type, list);
      if (r.type === Type.NS && r.name !== origin) this.#cuts.add(r.name);
    }
    for (const [name, types] of this.#byName) {
      if (types.has(Type.CNAME) && types.size > 1 && !isDnssecOnly(types)) throw new ZoneError(`${name} has a CNAME and other data`);
      for (let p = name; p !== origin && p !== '.';) {
        p = parentName(p);
        if (!this.#byName.has(p)) this.#nonTerminals.add(p);
      }
    }
    this.soa = apexSoa[0]!;
    this.serial = new DataView(this.soa.data.buffer, this.soa.data.byteOffset + this.soa.data.length - 20, 20).getUint32(0);
    this.records = [this.soa, ...records.filter((r) => r !== this.soa)];
    const minimum = new DataView(this.soa.data.buffer, this.soa.data.byteOffset + this.soa.data.length - 4, 4).getUint32(0);
    this.#negSoa = withTtl(this.soa, Math.min(this.soa.ttl, minimum));
    this.#nxdomain = new Reply({ rcode: Rcode.NXDOMAIN, authoritative: true, authority: [this.#negSoa], plugin: PLUGIN });
  }

  /** Records of the zone as served (the RRset TTLs made equal). */
  get size(): number {
    return this.records.length;
  }

  lookup(qname: string, qtype: number): Lookup {
    const key = `${qtype}/${qname}`;
    const kept = this.#kept.get(key);
    if (kept !== undefined) return { kind: 'reply', reply: kept };
    const found = this.#resolve(qname, qtype);
    if (found === null) return { kind: 'nxdomain', reply: this.#nxdomain };
    if (this.#kept.size < MAX_KEPT && this.#byName.has(qname)) this.#kept.set(key, found.prepack(qname));
    return { kind: 'reply', reply: found };
  }

  /** The reply, or null for NXDOMAIN. */
  #resolve(qname: string, qtype: number): Reply | null {
    const cut = this.#cutAbove(qname, qtype);
    if (cut !== null) return this.#referral(cut);
    const answer: RR[] = [];
    let name = qname;
    for (let hop = 0; hop <= MAX_CHAIN; hop++) {
      const { types, owner } = this.#find(name);
      if (types === null) {
        if (this.#nonTerminals.has(name)) return this.#nodata(answer);
        // A chain ending at a name that does not exist: NXDOMAIN with the chain (RFC 6604), as Knot.
        return hop === 0 ? null : new Reply({ rcode: Rcode.NXDOMAIN, authoritative: true, answer, authority: [this.#negSoa], plugin: PLUGIN });
      }
      const want = qtype === Type.ANY ? [...types.values()].flat() : types.get(qtype);
      if (want !== undefined && want.length > 0) {
        for (const r of want) answer.push(owner === name ? r : withName(r, name));
        return this.#positive(answer, qtype);
      }
      const cname = types.get(Type.CNAME)?.[0];
      if (cname === undefined || qtype === Type.CNAME) return this.#nodata(answer);
      answer.push(owner === name ? cname : withName(cname, name));
      const target = readName(cname.data, 0).name;
      // A target outside the zone, or under a delegation, is for the client's resolver to follow.
      if (!isSubdomain(target, this.origin) || this.#cutAbove(target, qtype) !== null) return this.#positive(answer, qtype);
      name = target;
    }
    return this.#positive(answer, qtype);
  }

  /** The records at `name`, or at the wildcard that covers it (RFC 4592: `*` at the closest encloser). */
  #find(name: string): { types: Map<number, RR[]> | null; owner: string } {
    const exact = this.#byName.get(name);
    if (exact !== undefined) return { types: exact, owner: name };
    if (this.#nonTerminals.has(name)) return { types: null, owner: name };
    let encloser = name;
    while (encloser !== this.origin) {
      encloser = parentName(encloser);
      if (this.#byName.has(encloser) || this.#nonTerminals.has(encloser)) break;
    }
    const wild = encloser === '.' ? '*.' : `*.${encloser}`;
    return { types: this.#byName.get(wild) ?? null, owner: wild };
  }

  /** The delegation point at or above `name` (below the apex), if any; DS at the cut itself is the parent's. */
  #cutAbove(name: string, qtype: number): string | null {
    if (this.#cuts.size === 0) return null;
    for (let p = name; p !== this.origin && p !== '.'; p = parentName(p)) {
      if (this.#cuts.has(p) && !(p === name && qtype === Type.DS)) return p;
    }
    return null;
  }

  #referral(cut: string): Reply {
    const ns = this.#byName.get(cut)!.get(Type.NS)!;
    return new Reply({ authority: ns, additional: this.#glue(ns), plugin: PLUGIN });
  }

  /** In-zone A and AAAA records of the names NS/MX/SRV records point at. */
  #glue(records: readonly RR[]): RR[] {
    const out: RR[] = [];
    const seen = new Set<string>();
    for (const r of records) {
      const at = r.type === Type.NS ? 0 : r.type === Type.MX ? 2 : r.type === Type.SRV ? 6 : -1;
      if (at < 0) continue;
      const target = readName(r.data, at).name;
      if (seen.has(target) || !isSubdomain(target, this.origin)) continue;
      seen.add(target);
      const types = this.#byName.get(target);
      if (types === undefined) continue;
      out.push(...(types.get(Type.A) ?? []), ...(types.get(Type.AAAA) ?? []));
    }
    return out;
  }

  #positive(answer: RR[], qtype: number): Reply {
    const apexNs = this.#byName.get(this.origin)?.get(Type.NS) ?? [];
    const authority = qtype === Type.NS && answer.some((r) => r.name === this.origin && r.type === Type.NS) ? [] : apexNs;
    return new Reply({ authoritative: true, answer, authority, additional: this.#glue([...answer, ...authority]), plugin: PLUGIN });
  }

  /** NODATA with the SOA (after a CNAME chain, the chain with the SOA). */
  #nodata(answer: RR[]): Reply {
    return new Reply({ authoritative: true, answer, authority: [this.#negSoa], plugin: PLUGIN });
  }
}

function isDnssecOnly(types: Map<number, RR[]>): boolean {
  for (const t of types.keys()) if (t !== Type.CNAME && t !== Type.RRSIG && t !== Type.NSEC && t !== Type.NSEC3) return false;
  return true;
}
