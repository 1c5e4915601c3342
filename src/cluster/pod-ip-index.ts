/**
 * @module cluster/pod-ip-index
 * Which namespace a client address belongs to, for autopath: a compact
 * pod-IP → namespace index fed by the same source as the store (reflector or
 * manifest folder), without keeping Pod records. Per pod it holds the
 * namespace (an id into a table of names), the phase, the resourceVersion
 * and a 32-bit tag of the pod's name that says which pod holds the claim, in
 * typed arrays; an IPv4 address is a small integer key, so an entry costs a
 * Map slot and ~17 bytes of arrays (bench/pod-ip-index-memory.ts measures it).
 *
 * IP reuse: an address belongs to its newest claimant (highest
 * resourceVersion; arrival order among equals), only a Running claimant
 * counts, and a pod that finishes, is being deleted or is deleted gives its
 * address up at once, unless a newer pod already holds it.
 */
import { ipv4Int } from '../dns/ip.ts';
import type { ClusterKind, ClusterRecord, ClusterStateSink, PodRecord, WatchEvent } from './types.ts';

const PENDING = 0;
const RUNNING = 1;

/** FNV-1a of "namespace/name": tells two pods claiming one address apart. */
function ownerTag(p: PodRecord): number {
  let h = 0x811c9dc5;
  const s = p.namespace;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0x2f, 0x01000193);
  const n = p.name;
  for (let i = 0; i < n.length; i++) h = Math.imul(h ^ n.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function versionOf(p: PodRecord): number {
  const rv = p.resourceVersion;
  if (rv === undefined) return 0;
  const n = Number(rv);
  return Number.isFinite(n) ? n : 0;
}

/** IPv4 keys are 32-bit integers (no heap object per key); null for IPv6. */
const v4Key = ipv4Int;

/** The address a client connects from, as the index keys it (IPv4-mapped IPv6 is IPv4). */
function clientText(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export class PodIpIndex {
  readonly #v4 = new Map<number, number>();
  readonly #v6 = new Map<string, number>();
  readonly #nsIds = new Map<string, number>();
  readonly #nsNames: string[] = [];
  #ns = new Uint32Array(1024);
  #owner = new Uint32Array(1024);
  #version = new Float64Array(1024);
  #phase = new Uint8Array(1024);
  readonly #free: number[] = [];
  #used = 0;
  #synced = false;

  /** Entries held (one per claimed address). */
  get size(): number {
    return this.#v4.size + this.#v6.size;
  }

  /** Whether a first full list of Pods has been applied. */
  get synced(): boolean {
    return this.#synced;
  }

  markSynced(): void {
    this.#synced = true;
  }

  /** The namespace of the Running pod holding `ip` now, or null. */
  namespaceOf(ip: string): string | null {
    const slot = this.#slotOf(clientText(ip));
    if (slot === undefined || this.#phase[slot] !== RUNNING) return null;
    return this.#nsNames[this.#ns[slot]!]!;
  }

  /** One watch event for a Pod. */
  apply(event: WatchEvent): void {
    const p = event.object as PodRecord;
    const gone = event.type === 'DELETED' || p.deleting || (p.phase !== 'Running' && p.phase !== 'Pending');
    const ips = p.ips.length > 0 ? p.ips : p.ip === null ? [] : [p.ip];
    for (const ip of ips) {
      if (gone) this.#release(ip, p);
      else this.#claim(ip, p);
    }
  }

  /** A relist: every Pod there is now. */
  replace(pods: readonly PodRecord[]): void {
    this.#v4.clear();
    this.#v6.clear();
    this.#free.length = 0;
    this.#used = 0;
    for (const p of pods) this.apply({ type: 'ADDED', object: p });
  }

  #slotOf(ip: string): number | undefined {
    const k = v4Key(ip);
    return k === null ? this.#v6.get(ip) : this.#v4.get(k);
  }

  #claim(ip: string, p: PodRecord): void {
    const tag = ownerTag(p);
    const version = versionOf(p);
    let slot = this.#slotOf(ip);
    if (slot !== undefined && this.#owner[slot] !== tag && version < this.#version[slot]!) return; // an older pod's late news
    if (slot === undefined) {
      slot = this.#newSlot();
      const k = v4Key(ip);
      if (k === null) this.#v6.set(ip, slot);
      else this.#v4.set(k, slot);
    }
    this.#ns[slot] = this.#nsId(p.namespace);
    this.#owner[slot] = tag;
    this.#version[slot] = version;
    this.#phase[slot] = p.phase === 'Running' ? RUNNING : PENDING;
  }

  #release(ip: string, p: PodRecord): void {
    const slot = this.#slotOf(ip);
    if (slot === undefined || this.#owner[slot] !== ownerTag(p)) return; // the address is someone else's now
    const k = v4Key(ip);
    if (k === null) this.#v6.delete(ip);
    else this.#v4.delete(k);
    this.#free.push(slot);
  }

  #nsId(namespace: string): number {
    let id = this.#nsIds.get(namespace);
    if (id === undefined) {
      id = this.#nsNames.length;
      this.#nsNames.push(namespace);
      this.#nsIds.set(namespace, id);
    }
    return id;
  }

  #newSlot(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#used === this.#ns.length) this.#grow();
    return this.#used++;
  }

  #grow(): void {
    const n = this.#ns.length * 2;
    const ns = new Uint32Array(n); ns.set(this.#ns); this.#ns = ns;
    const owner = new Uint32Array(n); owner.set(this.#owner); this.#owner = owner;
    const version = new Float64Array(n); version.set(this.#version); this.#version = version;
    const phase = new Uint8Array(n); phase.set(this.#phase); this.#phase = phase;
  }
}

/**
 * Feeds a PodIpIndex from a source's Pod events on their way to the store;
 * the store gets the Pods too only when it answers for them (`pods verified`).
 */
export class PodIpIndexSink implements ClusterStateSink {
  readonly #inner: ClusterStateSink;
  readonly #index: PodIpIndex;
  readonly #forwardPods: boolean;

  constructor(inner: ClusterStateSink, index: PodIpIndex, forwardPods: boolean) {
    this.#inner = inner;
    this.#index = index;
    this.#forwardPods = forwardPods;
  }

  apply(event: WatchEvent): void {
    if (event.object.kind === 'Pod') {
      this.#index.apply(event);
      if (!this.#forwardPods) return;
    }
    this.#inner.apply(event);
  }

  replace(kinds: readonly ClusterKind[], objects: readonly ClusterRecord[]): void {
    if (!kinds.includes('Pod')) { this.#inner.replace(kinds, objects); return; }
    this.#index.replace(objects.filter((o): o is PodRecord => o.kind === 'Pod'));
    if (this.#forwardPods) { this.#inner.replace(kinds, objects); return; }
    const rest = kinds.filter((k) => k !== 'Pod');
    if (rest.length > 0) this.#inner.replace(rest, objects.filter((o) => o.kind !== 'Pod'));
  }

  markSynced(kind: ClusterKind): void {
    if (kind === 'Pod') this.#index.markSynced();
    this.#inner.markSynced(kind);
  }

  held(object: ClusterRecord): ClusterRecord {
    if (object.kind === 'Pod' && !this.#forwardPods) return object;
    return this.#inner.held?.(object) ?? object;
  }
}
