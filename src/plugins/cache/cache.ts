/**
 * @module plugins/cache/cache
 * The cache handler. A hit is the hot path of the whole server: one Map
 * lookup (keyed by the request's own name string), an age in whole seconds,
 * and the stored reply returned as is or `aged()` (the writer takes the age
 * off every TTL while copying the prepacked bytes). A miss asks the next
 * plugin and stores what is cacheable with every TTL set to the entry's
 * lifetime (CoreDNS: one TTL for the whole reply, capped). Expired entries
 * may be served stale while the next plugin fails (serve_stale), and
 * popular entries are refreshed before they expire (prefetch). A reply the
 * plugin behind keeps pre-encoded (Reply.kept: the kubernetes index's
 * answers) is passed on, not stored: asking that plugin again costs what a
 * hit costs, and the capacity goes to answers that are dear to get. Under
 * the zones where the next plugin keeps every answer (keptZones(), decided
 * when the chain is built) the lookup is skipped too, while the store holds
 * no entry there: one zone check per query instead of a Map miss.
 */
import { Class, Rcode } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { withTtl, type RR } from '../../dns/rr.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
import { classify, clampTtl, minimalTtl, ReplyType } from './classify.ts';
import { CacheCounters, type CacheStatsSource } from './metrics.ts';
import { CacheEntry, CacheStore, KeyFlag, Kind } from './store.ts';

/** RFC 8767: TTL of a stale answer given because the source failed. */
export const STALE_TTL = 30;
/** performance.now() + this = ms since the epoch, monotonic (DnsRequest.start is a performance.now() reading). */
const ORIGIN_MS = performance.timeOrigin;
/** Age that takes every TTL of an entry to 0 (a stale answer served while it is refreshed). */
const ZERO_TTL_AGE = 0x7fffffff;

export interface CacheOptions {
  readonly zones: readonly string[];
  readonly successCapacity: number;
  readonly successMaxTtl: number;
  readonly successMinTtl: number;
  readonly denialCapacity: number;
  readonly denialMaxTtl: number;
  readonly denialMinTtl: number;
  /** Hits within prefetchWindowMs that make an entry worth refreshing early; 0: no prefetch. */
  readonly prefetchAmount: number;
  readonly prefetchWindowMs: number;
  /** Refresh once the remaining TTL is at most this percentage of the TTL. */
  readonly prefetchPercentage: number;
  /** How long past expiry an entry may still be served; 0: never. */
  readonly staleMs: number;
  /** serve_stale verify: ask the next plugin first, serve stale only when it fails. */
  readonly verifyStale: boolean;
  /** Seconds to cache SERVFAIL; 0: not at all. */
  readonly servfailTtl: number;
  /** Zones where success (denial) answers are not cached; null: none. */
  readonly disableSuccess: readonly string[] | null;
  readonly disableDenial: readonly string[] | null;
  readonly keepTtl: boolean;
}

export class Cache implements ChainHandler, CacheStatsSource {
  readonly name = 'cache';
  next!: Handler;
  readonly store: CacheStore;
  readonly zones: string;
  readonly #opts: CacheOptions;
  readonly #allZones: boolean;
  /** Zones (within ours) whose next plugin keeps its answers; empty: none (skipKeptZones). */
  #keptZones: readonly string[] = [];
  /** Marks the kept replies this cache passes unchanged (Reply.passedBy); null when that depends on the name (disable). */
  readonly #passToken: object | null;
  readonly #counters = new Map<string, CacheCounters>();
  #last: CacheCounters;
  entriesServer: string;
  /**
   * Clock (ms), replaceable in tests. null: monotonic time, and on the hit
   * path the request's arrival time, so a hit reads no clock (a clock read
   * costs as much as the rest of a hit's lookup).
   */
  now: (() => number) | null = null;

  constructor(opts: CacheOptions, server: string) {
    this.#opts = opts;
    this.store = new CacheStore(opts.successCapacity, opts.denialCapacity);
    this.zones = opts.zones.join(',');
    this.#allZones = opts.zones.includes('.');
    this.#last = new CacheCounters(server);
    this.#counters.set(server, this.#last);
    this.entriesServer = server;
    this.#passToken = opts.disableSuccess === null && opts.disableDenial === null ? {} : null;
  }

  /**
   * Names under `zones` (the next plugin's keptZones()) are answered by that
   * plugin from replies it keeps: no lookup for them while the store holds
   * none of them (those it does not keep, e.g. ExternalName CNAMEs, are
   * stored; then lookups resume there until they are gone).
   */
  skipKeptZones(zones: readonly string[]): void {
    this.#keptZones = zones;
  }

