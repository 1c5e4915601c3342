/**
 * @module plugins/kubernetes/dns-index
 * The DNS index over a ClusterStore: answers a (name, type) in O(1) from the
 * answer cache, builds missing answers from the store on demand (lazily:
 * nothing is built for names nobody asks for, which is what keeps 100k
 * services within the memory budget), and follows store changes
 * incrementally: a Service or EndpointSlice change discards only that
 * service's view, a namespace change only that namespace's scope, an address
 * change only that address's PTR answer.
 */
import type { LabelSelector } from '../../cluster/label-selector.ts';
import type { ClusterStore } from '../../cluster/store.ts';
import type { EndpointSliceRecord, PodRecord, ServiceRecord, StoreChange } from '../../cluster/types.ts';
import { Rcode, Type } from '../../dns/constants.ts';
import { ipFromReverseName, reverseName } from '../../dns/ip.ts';
import { rrs, type RR } from '../../dns/rr.ts';
import type { Reply } from '../../dns/reply.ts';
import { BY_TEXT } from '../../dns/plain-name-table.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { AnswerCache, CachedName, NegativeName, type CachedAnswer } from './answer-cache.ts';
import {
  addressAnswer, cnameAnswer, negative, positive, ptrAnswer, schemaVersionReply, soaRecord, srvAnswer,
} from './answers.ts';
import { NamespaceScope } from './generations.ts';
import { zoneSuffix } from '../../dns/name.ts';
import { inZone } from './names.ts';
import { FOUND, NO_DEPENDENCIES, NX, podIsLive, records, type Dependencies, type Lookup, type PodMode, type RecordSource } from './records.ts';
import { ReverseIndex } from './reverse-index.ts';
import { buildServiceView, endpointLabel, endpointUsable, type ServiceView } from './service-view.ts';

export interface IndexOptions {
  /** Served zones (canonical), forward and reverse. */
  readonly zones: readonly string[];
  /** First forward zone: PTR targets use it (C16). */
  readonly primaryZone: string;
  readonly ttl: number;
  readonly pods: PodMode;
  readonly endpointPodNames: boolean;
  /** false with `noendpoints` (O10). */
  readonly endpoints: boolean;
  readonly ignoreEmptyService: boolean;
  readonly zonal: boolean;
  /** `namespaces` (O4), or null for all. */
  readonly namespaces: ReadonlySet<string> | null;
  /** `namespace_labels` (O5), or null. */
  readonly namespaceLabels: LabelSelector | null;
  /** The server's own addresses, for NS (C5); read when needed (bind is set up after us). */
  readonly localAddresses: () => readonly string[];
  /** Most names with answers kept (default: five per Service, at least 20,480, so every A, SRV and PTR name of the cluster fits). */
  readonly maxCachedNames?: number;
  /**
   * About how many heap bytes the kept answers may take (default 64 MiB: the
   * 10,000-service bench's mixes, 38,419 names, fit with room), estimated per
   * name when its answers are built (answer-cache.ts answerBytes).
   */
  readonly maxCachedBytes?: number;
  /** Most service views kept (default: one per Service, at least 10,000). */
  readonly maxViews?: number;
  /** Most names kept as not existing or without data (default 65536: an ndots:5 search list's misses fit). */
  readonly maxNegativeNames?: number;
}

/** IndexOptions.maxCachedBytes by default. */
export const DEFAULT_MAX_CACHED_BYTES = 64 * 1024 * 1024;

/** Called for each EndpointSlice change that carries a trigger time (programming latency metric). */
export type SliceObserver = (slice: EndpointSliceRecord, service: ServiceRecord | undefined) => void;

/**
 * Whether records() decides the answer to `qname` for every type alike, so
 * one NegativeName can stand for all of them: not for the names some types
 * answer specially (#dependencies): the apex (SOA, NS), ns.dns and
 * dns-version, and reverse names of an address (PTR).
 */
