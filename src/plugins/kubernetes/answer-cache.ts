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
 * explicitly when an address changes owner. Bounded in names and in
 * approximate bytes (each entry's estimate is made when an answer is put in,
 * from its packed size): the oldest entries go first, so random names cannot
 * grow it without limit; negatives have their own bound, so a flood of names
 * that do not exist never pushes out answers.
 */
import { BY_TEXT, PlainNameTable } from '../../dns/plain-name-table.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
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
  /** The name this entry is kept for (canonical). */
  readonly name: string;
  readonly nx: boolean;
  /** Approximate heap bytes (its own bound is in names; the estimate is for the byte total). */
  readonly bytes = NEGATIVE_NAME_BYTES;

  constructor(scope: NamespaceScope | null, view: ViewToken | null, name: string, nx: boolean) {
    super(scope, view);
    this.name = name;
    this.nx = nx;
  }
}

/** Rough heap bytes of a NegativeName with its two map slots (negatives are bounded in names; this only keeps the total meaningful). */
const NEGATIVE_NAME_BYTES = 190;
/**
 * Heap bytes of a CachedName (124, V8 heap snapshot) with its slots in the
 * name and hash maps and its name string, before the name's characters and
 * its answers (bench/memory.ts: the hash map added 43 B a name).
 */
const CACHED_NAME_BYTES = 230;
/** An answer that follows an ExternalName: the CnameFollow, its record and target. */
const CNAME_FOLLOW_BYTES = 400;

/**
 * Approximate heap bytes an answer adds to the entry holding it: nothing for
 * a reply shared by many names (the zone's negatives: no answer records),
 * else its own estimate (Reply.approxBytes: from the packed sizes).
 */
export function answerBytes(a: CachedAnswer): number {
  if (!(a instanceof Reply)) return CNAME_FOLLOW_BYTES;
  return a.answerCount === 0 ? 0 : a.approxBytes();
}

export class CachedName extends BuiltFrom {
  /** The name this entry is kept for (canonical). */
  readonly name: string;
  /** Approximate heap bytes of this entry and its answers, as estimated when each was put (answerBytes). */
  bytes: number;

  // Two answers inline (a name is mostly asked A and AAAA), more in `more` as [type, answer, serial] triples.
  #t0 = -1;
  #a0: CachedAnswer | null = null;
  #s0 = -1;
  #t1 = -1;
  #a1: CachedAnswer | null = null;
  #s1 = -1;
  #more: (number | CachedAnswer)[] | null = null;

  constructor(scope: NamespaceScope | null, view: ViewToken | null, qname: string) {
    super(scope, view);
    this.name = qname;
    this.bytes = CACHED_NAME_BYTES + qname.length;
  }

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

  /** Puts the answer for `qtype`; returns by how many bytes the entry's estimate changed. */
  put(qtype: number, answer: CachedAnswer, serial: number): number {
    const before = this.bytes;
    this.bytes += answerBytes(answer);
    if (this.#t0 === -1 || this.#t0 === qtype) {
      if (this.#a0 !== null) this.bytes -= answerBytes(this.#a0);
      this.#t0 = qtype; this.#a0 = answer; this.#s0 = serial;
    } else if (this.#t1 === -1 || this.#t1 === qtype) {
      if (this.#a1 !== null) this.bytes -= answerBytes(this.#a1);
      this.#t1 = qtype; this.#a1 = answer; this.#s1 = serial;
    } else {
      const m = (this.#more ??= []);
      let i = 0;
      while (i < m.length && m[i] !== qtype) i += 3;
      if (i < m.length) {
        this.bytes -= answerBytes(m[i + 1] as CachedAnswer);
        m[i + 1] = answer; m[i + 2] = serial;
      } else {
        m.push(qtype, answer, serial);
        this.bytes += 24; // three more slots
      }
    }
    return this.bytes - before;
  }
}

/**
 * Name -> entry, at most `max` of them and about `maxBytes` (each entry's
 * `bytes`; its owner may change the bounds as the cluster grows or shrinks);
 * the oldest goes first. Entries of plain names are also found by the hash
 * of their text (found()), so a query's name needs no text to find its entry
 * or to learn it has none.
 */
export class AnswerCache<T extends { readonly bytes: number; readonly name: string } = CachedName> {
  readonly #map = new Map<string, T>();
  /**
   * The entries again, by the hash of their name (dns/plain-name-table.ts).
   * Measured against building the text and one Map.get by it
   * (bench/name-steps.ts): see docs/architecture.md.
   */
  readonly #byHash = new PlainNameTable<T>((e) => e.name);
  #bytes = 0;
  max: number;
  maxBytes: number;

  constructor(maxNames: number, maxBytes = Infinity) {
    this.max = maxNames;
    this.maxBytes = maxBytes;
  }

  get(qname: string): T | undefined {
    return this.#map.get(qname);
  }

  /**
   * The entry of `req`'s question name, found without its text
   * (PlainNameTable.find: the entry's name becomes the request's); undefined
   * when none is kept for it, BY_TEXT when only get(req.qname) can tell.
   */
  found(req: DnsRequest): T | undefined | typeof BY_TEXT {
    return this.#byHash.find(req);
  }

  set(qname: string, entry: T): void {
    const old = this.#map.get(qname);
    if (old === undefined) {
      const max = Math.max(1, this.max);
      // Usually one goes; two while the bound has shrunk with the cluster (so the excess goes gradually, not in one stall).
      for (let i = 0; i < 2 && this.#map.size >= max; i++) this.#dropOldest();
    } else {
      this.#bytes -= old.bytes;
    }
    this.#map.set(qname, entry);
    if (old === undefined) this.#byHash.add(qname, entry); else this.#byHash.replace(qname, entry);
    this.#bytes += entry.bytes;
    this.#fitBytes();
  }

  /** An entry held here grew (or shrank) by `delta` bytes (CachedName.put). */
  grew(delta: number): void {
    this.#bytes += delta;
    if (delta > 0) this.#fitBytes();
  }

  /** Oldest entries out until the estimate is within maxBytes; the newest stays, whatever its size. */
  #fitBytes(): void {
    while (this.#bytes > this.maxBytes && this.#map.size > 1) this.#dropOldest();
  }

  #dropOldest(): void {
    const oldest = this.#map.entries().next().value;
    if (oldest === undefined) return;
    this.#map.delete(oldest[0]);
    this.#bytes -= oldest[1].bytes;
    this.#byHash.remove(oldest[0]);
  }

  delete(qname: string): void {
    const e = this.#map.get(qname);
    if (e === undefined) return;
    this.#map.delete(qname);
    this.#bytes -= e.bytes;
    this.#byHash.remove(qname);
  }

  clear(): void {
    this.#map.clear();
    this.#byHash.clear();
    this.#bytes = 0;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The entries' estimated heap bytes. */
  get bytes(): number {
    return this.#bytes;
  }
}