  serveDNS(req: DnsRequest): Answer {
    if (!this.#allZones && req.zoneIn(this.#opts.zones) === null) return this.next.serveDNS(req);
    const c = this.#countersFor(req.server);
    c.requests++;
    const flags = (req.do ? KeyFlag.DO : 0) | ((req.flags & 0x10) !== 0 ? KeyFlag.CD : 0);
    const e = this.#underKept(req) ? null : this.store.find(req, flags);
    if (e !== null) {
      const clock = this.now;
      const now = clock === null ? ORIGIN_MS + req.start : clock();
      if (now < e.expiresMs) {
        if (e.kind === Kind.SUCCESS) c.hitsSuccess++; else c.hitsDenial++;
        e.referenced = true;
        if (this.#opts.prefetchAmount > 0) this.#maybePrefetch(e, req, now, c);
        if (this.#opts.keepTtl) return e.reply;
        const age = ((now - e.storedMs) / 1000) | 0;
        return age === 0 ? e.reply : e.reply.aged(age);
      }
      if (now < e.expiresMs + this.#opts.staleMs) return this.#serveStale(e, req, c);
      this.store.delete(e);
    }
    c.misses++;
    const a = this.next.serveDNS(req);
    // Answered at once: nothing can have been stored for this question since the lookup above found none.
    if (a instanceof Promise) return a.then((r) => this.#stored(req, r, flags, c));
    return this.#stored(req, a, flags, c, true);
  }

  /** A name the next plugin answers from kept replies, and nothing of the kind stored: a lookup would miss. */
  #underKept(req: DnsRequest): boolean {
    const z = this.#keptZones;
    return z.length > 0 && this.store.keptZoneEntries === 0 && req.qclass === Class.IN && req.zoneIn(z) !== null;
  }

  /** The time now on the cache's clock. */
  #now(): number {
    const clock = this.now;
    return clock === null ? ORIGIN_MS + performance.now() : clock();
  }

  #countersFor(server: string): CacheCounters {
    const last = this.#last;
    if (last.server === server) return last;
    let c = this.#counters.get(server);
    if (c === undefined) { c = new CacheCounters(server); this.#counters.set(server, c); }
    this.#last = c;
    return c;
  }

  #serveStale(e: CacheEntry, req: DnsRequest, c: CacheCounters): Answer {
    if (!this.#opts.verifyStale) {
      // immediate: the stale answer now (TTL 0, so clients ask again soon), a refresh behind it.
      this.#countStale(e, c);
      if (!e.refreshing) this.#refresh(e, req, c);
      return e.reply.aged(ZERO_TTL_AGE);
    }
    // verify: the source first; the stale answer only when it fails.
    const done = (r: Reply): Reply => {
      if (r.rcode === Rcode.NOERROR || r.rcode === Rcode.NXDOMAIN) return this.#stored(req, r, e.flags, c);
      this.#countStale(e, c);
      return this.#staleReply(e);
    };
    const a = this.next.serveDNS(req);
    if (a instanceof Promise) return a.then(done, () => done(Reply.error(Rcode.SERVFAIL)));
    return done(a);
  }

  #countStale(e: CacheEntry, c: CacheCounters): void {
    c.stale++;
    if (e.kind === Kind.SUCCESS) c.hitsSuccess++; else c.hitsDenial++;
  }

  /** The entry with TTLs of at most STALE_TTL (RFC 8767). */
  #staleReply(e: CacheEntry): Reply {
    if (this.#opts.keepTtl) return e.reply;
    return e.reply.aged(e.ttl > STALE_TTL ? e.ttl - STALE_TTL : 0);
  }

  #maybePrefetch(e: CacheEntry, req: DnsRequest, now: number, c: CacheCounters): void {
    const o = this.#opts;
    if (now - e.windowStart > o.prefetchWindowMs) { e.windowStart = now; e.hits = 0; }
    e.hits++;
    if (e.refreshing || e.hits < o.prefetchAmount) return;
    const threshold = Math.ceil((o.prefetchPercentage / 100) * e.ttl) * 1000;
    if (e.expiresMs - now > threshold) return;
    c.prefetch++;
    this.#refresh(e, req, c);
  }

