/**
 * @module plugins/kubernetes/answer-cache
 * The O(1) path of a query: canonical name -> per-type prepacked replies
 * (CachedName), and for names that do not exist or hold no data, canonical
 * name -> that fact alone (NegativeName: the reply is the zone's one
 * pre-encoded negative, so nothing per name is built or packed). An entry
 * remembers what it was built from (the namespace scope, the service view
 * and their generations); a store change bumps only the generations it
 * affects, so stale entries are found and rebuilt lazily on their next query
 * instead of rebuilding anything up front. Reverse names are deleted
 * explicitly when an address changes owner. Bounded: the oldest entries go
 * first, so random names cannot grow it without limit; negatives have their
 * own bound, so a flood of names that do not exist never pushes out answers.
 */
import type { Reply } from '../../dns/reply.ts';
import type { CnameFollow } from './answers.ts';
import type { NamespaceScope, ViewToken } from './generations.ts';

export type CachedAnswer = Reply | CnameFollow;

/** What an entry was built from, and whether it still describes the cluster. */
class BuiltFrom {
  readonly scope: NamespaceScope | null;
  readonly scopeGen: number;
  readonly scopeNegGen: number;
  readonly view: ViewToken | null;
  readonly viewGen: number;

  constructor(scope: NamespaceScope | null, view: ViewToken | null) {
    this.scope = scope;
    this.scopeGen = scope === null ? 0 : scope.gen;
    this.scopeNegGen = scope === null ? 0 : scope.negGen;
    this.view = view;
    this.viewGen = view === null ? 0 : view.gen;
  }

  /** Still describes the cluster: nothing it was built from has changed since. */
  get valid(): boolean {
    const s = this.scope;
    if (s !== null) {
      if (s.gen !== this.scopeGen) return false;
      // Built without a service (a negative or pod answer): any service or pod change in the namespace may change it.
      if (this.view === null && s.negGen !== this.scopeNegGen) return false;
    }
    return this.view === null || this.view.gen === this.viewGen;
  }
}

/**
 * A name under the zone that does not exist (`nx`) or exists without data
 * (the apex, `svc`, `<ns>.svc`, a zonal pin with no match): the same for
 * every type, so one small entry per name and no reply of its own.
 */
export class NegativeName extends BuiltFrom {
  readonly nx: boolean;

  constructor(scope: NamespaceScope | null, view: ViewToken | null, nx: boolean) {
    super(scope, view);
    this.nx = nx;
  }
}

export class CachedName extends BuiltFrom {
  // Two answers inline (a name is mostly asked A and AAAA), more in `more` as [type, answer, serial] triples.
  #t0 = -1;
  #a0: CachedAnswer | null = null;
  #s0 = -1;
  #t1 = -1;
  #a1: CachedAnswer | null = null;
  #s1 = -1;
  #more: (number | CachedAnswer)[] | null = null;

  /** The answer for `qtype` if built at `serial` (or carrying no SOA: serial -1), else undefined. */
  find(qtype: number, serial: number): CachedAnswer | undefined {
    if (this.#t0 === qtype) return this.#s0 < 0 || this.#s0 === serial ? this.#a0! : undefined;
    if (this.#t1 === qtype) return this.#s1 < 0 || this.#s1 === serial ? this.#a1! : undefined;
    const m = this.#more;
    if (m === null) return undefined;
    for (let i = 0; i < m.length; i += 3) {
      if (m[i] !== qtype) continue;
      const s = m[i + 2] as number;
      return s < 0 || s === serial ? (m[i + 1] as CachedAnswer) : undefined;
    }
    return undefined;
  }

  put(qtype: number, answer: CachedAnswer, serial: number): void {
    if (this.#t0 === -1 || this.#t0 === qtype) { this.#t0 = qtype; this.#a0 = answer; this.#s0 = serial; return; }
    if (this.#t1 === -1 || this.#t1 === qtype) { this.#t1 = qtype; this.#a1 = answer; this.#s1 = serial; return; }
    const m = (this.#more ??= []);
    for (let i = 0; i < m.length; i += 3) {
      if (m[i] === qtype) { m[i + 1] = answer; m[i + 2] = serial; return; }
    }
    m.push(qtype, answer, serial);
  }
}

/** Name -> entry, at most `max` of them (its owner may change the bound as the cluster grows or shrinks); the oldest goes first. */
export class AnswerCache<T = CachedName> {
  readonly #map = new Map<string, T>();
  max: number;

  constructor(maxNames: number) {
    this.max = maxNames;
  }

  get(qname: string): T | undefined {
    return this.#map.get(qname);
  }

  set(qname: string, entry: T): void {
    if (!this.#map.has(qname)) {
      const max = Math.max(1, this.max);
      // Usually one goes; two while the bound has shrunk with the cluster (so the excess goes gradually, not in one stall).
      for (let i = 0; i < 2 && this.#map.size >= max; i++) {
        const oldest = this.#map.keys().next().value;
        if (oldest === undefined) break;
        this.#map.delete(oldest);
      }
    }
    this.#map.set(qname, entry);
  }

  delete(qname: string): void {
    this.#map.delete(qname);
  }

  clear(): void {
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }
}
