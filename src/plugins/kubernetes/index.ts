/**
 * @module plugins/kubernetes/index
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
import { AnswerCache, CachedName, NamespaceScope, type CachedAnswer } from './answer-cache.ts';
import {
  addressAnswer, cnameAnswer, inZone, negative, positive, ptrAnswer, schemaVersionReply, soaRecord, srvAnswer,
} from './answers.ts';
import { FOUND, NX, records, type PodMode, type RecordSource } from './records.ts';
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
  /** Most names kept in the answer cache (default 10000). */
  readonly maxCachedNames?: number;
  /** Most service views kept (default: maxCachedNames). */
  readonly maxViews?: number;
}

/** Called for each EndpointSlice change that carries a trigger time (programming latency metric). */
export type SliceObserver = (slice: EndpointSliceRecord, service: ServiceRecord | undefined) => void;

export class DnsIndex implements RecordSource {
  readonly store: ClusterStore;
  readonly opts: IndexOptions;
  readonly ttl: number;
  readonly pods: PodMode;
  readonly ignoreEmptyService: boolean;
  readonly zonal: boolean;
  readonly #cache: AnswerCache;
  readonly #reverse = new ReverseIndex();
  readonly #views = new Map<string, ServiceView>();
  readonly #maxViews: number;
  readonly #scopes = new Map<string, NamespaceScope>();
  /** Scope of every namespace that does not exist (bumped when any namespace appears or goes). */
  readonly #missing = new NamespaceScope();
  readonly #created = Date.now();
  readonly #unsubscribe: () => void;
  readonly #soas = new Map<string, { serial: number; rr: RR }>();
  #sliceObserver: SliceObserver | null = null;
  // What the answer being built depended on (set by the RecordSource methods).
  #usedScope: NamespaceScope | null = null;
  #usedView: ServiceView | null = null;