function sameForEveryType(qname: string, zone: string): boolean {
  return qname !== zone && qname !== inZone('ns.dns', zone) && qname !== inZone('dns-version', zone) && ipFromReverseName(qname) === null;
}

/** A records() result, as opposed to NO_DEPENDENCIES. */
function isLookup(d: Dependencies): d is Lookup {
  return 'kind' in d;
}

export class DnsIndex implements RecordSource {
  readonly store: ClusterStore;
  readonly opts: IndexOptions;
  readonly ttl: number;
  readonly pods: PodMode;
  readonly ignoreEmptyService: boolean;
  readonly zonal: boolean;
  readonly #cache: AnswerCache;
  /** Names that do not exist or hold no data: answered from the zone's one pre-encoded negative (#neg). */
  readonly #negatives: AnswerCache<NegativeName>;
  readonly #reverse = new ReverseIndex();
  readonly #views = new Map<string, ServiceView>();
  #maxViews = 0;
  readonly #scopes = new Map<string, NamespaceScope>();
  /** Scope of every namespace that does not exist (bumped when any namespace appears or goes). */
  readonly #missing = new NamespaceScope();
  readonly #created = Date.now();
  readonly #unsubscribe: () => void;
  /** Per zone, at one serial: its SOA and the two negative replies carrying it, shared by every name of the zone. */
  readonly #soas = new Map<string, { serial: number; rr: RR; nxdomain: Reply; nodata: Reply }>();
  #sliceObserver: SliceObserver | null = null;

  constructor(store: ClusterStore, opts: IndexOptions) {
    this.store = store;
    this.opts = opts;
    this.ttl = opts.ttl;
    this.pods = opts.pods;
    this.ignoreEmptyService = opts.ignoreEmptyService;
    this.zonal = opts.zonal;
    this.#cache = new AnswerCache(0, opts.maxCachedBytes ?? DEFAULT_MAX_CACHED_BYTES); // names sized by #fitBounds below
    this.#negatives = new AnswerCache<NegativeName>(opts.maxNegativeNames ?? 65_536);
    this.#fitBounds();
    // Index what is already there, then follow changes.
    const touched: string[] = [];
    for (const s of store.services()) this.#reverse.onService(null, s, touched);
    for (const s of store.slices()) this.#reverse.onSlice(null, s, touched);
    this.#unsubscribe = store.subscribe((changes) => this.#onChanges(changes));
  }

  close(): void {
    this.#unsubscribe();
  }

  observeSlices(observer: SliceObserver): void {
    this.#sliceObserver = observer;
  }

