/**
 * @module plugins/etcd/handler
 * The etcd handler: answers from the in-memory index, never from etcd.
 * Replies are built once per (name, type) and packed, then served from a
 * cache until the data changes (or, when a leased record is in it, for one
 * second, so its TTL follows the lease). CNAME, SRV and MX targets outside
 * the zone are asked of the rest of the server block's chain (forward), as
 * CoreDNS's upstream does; those replies are not cached here. Before the
 * first list from etcd, in-zone queries get SERVFAIL: there is nothing yet
 * to say NXDOMAIN from.
 */
import { Class, Rcode, Type } from '../../dns/constants.ts';
import { isSubdomain } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import { DnsRequest } from '../../dns/request.ts';
import { rdata, rr, type RR } from '../../dns/rr.ts';
import type { Fallthrough } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
import type { EtcdIndex } from './index.ts';
import { addressLike, cname, exists, mx, ns, ptr, srv, type Found, type LookupContext, type Tail } from './records.ts';
import type { SkyService } from './service.ts';

const PLUGIN = 'etcd';
/** TTL when neither the record nor a lease sets one (CoreDNS). */
export const DEFAULT_TTL = 300;
/** SOA minimum and TTL (CoreDNS's MinTTL, 30; SOA TTL min(300, 30)). */
const SOA_TTL = 30;
const CACHE_MAX = 20_000;

export interface EtcdHandlerOptions {
  readonly zones: readonly string[];
  readonly fallthrough: Fallthrough;
  /** Bounds a lease's remaining time is clamped to, in seconds. */
  readonly minLeaseTtl: number;
  readonly maxLeaseTtl: number;
  /** When a key's lease ends (clock ms), or null. */
  readonly leaseEnd: (key: string) => number | null;
  /** Whether a key is on a lease, known end or not. */
  readonly hasLease: (key: string) => boolean;
  /** Whether any list from etcd has completed. */
  readonly hasData: () => boolean;
  /** The head of this server block's chain, for names outside the zone. */
  readonly upstream: () => Handler;
  readonly blockZones: readonly string[];
  readonly clock?: () => number;
}

interface CacheEntry {
  readonly generation: number;
  /** Clock ms after which it must be rebuilt (0: until the data changes). */
  readonly until: number;
  /** null: pass to the next plugin (fallthrough). */
  readonly reply: Reply | null;
}

export class EtcdHandler implements ChainHandler {
  readonly name = PLUGIN;
  next!: Handler;
  readonly #index: EtcdIndex;
  readonly #opts: EtcdHandlerOptions;
  readonly #now: () => number;
  readonly #zones: readonly string[];
  /** Answers by type, then name: no key string built per query. */
  readonly #cache = new Map<number, Map<string, CacheEntry>>();
  #cached = 0;
  readonly #servfail = Reply.error(Rcode.SERVFAIL, PLUGIN);
  /** Set while building one answer: a leased record went into it. */
  #leased = false;

  constructor(index: EtcdIndex, opts: EtcdHandlerOptions) {
    this.#index = index;
    this.#opts = opts;
    this.#now = opts.clock ?? Date.now;
    // Longest first, so the most specific zone wins.
    this.#zones = [...opts.zones].sort((a, b) => b.length - a.length);
  }

