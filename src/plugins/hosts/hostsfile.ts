/**
 * @module plugins/hosts/hostsfile
 * hosts(5) text -> names and addresses, the way CoreDNS reads it: `IP name
 * [aliases...]`, `#` comments, IPv6 zones dropped; each name is made
 * absolute as written ("registry" -> "registry.", never qualified with the
 * server block's zone) and kept only when it lies in the plugin's zones.
 * Also the index the handler answers from: replies built and packed on
 * first use, so a hit is one Map lookup.
 */
import { Rcode, Type } from '../../dns/constants.ts';
import { canonicalIp, ipFamily, reverseName, stripZone } from '../../dns/ip.ts';
import { canonicalName, isSubdomain } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import { rrs } from '../../dns/rr.ts';

export interface HostsData {
  /** Name -> addresses in file order (canonical text). */
  readonly v4: Map<string, string[]>;
  readonly v6: Map<string, string[]>;
  /** Reverse name ("1.0.0.10.in-addr.arpa.") -> names with that address. */
  readonly byReverse: Map<string, string[]>;
}

export function emptyHosts(): HostsData {
  return { v4: new Map(), v6: new Map(), byReverse: new Map() };
}

function push(m: Map<string, string[]>, k: string, v: string): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else if (!list.includes(v)) list.push(v);
}

/** Parses hosts-file lines; names outside `zones` are dropped. */
export function parseHosts(text: string, zones: readonly string[]): HostsData {
  const out = emptyHosts();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const fields = (hash >= 0 ? raw.slice(0, hash) : raw).trim().split(/\s+/);
    if (fields.length < 2) continue;
    // CoreDNS's hosts plugin drops a zone ("fe80::1%lo0") before parsing.
    const ip = canonicalIp(stripZone(fields[0]!));
    if (ip === null) continue;
    const v6 = ipFamily(ip) === 6;
    const rev = reverseName(ip)!;
    for (let i = 1; i < fields.length; i++) {
      const name = canonicalName(fields[i]!);
      if (!zones.some((z) => isSubdomain(name, z))) continue;
      push(v6 ? out.v6 : out.v4, name, ip);
      push(out.byReverse, rev, name);
    }
  }
  return out;
}

/** `a` plus `b` (file entries, then inline ones). */
export function mergeHosts(a: HostsData, b: HostsData): HostsData {
  const out = emptyHosts();
  for (const src of [a, b]) {
    for (const [k, list] of src.v4) for (const v of list) push(out.v4, k, v);
    for (const [k, list] of src.v6) for (const v of list) push(out.v6, k, v);
    for (const [k, list] of src.byReverse) for (const v of list) push(out.byReverse, k, v);
  }
  return out;
}

/** Entries as CoreDNS counts them (coredns_hosts_entries): every address of every name, and every reverse name. */
export function entryCount(h: HostsData): number {
  let n = 0;
  for (const l of h.v4.values()) n += l.length;
  for (const l of h.v6.values()) n += l.length;
  for (const l of h.byReverse.values()) n += l.length;
  return n;
}

interface NameReplies {
  a: Reply | null;
  aaaa: Reply | null;
  nodata: Reply | null;
}

/** What the handler answers from; replies are made on first use and kept. */
export class HostsIndex {
  readonly data: HostsData;
  readonly #ttl: number;
  readonly #reverse: boolean;
  readonly #names = new Map<string, NameReplies>();
  readonly #ptr = new Map<string, Reply>();

  constructor(data: HostsData, ttl: number, reverse: boolean) {
    this.data = data;
    this.#ttl = ttl;
    this.#reverse = reverse;
  }

  /** Whether the name has any address here. */
  has(qname: string): boolean {
    return this.data.v4.has(qname) || this.data.v6.has(qname);
  }

  /** The reply for a known name: its A or AAAA records, or NODATA for other types and a missing family. */
  answer(qname: string, qtype: number): Reply {
    let r = this.#names.get(qname);
    if (r === undefined) { r = { a: null, aaaa: null, nodata: null }; this.#names.set(qname, r); }
    if (qtype === Type.A) return r.a ??= this.#addresses(qname, this.data.v4.get(qname));
    if (qtype === Type.AAAA) return r.aaaa ??= this.#addresses(qname, this.data.v6.get(qname));
    return r.nodata ??= new Reply({ authoritative: true, plugin: 'hosts' }).prepack(qname);
  }

  #addresses(qname: string, ips: readonly string[] | undefined): Reply {
    const answer = (ips ?? []).map((ip) => rrs.addr(qname, this.#ttl, ip));
    return new Reply({ authoritative: true, answer, plugin: 'hosts' }).prepack(qname);
  }

  /** PTR reply for a reverse name we know, or null. */
  ptr(qname: string): Reply | null {
    if (!this.#reverse) return null;
    const cached = this.#ptr.get(qname);
    if (cached !== undefined) return cached;
    const names = this.data.byReverse.get(qname);
    if (names === undefined) return null;
    const r = new Reply({ authoritative: true, plugin: 'hosts', answer: names.map((n) => rrs.ptr(qname, this.#ttl, n)) }).prepack(qname);
    this.#ptr.set(qname, r);
    return r;
  }
}

/** NXDOMAIN for names in our zones that the hosts data lacks (without fallthrough). */
export function nxdomain(): Reply {
  return new Reply({ rcode: Rcode.NXDOMAIN, authoritative: true, plugin: 'hosts' });
}

