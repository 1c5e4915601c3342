/**
 * @module cluster/store
 * The in-memory mirror of the cluster a source feeds: slim records by kind,
 * namespace and name, plus the secondary indexes DNS needs (EndpointSlices by
 * Service, Pods by IP). Every sink call is applied synchronously and then its
 * real changes (equal updates are dropped) go to the listeners in one batch,
 * so a query (same thread) sees the state before or after a call, never half.
 * `replace` diffs against what is held and keeps the old object when nothing
 * changed, so a relist or manifest re-read neither floods listeners nor
 * doubles memory.
 */
import { compactRecord, StringPool } from './compact-record.ts';
import { sameRecord } from './record-equal.ts';
import { recordKey } from './types.ts';
import { publishSync, syncChannel } from '../diagnostics/channels.ts';
import type {
  ClusterKind,
  ClusterRecord,
  ClusterStateSink,
  EndpointSliceRecord,
  NamespaceRecord,
  PodRecord,
  ServiceRecord,
  StoreChange,
  WatchEvent,
} from './types.ts';

export type StoreListener = (changes: readonly StoreChange[]) => void;

type Namespaced = ServiceRecord | EndpointSliceRecord | PodRecord;

const NO_SLICES: readonly EndpointSliceRecord[] = Object.freeze([]);
const NO_PODS: readonly PodRecord[] = Object.freeze([]);

/** Namespace -> name -> record: no "ns/name" key strings kept per object. */
class NamespacedMap<T extends Namespaced> {
  readonly byNamespace = new Map<string, Map<string, T>>();
  size = 0;

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  set(r: T): void {
    let m = this.byNamespace.get(r.namespace);
    if (m === undefined) { m = new Map(); this.byNamespace.set(r.namespace, m); }
    const had = m.has(r.name);
    m.set(r.name, r);
    if (!had) this.size++;
  }

  delete(namespace: string, name: string): void {
    const m = this.byNamespace.get(namespace);
    if (m === undefined || !m.delete(name)) return;
    this.size--;
    if (m.size === 0) this.byNamespace.delete(namespace);
  }

  *values(): IterableIterator<T> {
    for (const m of this.byNamespace.values()) yield* m.values();
  }
}

export interface ClusterStoreOptions {
  /** Where a listener's exception is reported (default: rethrown after the other listeners ran). */
  readonly onListenerError?: (err: unknown) => void;
}

export class ClusterStore implements ClusterStateSink {
  readonly #namespaces = new Map<string, NamespaceRecord>();
  readonly #services = new NamespacedMap<ServiceRecord>();
  readonly #slices = new NamespacedMap<EndpointSliceRecord>();
  readonly #pods = new NamespacedMap<PodRecord>();
  /** namespace -> service name -> its slices (sorted by slice name). */
  readonly #slicesByService = new Map<string, Map<string, EndpointSliceRecord[]>>();
  /** IP -> pod, or pods when several claim it (a finished pod and its successor). */
  readonly #podsByIp = new Map<string, PodRecord | PodRecord[]>();
  readonly #synced = new Set<ClusterKind>();
  readonly #listeners: StoreListener[] = [];
  readonly #onListenerError: ((err: unknown) => void) | undefined;
  /** Repeated strings of stored records, shared (see compact-record). */
  readonly #pool = new StringPool();
  /** Date.now() of the last real change (the SOA serial is derived from it). */
  lastChange = 0;

  constructor(opts: ClusterStoreOptions = {}) {
    this.#onListenerError = opts.onListenerError;
  }

  // ---- ClusterStateSink ----

  apply(event: WatchEvent): void {
    const changes: StoreChange[] = [];
    const obj = event.object;
    if (event.type === 'DELETED') this.#remove(obj.kind, obj.kind === 'Namespace' ? '' : obj.namespace, obj.name, changes);
    else this.#put(obj, changes);
    this.#emit(changes);
  }