  /** Ask the next plugin again in the background; a failure keeps the old entry. */
  #refresh(e: CacheEntry, req: DnsRequest, c: CacheCounters): void {
    e.refreshing = true;
    const done = (r: Reply): void => {
      e.refreshing = false;
      if (r.rcode !== Rcode.NOERROR && r.rcode !== Rcode.NXDOMAIN) return;
      this.#stored(req, r, e.flags, c);
      const n = this.store.get(e.qname, e.qtype, e.qclass, e.flags);
      if (n !== null && n !== e) { n.hits = e.hits; n.windowStart = e.windowStart; }
    };
    let a: Answer;
    try {
      a = this.next.serveDNS(req);
    } catch {
      e.refreshing = false;
      return;
    }
    if (a instanceof Promise) {
      // The client's answer goes out now; this refresh still reads the request when the next plugin answers.
      req.hold();
      a.then(done, () => { e.refreshing = false; });
    } else {
      done(a);
    }
  }

  /**
   * Stores a reply from the next plugin when it is cacheable; returns what to send now.
   * `noEntry`: the caller knows no entry exists for the question (it just looked), so a passed reply needs no lookup.
   */
  #stored(req: DnsRequest, r: Reply, flags: number, c: CacheCounters, noEntry = false): Reply {
    if (r.passedBy !== null && r.passedBy === this.#passToken) return this.#passed(req, r, flags, c, noEntry);
    const o = this.#opts;
    const type = classify(r);
    let kind: Kind;
    let ttl: number;
    switch (type) {
      case ReplyType.NO_ERROR: case ReplyType.DELEGATION:
        if (o.disableSuccess !== null && req.zoneIn(o.disableSuccess) !== null) return r;
        kind = Kind.SUCCESS;
        ttl = clampTtl(minimalTtl(r, type), o.successMinTtl, o.successMaxTtl);
        break;
      case ReplyType.NAME_ERROR: case ReplyType.NO_DATA:
        if (o.disableDenial !== null && req.zoneIn(o.disableDenial) !== null) return r;
        kind = Kind.DENIAL;
        ttl = clampTtl(minimalTtl(r, type), o.denialMinTtl, o.denialMaxTtl);
        break;
      case ReplyType.SERVER_ERROR: {
        if (o.servfailTtl <= 0) return r;
        // Never let a failure push out an answer that may still be served stale.
        const old = this.store.get(req.qname, req.qtype, req.qclass, flags);
        if (old !== null && this.#now() < old.expiresMs + o.staleMs) return r;
        kind = Kind.DENIAL;
        ttl = o.servfailTtl;
        break;
      }
      default:
        return r;
    }
    if (ttl <= 0) return r;
    // Sections whose TTLs already are the entry's (the kubernetes index's answers) are kept as they are, with their packed bytes.
    const keep = o.keepTtl || r.allTtlsAre(ttl);
    // The plugin behind keeps this reply and gives it again as cheaply as a hit would: a copy here would only take
    // capacity from answers that are dear to get (forwarded ones). Passed on as it is when the cache would not change
    // its TTLs; counted as a miss (CoreDNS's meaning: not answered from the cache) and as passed.
    if (keep && r.kept) {
      r.passedBy = this.#passToken;
      return this.#passed(req, r, flags, c, noEntry);
    }
    const served = new Reply({
      rcode: r.rcode, authoritative: true, recursionAvailable: r.recursionAvailable, plugin: 'cache',
      answer: keep ? r.answer : setTtl(r.answer, ttl),
      authority: keep ? r.authority : setTtl(r.authority, ttl),
      additional: keep ? r.additional : setTtl(r.additional, ttl),
    }).sharePackedOf(r).prepack(req.qname);
    const entry = new CacheEntry(req.qname, req.qtype, req.qclass, flags, kind, served, ttl, this.#now());
    entry.inKeptZone = this.#keptZones.length > 0 && req.qclass === Class.IN && req.zoneIn(this.#keptZones) !== null;
    const evicted = this.store.put(entry);
    if (evicted > 0) { if (kind === Kind.SUCCESS) c.evictionsSuccess += evicted; else c.evictionsDenial += evicted; }
    this.entriesServer = c.server;
    // This reply still belongs to the plugin that made it (coredns_dns_responses_total{plugin}), error included.
    const now = served.with({ plugin: r.plugin });
    return r.error ? now.withError(r.error) : now;
  }

  /** A kept reply let through unstored: counted as passed. */
  #passed(req: DnsRequest, r: Reply, flags: number, c: CacheCounters, noEntry: boolean): Reply {
    c.passed++;
    // An older entry for the question (stored before the plugin kept this answer) must not be served stale instead.
    if (!noEntry) {
      const old = this.store.get(req.qname, req.qtype, req.qclass, flags);
      if (old !== null) this.store.delete(old);
    }
    return r;
  }

  counters(): Iterable<CacheCounters> {
    return this.#counters.values();
  }

  entries(kind: 'success' | 'denial'): number {
    return this.store.size(kind === 'success' ? Kind.SUCCESS : Kind.DENIAL);
  }
}

function setTtl(rrs: readonly RR[], ttl: number): RR[] {
  return rrs.map((r) => (r.ttl === ttl ? r : withTtl(r, ttl)));
}