  constructor(store: ClusterStore, opts: IndexOptions) {
    this.store = store;
    this.opts = opts;
    this.ttl = opts.ttl;
    this.pods = opts.pods;
    this.ignoreEmptyService = opts.ignoreEmptyService;
    this.zonal = opts.zonal;
    this.#cache = new AnswerCache(opts.maxCachedNames ?? 10_000);
    // As many views as cached names: a view evicted for room invalidates the cached names built from it, so with
    // fewer views than names a query pattern over more services than views rebuilds on every cache-plugin miss.
    this.#maxViews = opts.maxViews ?? opts.maxCachedNames ?? 10_000;
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

  get stats(): { cachedNames: number; views: number; clusterIps: number; endpointIps: number } {
    return { cachedNames: this.#cache.size, views: this.#views.size, ...this.#reverse.size };
  }

  /** The zone's SOA record at the current serial (one record per zone, shared by every negative answer). */
  soa(zone: string): RR {
    const serial = this.serial;
    const cached = this.#soas.get(zone);
    if (cached !== undefined && cached.serial === serial) return cached.rr;
    const rr = soaRecord(zone, this.ttl, serial);
    this.#soas.set(zone, { serial, rr });
    return rr;
  }

  // ---- answering ----

  /** The answer for `qname`/`qtype` in `zone` (a zone of this plugin containing qname). */
  answer(qname: string, qtype: number, zone: string): CachedAnswer {
    const serial = this.serial;
    let entry = this.#cache.get(qname);
    if (entry !== undefined && entry.valid) {
      const hit = entry.find(qtype, serial);
      if (hit !== undefined) return hit;
    } else {
      entry = undefined;
    }
    this.#usedScope = null;
    this.#usedView = null;
    const built = this.#build(qname, qtype, zone);
    if (built === null) return this.#uncached(qname, qtype, zone);
    const used = this.#usedView as ServiceView | null; // set by #build through the RecordSource calls
    const token = used === null ? null : used.token;
    if (entry === undefined || entry.scope !== this.#usedScope || entry.view !== token) {
      entry = new CachedName(this.#usedScope, token);
      this.#cache.set(qname, entry);
    }
    entry.put(qtype, built, 'authority' in built && built.authority.length > 0 ? serial : -1);
    return built;
  }

  /** Builds the answer; null for the few that must not be cached (apex NS, ns.dns addresses). */
  #build(qname: string, qtype: number, zone: string): CachedAnswer | null {
    if (qtype === Type.NS && qname === zone) return null;
    if (qname === inZone('ns.dns', zone) && (qtype === Type.A || qtype === Type.AAAA)) return null;
    if (qtype === Type.TXT) {
      if (qname === inZone('dns-version', zone)) return schemaVersionReply(qname);
      // TXT exists only as the schema record: NODATA where there are records of other types, else NXDOMAIN (D9).
      const l = records(this, qname, zone);
      return this.#neg(qname, zone, l.kind === FOUND && l.entries.length > 0 ? Rcode.NOERROR : Rcode.NXDOMAIN);
    }
    if (qtype === Type.SOA && qname === zone) return positive(qname, [this.soa(zone)]);
    if (qtype === Type.PTR) {
      const ip = ipFromReverseName(qname);
      if (ip !== null) {
        const targets = this.ptrTargets(ip);
        return targets.length === 0 ? this.#neg(qname, zone, Rcode.NXDOMAIN) : positive(qname, ptrAnswer(qname, targets, this.ttl));
      }
    }
    if (qname === inZone('ns.dns', zone)) return this.#neg(qname, zone, qtype === Type.PTR ? Rcode.NXDOMAIN : Rcode.NOERROR);
    const l = records(this, qname, zone);
    if (l.kind !== FOUND) return this.#neg(qname, zone, l.kind === NX ? Rcode.NXDOMAIN : Rcode.NOERROR);
    switch (qtype) {
      case Type.A:
      case Type.AAAA: {
        const a = addressAnswer(qname, qtype, l, this.ttl);
        if (a === null) return this.#neg(qname, zone, Rcode.NOERROR);
        return Array.isArray(a) ? positive(qname, a) : (a as CachedAnswer);
      }
      case Type.SRV: {
        const s = srvAnswer(qname, l, this.ttl);
        return s === null ? this.#neg(qname, zone, Rcode.NOERROR) : positive(qname, s.answer, s.additional);
      }
      case Type.CNAME: {
        const c = cnameAnswer(qname, l, this.ttl);
        return c === null ? this.#neg(qname, zone, Rcode.NOERROR) : positive(qname, [c]);
      }
      default:
        // MX, ANY, PTR and NS below the apex, SOA below the apex, other types: the name exists, no data (C7).
        return this.#neg(qname, zone, Rcode.NOERROR);
    }
  }

  #neg(qname: string, zone: string, rcode: number): Reply {
    return negative(qname, rcode, this.soa(zone));
  }

  /** Apex NS and ns.dns.<zone> addresses: few queries, data from several services, so built each time. */
  #uncached(qname: string, qtype: number, zone: string): Reply {
    const ns = this.nameservers(zone);
    if (qtype === Type.NS) {
      if (ns.length === 0) return this.#neg(qname, zone, Rcode.NOERROR);
      const names = [...new Set(ns.map((n) => n.name))];
      return positive(qname, names.map((n) => rrs.ns(qname, this.ttl, n)), ns.map((n) => rrs.addr(n.name, this.ttl, n.ip)));
    }
    const want = qtype === Type.AAAA;
    const addrs = ns.filter((n) => n.ip.includes(':') === want).map((n) => (want ? rrs.aaaa(qname, this.ttl, n.ip) : rrs.a(qname, this.ttl, n.ip)));
    return addrs.length === 0 ? this.#neg(qname, zone, Rcode.NOERROR) : positive(qname, addrs);
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
        const svcName = `${svc.name}.${svc.namespace}.svc.${zone === '.' ? '' : zone}`;
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
    const primary = this.opts.primaryZone === '.' ? '' : this.opts.primaryZone;
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
      if (!p.deleting && p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.phase !== 'Unknown') return p;
    }
    return null;
  }

  // ---- RecordSource (records() calls these; they note what the answer depends on) ----

  namespaceExposed(namespace: string): boolean {
    const ns = this.store.namespace(namespace);
    if (ns === undefined) {
      this.#usedScope = this.#missing;
      return false;
    }
    this.#usedScope = this.#scopeOf(namespace);
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
    this.#usedView = v;
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
  }

  #bumpNeg(namespace: string): void {
    const s = this.#scopes.get(namespace);
    if (s !== undefined) s.negGen++;
  }
}