  /** SOA serial (C3, D11): Unix time of the last change to the cluster data. */
  get serial(): number {
    return Math.floor((this.store.lastChange || this.#created) / 1000);
  }

  get stats(): { cachedNames: number; cachedBytes: number; negativeNames: number; views: number; clusterIps: number; endpointIps: number } {
    return {
      cachedNames: this.#cache.size, cachedBytes: this.#cache.bytes, negativeNames: this.#negatives.size, views: this.#views.size,
      ...this.#reverse.size,
    };
  }

  /** The zone's SOA record at the current serial (one record per zone, shared by every negative answer). */
  soa(zone: string): RR {
    return this.#zoneAnswers(zone).rr;
  }

  #zoneAnswers(zone: string): { serial: number; rr: RR; nxdomain: Reply; nodata: Reply } {
    const serial = this.serial;
    const cached = this.#soas.get(zone);
    if (cached !== undefined && cached.serial === serial) return cached;
    const rr = soaRecord(zone, this.ttl, serial);
    const made = { serial, rr, nxdomain: negative(zone, Rcode.NXDOMAIN, rr), nodata: negative(zone, Rcode.NOERROR, rr) };
    this.#soas.set(zone, made);
    return made;
  }

  /** Drops every cached answer, so the next queries build theirs (benchmarks of the cold path). */
  forgetAnswers(): void {
    this.#cache.clear();
    this.#negatives.clear();
  }

  // ---- answering ----

  /**
   * answer() for the question of `req` (in `zone`, a zone of this plugin
   * holding it): a kept answer is found by the name's hash, compared in
   * place, and the entry's name becomes the request's text, so a query
   * answered from a kept entry builds no string (AnswerCache.found).
   */
  answerTo(req: DnsRequest, zone: string): CachedAnswer {
    const qtype = req.qtype;
    const entry = this.#cache.found(req);
    if (entry === BY_TEXT) return this.answer(req.qname, qtype, zone);
    if (entry !== undefined) {
      if (entry.valid) {
        const hit = entry.find(qtype, this.serial);
        if (hit !== undefined) return hit;
      }
    } else {
      const neg = this.#negatives.found(req);
      if (neg !== undefined && neg !== BY_TEXT && neg.valid) return this.#negativeFor(neg.nx, qtype, zone);
    }
    return this.answer(req.qname, qtype, zone);
  }

  /** The answer for `qname`/`qtype` in `zone` (a zone of this plugin containing qname). */
  answer(qname: string, qtype: number, zone: string): CachedAnswer {
    const serial = this.serial;
    let entry = this.#cache.get(qname);
    if (entry !== undefined && entry.valid) {
      const hit = entry.find(qtype, serial);
      if (hit !== undefined) return hit;
    } else {
      entry = undefined;
      const neg = this.#negatives.get(qname);
      if (neg !== undefined && neg.valid) return this.#negativeFor(neg.nx, qtype, zone);
    }
    const deps = this.#dependencies(qname, qtype, zone);
    if (deps === null) return this.#uncached(qname, qtype, zone);
    if (isLookup(deps) && deps.kind !== FOUND && sameForEveryType(qname, zone)) {
      // No name of its own to pack: remember the fact, answer with the zone's negative.
      this.#cache.delete(qname);
      this.#negatives.set(qname, new NegativeName(deps.scope, deps.view, qname, deps.kind === NX));
      return this.#negativeFor(deps.kind === NX, qtype, zone);
    }
    const built = this.#build(qname, qtype, zone, deps);
    const fresh = entry === undefined || entry.scope !== deps.scope || entry.view !== deps.view;
    if (fresh) entry = new CachedName(deps.scope, deps.view, qname);
    const grown = entry!.put(qtype, built, 'authorityCount' in built && built.authorityCount > 0 ? serial : -1);
    if (fresh) {
      this.#cache.set(qname, entry!);
      this.#negatives.delete(qname);
    } else {
      this.#cache.grew(grown);
    }
    return built;
  }

  /** The negative for a name records() found missing (`nx`) or empty: TXT exists only as the schema record (D9). */
  #negativeFor(nx: boolean, qtype: number, zone: string): Reply {
    return this.#neg(zone, nx || qtype === Type.TXT ? Rcode.NXDOMAIN : Rcode.NOERROR);
  }