  replace(kinds: readonly ClusterKind[], objects: readonly ClusterRecord[]): void {
    const changes: StoreChange[] = [];
    const wanted = new Set(kinds);
    // What is held after this call, by identity: anything else of these kinds goes.
    const kept = new Set<ClusterRecord>();
    for (const o of objects) {
      if (!wanted.has(o.kind)) continue;
      kept.add(this.#put(o, changes));
    }
    const gone: ClusterRecord[] = [];
    for (const kind of wanted) {
      for (const r of this.#all(kind)) if (!kept.has(r)) gone.push(r);
    }
    for (const r of gone) this.#remove(r.kind, r.kind === 'Namespace' ? '' : r.namespace, r.name, changes);
    this.#emit(changes);
  }

  /** The equal record held under the same key, else `object` (a list's pages dedupe against the store with it). */
  held(object: ClusterRecord): ClusterRecord {
    const previous = this.#get(object.kind, object.kind === 'Namespace' ? '' : object.namespace, object.name);
    return previous !== undefined && sameRecord(previous, object) ? previous : object;
  }

  markSynced(kind: ClusterKind): void {
    this.#synced.add(kind);
    if (syncChannel.hasSubscribers) publishSync({ kind, objects: count(this.#all(kind)) });
  }

  // ---- reading ----

  /** Every one of `kinds` has had its first full list. */
  synced(kinds: readonly ClusterKind[]): boolean {
    for (const k of kinds) if (!this.#synced.has(k)) return false;
    return true;
  }

  isSynced(kind: ClusterKind): boolean {
    return this.#synced.has(kind);
  }

  /** Called with each batch of real changes, synchronously, after the store has applied them. Returns an unsubscribe. */
  subscribe(listener: StoreListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  namespace(name: string): NamespaceRecord | undefined {
    return this.#namespaces.get(name);
  }

  service(namespace: string, name: string): ServiceRecord | undefined {
    return this.#services.get(namespace, name);
  }

  slice(namespace: string, name: string): EndpointSliceRecord | undefined {
    return this.#slices.get(namespace, name);
  }

  pod(namespace: string, name: string): PodRecord | undefined {
    return this.#pods.get(namespace, name);
  }

  /** The EndpointSlices labelled with this service (whether or not the Service exists), by slice name. */
  slicesOfService(namespace: string, service: string): readonly EndpointSliceRecord[] {
    return this.#slicesByService.get(namespace)?.get(service) ?? NO_SLICES;
  }

  /** Pods whose status.podIP or status.podIPs hold `ip` (canonical text), oldest first. */
  podsWithIp(ip: string): readonly PodRecord[] {
    const v = this.#podsByIp.get(ip);
    if (v === undefined) return NO_PODS;
    return Array.isArray(v) ? v : [v];
  }

  namespaces(): IterableIterator<NamespaceRecord> {
    return this.#namespaces.values();
  }

  services(): IterableIterator<ServiceRecord> {
    return this.#services.values();
  }

  /** Services of one namespace. */
  servicesIn(namespace: string): IterableIterator<ServiceRecord> {
    return (this.#services.byNamespace.get(namespace) ?? new Map<string, ServiceRecord>()).values();
  }

  slices(): IterableIterator<EndpointSliceRecord> {
    return this.#slices.values();
  }

  pods(): IterableIterator<PodRecord> {
    return this.#pods.values();
  }

  count(kind: ClusterKind): number {
    switch (kind) {
      case 'Namespace': return this.#namespaces.size;
      case 'Service': return this.#services.size;
      case 'EndpointSlice': return this.#slices.size;
      case 'Pod': return this.#pods.size;
    }
  }

  // ---- internals ----

  #all(kind: ClusterKind): IterableIterator<ClusterRecord> {
    switch (kind) {
      case 'Namespace': return this.#namespaces.values();
      case 'Service': return this.#services.values();
      case 'EndpointSlice': return this.#slices.values();
      case 'Pod': return this.#pods.values();
    }
  }

  #get(kind: ClusterKind, namespace: string, name: string): ClusterRecord | undefined {
    switch (kind) {
      case 'Namespace': return this.#namespaces.get(name);
      case 'Service': return this.#services.get(namespace, name);
      case 'EndpointSlice': return this.#slices.get(namespace, name);
      case 'Pod': return this.#pods.get(namespace, name);
    }
  }

  /** Stores `r` unless an equal record is held; returns the record held afterwards. */
  #put(input: ClusterRecord, changes: StoreChange[]): ClusterRecord {
    const previous = this.#get(input.kind, input.kind === 'Namespace' ? '' : input.namespace, input.name) ?? null;
    if (previous !== null && sameRecord(previous, input)) return previous;
    const r = compactRecord(this.#pool, input);
    switch (r.kind) {
      case 'Namespace': this.#namespaces.set(r.name, r); break;
      case 'Service': this.#services.set(r); break;
      case 'EndpointSlice':
        if (previous !== null) this.#unindexSlice(previous as EndpointSliceRecord);
        this.#slices.set(r);
        this.#indexSlice(r);
        break;
      case 'Pod':
        if (previous !== null) this.#unindexPod(previous as PodRecord);
        this.#pods.set(r);
        this.#indexPod(r);
        break;
    }
    changes.push({ kind: r.kind, key: recordKey(r), previous, current: r });
    return r;
  }

  #remove(kind: ClusterKind, namespace: string, name: string, changes: StoreChange[]): void {
    const previous = this.#get(kind, namespace, name);
    if (previous === undefined) return;
    switch (previous.kind) {
      case 'Namespace': this.#namespaces.delete(name); break;
      case 'Service': this.#services.delete(namespace, name); break;
      case 'EndpointSlice': this.#slices.delete(namespace, name); this.#unindexSlice(previous); break;
      case 'Pod': this.#pods.delete(namespace, name); this.#unindexPod(previous); break;
    }
    changes.push({ kind, key: recordKey(previous), previous, current: null });
  }

  #indexSlice(s: EndpointSliceRecord): void {
    let byService = this.#slicesByService.get(s.namespace);
    if (byService === undefined) { byService = new Map(); this.#slicesByService.set(s.namespace, byService); }
    const list = byService.get(s.serviceName);
    if (list === undefined) { byService.set(s.serviceName, [s]); return; }
    let i = list.length;
    while (i > 0 && list[i - 1]!.name > s.name) i--;
    list.splice(i, 0, s);
  }

  #unindexSlice(s: EndpointSliceRecord): void {
    const byService = this.#slicesByService.get(s.namespace);
    const list = byService?.get(s.serviceName);
    if (byService === undefined || list === undefined) return;
    const i = list.findIndex((x) => x.name === s.name);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) {
      byService.delete(s.serviceName);
      if (byService.size === 0) this.#slicesByService.delete(s.namespace);
    }
  }

  #podIps(p: PodRecord): readonly string[] {
    if (p.ip === null || p.ips.includes(p.ip)) return p.ips;
    return [p.ip, ...p.ips];
  }

  #indexPod(p: PodRecord): void {
    for (const ip of this.#podIps(p)) {
      const v = this.#podsByIp.get(ip);
      if (v === undefined) this.#podsByIp.set(ip, p);
      else if (Array.isArray(v)) v.push(p);
      else this.#podsByIp.set(ip, [v, p]);
    }
  }

  #unindexPod(p: PodRecord): void {
    for (const ip of this.#podIps(p)) {
      const v = this.#podsByIp.get(ip);
      if (v === undefined) continue;
      if (!Array.isArray(v)) {
        if (v === p) this.#podsByIp.delete(ip);
        continue;
      }
      const rest = v.filter((x) => x !== p);
      if (rest.length === 0) this.#podsByIp.delete(ip);
      else this.#podsByIp.set(ip, rest.length === 1 ? rest[0]! : rest);
    }
  }

  #emit(changes: readonly StoreChange[]): void {
    if (changes.length === 0) return;
    this.lastChange = Date.now();
    let failure: unknown = null;
    for (const l of [...this.#listeners]) {
      try {
        l(changes);
      } catch (e) {
        if (this.#onListenerError) this.#onListenerError(e);
        else failure ??= e;
      }
    }
    if (failure !== null) throw failure;
  }
}

function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
}