  serveDNS(req: DnsRequest): Answer {
    if (req.qclass !== Class.IN) return this.next.serveDNS(req);
    const zone = this.#zoneOf(req.qname);
    if (zone === null) return this.next.serveDNS(req);
    if (!this.#opts.hasData()) return this.#servfail;
    const hit = this.#cache.get(req.qtype)?.get(req.qname);
    const gen = this.#index.generation;
    if (hit !== undefined && hit.generation === gen && (hit.until === 0 || this.#now() < hit.until)) {
      return hit.reply ?? this.next.serveDNS(req);
    }
    this.#leased = false;
    const f = this.#lookup(zone, req.qname, req.qtype);
    const until = this.#leased ? this.#now() + 1000 : 0;
    if (f.missing && req.qname !== zone && this.#opts.fallthrough.through(req.qname)) {
      this.#remember(req.qtype, req.qname, { generation: gen, until, reply: null });
      return this.next.serveDNS(req);
    }
    if (f.tails.length > 0) return this.#withTails(req, zone, f);
    const reply = this.#reply(zone, req.qname, f).prepack(req.qname);
    this.#remember(req.qtype, req.qname, { generation: gen, until, reply });
    return reply;
  }

  #remember(qtype: number, qname: string, e: CacheEntry): void {
    if (this.#cached >= CACHE_MAX) { this.#cache.clear(); this.#cached = 0; }
    let byName = this.#cache.get(qtype);
    if (!byName) this.#cache.set(qtype, (byName = new Map()));
    if (!byName.has(qname)) this.#cached++;
    byName.set(qname, e);
  }

  #zoneOf(name: string): string | null {
    for (const z of this.#zones) if (isSubdomain(name, z)) return z;
    return null;
  }

  #context(zone: string): LookupContext {
    return { tree: this.#index.tree, prefix: this.#index.prefix, zone, ttl: (s) => this.#ttl(s) };
  }

  /** The record's TTL and its lease's remaining time, the smaller, the lease clamped to its bounds (CoreDNS). */
  #ttl(s: SkyService): number {
    const end = this.#opts.leaseEnd(s.key);
    if (end === null && !this.#opts.hasLease(s.key)) return s.ttl || DEFAULT_TTL;
    this.#leased = true;
    // A lease whose end is still being asked may be short: the lowest bound until it is known.
    const left = end === null ? 0 : Math.max(0, Math.ceil((end - this.#now()) / 1000));
    const lease = Math.min(this.#opts.maxLeaseTtl, Math.max(this.#opts.minLeaseTtl, left));
    return s.ttl ? Math.min(s.ttl, lease) : lease;
  }

  #lookup(zone: string, qname: string, qtype: number): Found {
    const ctx = this.#context(zone);
    switch (qtype) {
      case Type.A: case Type.AAAA: case Type.TXT: return addressLike(ctx, qname, qtype);
      case Type.CNAME: return cname(ctx, qname);
      case Type.PTR: return ptr(ctx, qname);
      case Type.MX: return mx(ctx, qname);
      case Type.SRV: return srv(ctx, qname);
      case Type.SOA:
        if (qname === zone) return { answer: [this.soa(zone)], additional: [], tails: [], missing: false, danglingNx: false };
        break;
      case Type.NS:
        if (qname === zone) return ns(ctx, SOA_TTL);
        break;
    }
    return { answer: [], additional: [], tails: [], missing: !exists(ctx, qname), danglingNx: false };
  }

  soa(zone: string): RR {
    const z = zone === '.' ? '' : zone;
    return rr(zone, Type.SOA, SOA_TTL, rdata.soa(`ns.dns.${z}`, `hostmaster.${z}`, this.#index.serial, 7200, 1800, 86400, SOA_TTL));
  }

  #reply(zone: string, qname: string, f: Found): Reply {
    // The apex always exists: NODATA there, never NXDOMAIN (CoreDNS answers NXDOMAIN for an empty zone).
    if (f.missing && qname !== zone) return new Reply({ rcode: Rcode.NXDOMAIN, authoritative: true, authority: [this.soa(zone)], plugin: PLUGIN });
    if (f.answer.length === 0) return new Reply({ authoritative: true, authority: [this.soa(zone)], plugin: PLUGIN });
    // A CNAME chain ending at a name that does not exist: the CNAMEs with NXDOMAIN (RFC 6604), not CoreDNS's NODATA.
    if (f.danglingNx && f.answer.every((r) => r.type === Type.CNAME)) {
      return new Reply({ rcode: Rcode.NXDOMAIN, authoritative: true, answer: f.answer, authority: [this.soa(zone)], plugin: PLUGIN });
    }
    return new Reply({ authoritative: true, answer: f.answer, additional: f.additional, plugin: PLUGIN });
  }

  /** Asks the chain for the names outside the zone, then answers (never cached here). */
  async #withTails(req: DnsRequest, zone: string, f: Found): Promise<Reply> {
    const results = await Promise.all(f.tails.map((t) => this.#ask(req, t)));
    const answer = [...f.answer];
    const additional = [...f.additional];
    f.tails.forEach((t, i) => {
      const got = results[i]!;
      if (t.section === 'answer') answer.push(...got);
      else for (const r of got) if (r.type !== Type.CNAME) additional.push(r);
    });
    return this.#reply(zone, req.qname, { ...f, answer, additional, tails: [] });
  }

  async #ask(req: DnsRequest, t: Tail): Promise<readonly RR[]> {
    const sub = DnsRequest.synthetic(t.name, t.type, req);
    sub.server = req.server;
    sub.zone = this.#opts.blockZones.find((z) => isSubdomain(t.name, z)) ?? '.';
    try {
      const r = await this.#opts.upstream().serveDNS(sub);
      return r.rcode === Rcode.NOERROR ? r.answer : [];
    } catch {
      return [];
    }
  }
}