  /**
   * What the answer to (qname, qtype) is made of: the lookup of the name
   * (with the generations it depends on), NO_DEPENDENCIES for the names
   * that depend on no cluster object, or null for the few answers that are
   * not cached at all (apex NS, ns.dns addresses: from several services).
   */
  #dependencies(qname: string, qtype: number, zone: string): Dependencies | null {
    if (qtype === Type.NS && qname === zone) return null;
    const nsDns = qname === inZone('ns.dns', zone);
    if (nsDns && (qtype === Type.A || qtype === Type.AAAA)) return null;
    if (qtype === Type.TXT && qname === inZone('dns-version', zone)) return NO_DEPENDENCIES;
    if (qtype === Type.SOA && qname === zone) return NO_DEPENDENCIES;
    // PTR answers are deleted explicitly when an address changes owner (#onChanges).
    if (qtype === Type.PTR && ipFromReverseName(qname) !== null) return NO_DEPENDENCIES;
    if (nsDns) return NO_DEPENDENCIES;
    return records(this, qname, zone);
  }

  /** Builds the answer from what #dependencies found. */
  #build(qname: string, qtype: number, zone: string, l: Dependencies): CachedAnswer {
    if (qtype === Type.TXT) {
      if (qname === inZone('dns-version', zone)) return schemaVersionReply(qname);
      // TXT exists only as the schema record: NODATA where there are records of other types, else NXDOMAIN (D9).
      return this.#neg(zone, isLookup(l) && l.kind === FOUND && l.entries.length > 0 ? Rcode.NOERROR : Rcode.NXDOMAIN);
    }
    if (qtype === Type.SOA && qname === zone) return positive(qname, [this.soa(zone)]);
    if (qtype === Type.PTR) {
      const ip = ipFromReverseName(qname);
      if (ip !== null) {
        const targets = this.ptrTargets(ip);
        return targets.length === 0 ? this.#neg(zone, Rcode.NXDOMAIN) : positive(qname, ptrAnswer(qname, targets, this.ttl));
      }
    }
    if (!isLookup(l)) return this.#neg(zone, qtype === Type.PTR ? Rcode.NXDOMAIN : Rcode.NOERROR); // ns.dns.<zone>
    if (l.kind !== FOUND) return this.#neg(zone, l.kind === NX ? Rcode.NXDOMAIN : Rcode.NOERROR);
    switch (qtype) {
      case Type.A:
      case Type.AAAA: {
        const a = addressAnswer(qname, qtype, l, this.ttl);
        if (a === null) return this.#neg(zone, Rcode.NOERROR);
        return Array.isArray(a) ? positive(qname, a) : (a as CachedAnswer);
      }
      case Type.SRV: {
        const s = srvAnswer(qname, l, this.ttl);
        return s === null ? this.#neg(zone, Rcode.NOERROR) : positive(qname, s.answer, s.additional);
      }
      case Type.CNAME: {
        const c = cnameAnswer(qname, l, this.ttl);
        return c === null ? this.#neg(zone, Rcode.NOERROR) : positive(qname, [c]);
      }
      default:
        // MX, ANY, PTR and NS below the apex, SOA below the apex, other types: the name exists, no data (C7).
        return this.#neg(zone, Rcode.NOERROR);
    }
  }

  #neg(zone: string, rcode: number): Reply {
    const z = this.#zoneAnswers(zone);
    return rcode === Rcode.NXDOMAIN ? z.nxdomain : z.nodata;
  }

  /** Apex NS and ns.dns.<zone> addresses: few queries, data from several services, so built each time. */
  #uncached(qname: string, qtype: number, zone: string): Reply {
    const ns = this.nameservers(zone);
    if (qtype === Type.NS) {
      if (ns.length === 0) return this.#neg(zone, Rcode.NOERROR);
      const names = [...new Set(ns.map((n) => n.name))];
      return positive(qname, names.map((n) => rrs.ns(qname, this.ttl, n)), ns.map((n) => rrs.addr(n.name, this.ttl, n.ip)), false);
    }
    const want = qtype === Type.AAAA;
    const addrs = ns.filter((n) => n.ip.includes(':') === want).map((n) => (want ? rrs.aaaa(qname, this.ttl, n.ip) : rrs.a(qname, this.ttl, n.ip)));
    return addrs.length === 0 ? this.#neg(zone, Rcode.NOERROR) : positive(qname, addrs, [], false);
  }

  /**
   * The names and addresses of this DNS server (C5): each Service whose endpoints include one of
   * the server's own addresses (its ClusterIPs, or for a headless one its endpoints), else
   * ns.dns.<zone> with the own addresses; empty when there is no usable own address (D8).
   */
  nameservers(zone: string): { name: string; ip: string }[] {
    const out: { name: string; ip: string }[] = [];
    const local = this.opts.localAddresses();
    for (const ip of local) {
      for (const slice of this.#reverse.slicesWithIp(ip)) {
        const svc = this.store.service(slice.namespace, slice.serviceName);
        if (svc === undefined) continue;
        const svcName = `${svc.name}.${svc.namespace}.svc.${zoneSuffix(zone)}`;
        if (svc.headless) {
          for (const e of slice.endpoints) {
            if (!endpointUsable(e, svc.publishNotReadyAddresses)) continue;
            for (const a of e.addresses) out.push({ name: `${endpointLabel(e, a, this.opts.endpointPodNames)}.${svcName}`, ip: a });
          }
        } else {
          for (const c of svc.clusterIPs) out.push({ name: svcName, ip: c });
        }
      }
    }
    if (out.length === 0) for (const ip of local) out.push({ name: inZone('ns.dns', zone), ip });
    return out;
  }

  /** PTR targets for an address (C16): the ClusterIP's service, else every ready endpoint with it. */
  ptrTargets(ip: string): string[] {
    const primary = zoneSuffix(this.opts.primaryZone);
    const only = this.opts.namespaces;
    // namespace_labels is not applied to PTR, as in CoreDNS (D10).
    for (const svc of this.#reverse.servicesWithIp(ip)) {
      if (only !== null && !only.has(svc.namespace)) continue;
      return [`${svc.name}.${svc.namespace}.svc.${primary}`];
    }
    const out: string[] = [];
    for (const slice of this.#reverse.slicesWithIp(ip)) {
      if (only !== null && !only.has(slice.namespace)) continue;
      const publishNotReady = this.store.service(slice.namespace, slice.serviceName)?.publishNotReadyAddresses ?? false;
      for (const e of slice.endpoints) {
        if (!endpointUsable(e, publishNotReady) || !e.addresses.includes(ip)) continue;
        out.push(`${endpointLabel(e, ip, this.opts.endpointPodNames)}.${slice.serviceName}.${slice.namespace}.svc.${primary}`);
      }
    }
    return out;
  }

  /**
   * The search list for a client (C25, CoreDNS AutoPath): with `pods verified`, when the client
   * address is a known pod's, `<pod-ns>.svc.<zone>`, `svc.<zone>`, `<zone>`; else null.
   * `zone` is the zone the query falls in (the primary zone by default).
   */
  searchPathFor(clientIp: string, zone: string = this.opts.primaryZone): string[] | null {
    if (this.pods !== 'verified') return null;
    const pod = this.podForClient(clientIp);
    if (pod === null) return null;
    return [inZone(`${pod.namespace}.svc`, zone), inZone('svc', zone), zone];
  }

  /** The pod a client address (IPv4-mapped IPv6 unmapped) belongs to now, or null (autopath, metadata). */
  podForClient(clientIp: string): PodRecord | null {
    return this.#podForClient(clientIp.startsWith('::ffff:') && clientIp.includes('.') ? clientIp.slice(7) : clientIp);
  }

  /** The pod using `ip` now: running or pending, not being deleted; the latest when several claim it. */
  #podForClient(ip: string): PodRecord | null {
    const pods = this.store.podsWithIp(ip);
    for (let i = pods.length - 1; i >= 0; i--) {
      const p = pods[i]!;
      if (podIsLive(p)) return p;
    }
    return null;
  }

  // ---- RecordSource (records() reads these) ----

  namespaceScope(namespace: string): NamespaceScope {
    return this.store.namespace(namespace) === undefined ? this.#missing : this.#scopeOf(namespace);
  }

  namespaceExposed(namespace: string): boolean {
    const ns = this.store.namespace(namespace);
    if (ns === undefined) return false;
    if (this.opts.namespaces !== null && !this.opts.namespaces.has(namespace)) return false;
    return this.opts.namespaceLabels === null || this.opts.namespaceLabels.matches(ns.labels);
  }

  service(namespace: string, name: string): ServiceRecord | undefined {
    return this.store.service(namespace, name);
  }

  view(service: ServiceRecord): ServiceView {
    const key = `${service.namespace}/${service.name}`;
    let v = this.#views.get(key);
    if (v === undefined || v.service !== service) {
      if (v !== undefined) { v.token.gen++; this.#views.delete(key); }
      v = buildServiceView(this.store, service, this.opts.endpointPodNames, this.opts.endpoints);
      if (this.#views.size >= this.#maxViews) this.#dropView(this.#views.keys().next().value!);
      this.#views.set(key, v);
    }
    return v;
  }

  podsWithIp(ip: string): readonly PodRecord[] {
    return this.store.podsWithIp(ip);
  }

  #scopeOf(namespace: string): NamespaceScope {
    let s = this.#scopes.get(namespace);
    if (s === undefined) { s = new NamespaceScope(); this.#scopes.set(namespace, s); }
    return s;
  }

  #dropView(key: string): void {
    const v = this.#views.get(key);
    if (v === undefined) return;
    v.token.gen++;
    this.#views.delete(key);
  }

  // ---- following the store ----

  #onChanges(changes: readonly StoreChange[]): void {
    const touched: string[] = [];
    for (const c of changes) {
      switch (c.kind) {
        case 'Namespace': {
          const s = this.#scopes.get(c.key);
          if (s !== undefined) { s.gen++; if (c.current === null) this.#scopes.delete(c.key); }
          if (c.previous === null || c.current === null) this.#missing.gen++;
          break;
        }
        case 'Service': {
          const prev = c.previous as ServiceRecord | null;
          const cur = c.current as ServiceRecord | null;
          const svc = (cur ?? prev)!;
          this.#dropView(c.key);
          if (prev === null || cur === null) this.#bumpNeg(svc.namespace);
          this.#reverse.onService(prev, cur, touched);
          if (prev !== null && cur !== null && prev.publishNotReadyAddresses !== cur.publishNotReadyAddresses) {
            for (const s of this.store.slicesOfService(svc.namespace, svc.name)) for (const e of s.endpoints) touched.push(...e.addresses);
          }
          break;
        }
        case 'EndpointSlice': {
          const prev = c.previous as EndpointSliceRecord | null;
          const cur = c.current as EndpointSliceRecord | null;
          const slice = (cur ?? prev)!;
          if (prev !== null) this.#dropView(`${prev.namespace}/${prev.serviceName}`);
          if (cur !== null) this.#dropView(`${cur.namespace}/${cur.serviceName}`);
          this.#reverse.onSlice(prev, cur, touched);
          if (cur !== null && cur.triggerTime && this.#sliceObserver !== null) {
            this.#sliceObserver(cur, this.store.service(slice.namespace, slice.serviceName));
          }
          break;
        }
        case 'Pod': {
          const p = (c.current ?? c.previous) as PodRecord;
          this.#bumpNeg(p.namespace);
          break;
        }
      }
    }
    for (const ip of touched) {
      const name = reverseName(ip);
      if (name !== null) this.#cache.delete(name);
    }
    this.#fitBounds();
  }

  /**
   * The bounds of the kept answers and views, set at start and after every
   * change of the store (not on the query path). Sized for the cache plugin
   * stepping aside (Reply.kept): they hold the whole working set of cluster
   * names, so they follow the cluster (a fixed 20,480 made a 10k-service blend
   * evict and rebuild its own answers): five names and one view per Service.
   * Still bounds: with `pods insecure` every IP-shaped name exists. A view
   * evicted for room invalidates the names built from it.
   */
  #fitBounds(): void {
    const { maxCachedNames, maxViews } = this.opts;
    const services = this.store.count('Service');
    this.#cache.max = maxCachedNames ?? Math.max(20_480, 5 * services);
    this.#maxViews = maxViews ?? (maxCachedNames !== undefined ? Math.min(maxCachedNames, 10_000) : Math.max(10_000, services));
  }

  #bumpNeg(namespace: string): void {
    const s = this.#scopes.get(namespace);
    if (s !== undefined) s.negGen++;
  }
}
