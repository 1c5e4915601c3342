/**
 * @module plugins/cache/store
 * The cache's storage: entries found by question name (a Map keyed by the
 * request's own canonical name string, so a lookup builds no key), then by
 * type, class and DO/CD along a short per-name chain. Success and denial
 * entries have their own capacity; when one is full the oldest entry goes,
 * unless it was hit since it was last considered (CLOCK second chance: a
 * hit only sets a flag, eviction does the work), so busy names stay.
 * Stored plain names are also known by the hash of their text, so a query
 * whose name's text is not built (DnsRequest.nameHash) misses without it.
 */
import { BY_TEXT, PlainNameTable } from '../../dns/plain-name-table.ts';
import type { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';

export const Kind = { SUCCESS: 0, DENIAL: 1 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Request bits that are part of the key besides the question. */
export const KeyFlag = { DO: 1, CD: 2 } as const;

/** Entries looked at (and given a second chance) per eviction before the oldest goes regardless. */
const SECOND_CHANCES = 8;

export class CacheEntry {
  readonly qname: string;
  readonly qtype: number;
  readonly qclass: number;
  readonly flags: number;
  readonly kind: Kind;
  /** Reply as served: TTLs all set to `ttl`, packed for qname. */
  readonly reply: Reply;
  /** Seconds the entry is fresh for (also every record's TTL in `reply`, unless keepttl). */
  readonly ttl: number;
  readonly storedMs: number;
  readonly expiresMs: number;
  /** Hit since eviction last looked at it. */
  referenced = false;
  /** Prefetch: hits in the current window and when the window began. */
  hits = 0;
  windowStart: number;
  /** A background refresh (prefetch or stale) is running. */
  refreshing = false;
  /** Class IN under a zone whose plugin keeps its answers (the cache skips lookups there while none is stored). */
  inKeptZone = false;
  /** @internal chain of entries with the same name; oldest-to-newest list links. */
  sameName: CacheEntry | null = null;
  older: CacheEntry | null = null;
  newer: CacheEntry | null = null;

  constructor(qname: string, qtype: number, qclass: number, flags: number, kind: Kind, reply: Reply, ttl: number, now: number) {
    this.qname = qname;
    this.qtype = qtype;
    this.qclass = qclass;
    this.flags = flags;
    this.kind = kind;
    this.reply = reply;
    this.ttl = ttl;
    this.storedMs = now;
    this.expiresMs = now + ttl * 1000;
    this.windowStart = now;
  }
}

/** The entry of `head`'s chain (one name) with this type, class and flags, or null. */
function sameKey(head: CacheEntry, qtype: number, qclass: number, flags: number): CacheEntry | null {
  for (let e: CacheEntry | null = head; e !== null; e = e.sameName) {
    if (e.qtype === qtype && e.flags === flags && e.qclass === qclass) return e;
  }
  return null;
}

export class CacheStore {
  readonly #byName = new Map<string, CacheEntry>();
  /** Each name's first entry (the head of its chain) again, by the hash of the name (dns/plain-name-table.ts). */
  readonly #byHash = new PlainNameTable<CacheEntry>((e) => e.qname);
  readonly #capacity: readonly [number, number];
  readonly #size: [number, number] = [0, 0];
  /** Per kind: oldest and newest entries. */
  readonly #oldest: [CacheEntry | null, CacheEntry | null] = [null, null];
  readonly #newest: [CacheEntry | null, CacheEntry | null] = [null, null];
  #keptZoneEntries = 0;

  constructor(successCapacity: number, denialCapacity: number) {
    this.#capacity = [successCapacity, denialCapacity];
  }

  /** The entry for this key, fresh or not; null when there is none. No allocation. */
  get(qname: string, qtype: number, qclass: number, flags: number): CacheEntry | null {
    const head = this.#byName.get(qname);
    return head === undefined ? null : sameKey(head, qtype, qclass, flags);
  }

  /**
   * get() for the question of `req`: a name whose text is not built is
   * looked up by its hash (a miss needs no text; on a hit the stored name
   * becomes the request's, DnsRequest.adoptName).
   */
  find(req: DnsRequest, flags: number): CacheEntry | null {
    const head = this.#byHash.find(req);
    if (head === BY_TEXT) return this.get(req.qname, req.qtype, req.qclass, flags);
    return head === undefined ? null : sameKey(head, req.qtype, req.qclass, flags);
  }

  /** Stores `e` in place of any entry with its key; returns the number of entries evicted to make room. */
  put(e: CacheEntry): number {
    const old = this.get(e.qname, e.qtype, e.qclass, e.flags);
    if (old !== null) this.delete(old);
    let evicted = 0;
    const k = e.kind;
    if (this.#capacity[k] <= 0) return 0;
    while (this.#size[k] >= this.#capacity[k]) { this.#evictOne(k); evicted++; }
    const newest = this.#newest[k];
    e.older = newest;
    e.newer = null;
    if (newest !== null) newest.newer = e; else this.#oldest[k] = e;
    this.#newest[k] = e;
    this.#size[k]++;
    if (e.inKeptZone) this.#keptZoneEntries++;
    e.sameName = this.#byName.get(e.qname) ?? null;
    this.#byName.set(e.qname, e);
    if (e.sameName === null) this.#byHash.add(e.qname, e); else this.#byHash.replace(e.qname, e);
    return evicted;
  }

  delete(e: CacheEntry): void {
    const k = e.kind;
    if (e.older !== null) e.older.newer = e.newer; else if (this.#oldest[k] === e) this.#oldest[k] = e.newer; else return;
    if (e.newer !== null) e.newer.older = e.older; else this.#newest[k] = e.older;
    e.older = e.newer = null;
    this.#size[k]--;
    if (e.inKeptZone) this.#keptZoneEntries--;
    const head = this.#byName.get(e.qname);
    if (head === e) {
      if (e.sameName !== null) {
        this.#byName.set(e.qname, e.sameName);
        this.#byHash.replace(e.qname, e.sameName);
      } else {
        this.#byName.delete(e.qname);
        this.#byHash.remove(e.qname);
      }
    } else {
      for (let p = head ?? null; p !== null; p = p.sameName) {
        if (p.sameName === e) { p.sameName = e.sameName; break; }
      }
    }
    e.sameName = null;
  }

  #evictOne(k: Kind): void {
    for (let i = 0; i < SECOND_CHANCES; i++) {
      const o = this.#oldest[k]!;
      if (!o.referenced || o.newer === null) break;
      // Hit since we last looked: move it to the new end.
      o.referenced = false;
      this.#oldest[k] = o.newer;
      o.newer.older = null;
      const n = this.#newest[k]!;
      n.newer = o;
      o.older = n;
      o.newer = null;
      this.#newest[k] = o;
    }
    this.delete(this.#oldest[k]!);
  }

  /** Entries with `inKeptZone` set: while there are none, a lookup of such a name cannot find anything. */
  get keptZoneEntries(): number {
    return this.#keptZoneEntries;
  }

  size(kind: Kind): number {
    return this.#size[kind];
  }

  clear(): void {
    this.#byName.clear();
    this.#byHash.clear();
    this.#size[0] = this.#size[1] = 0;
    this.#keptZoneEntries = 0;
    this.#oldest[0] = this.#oldest[1] = this.#newest[0] = this.#newest[1] = null;
  }
}
