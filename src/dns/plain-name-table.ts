/**
 * @module dns/plain-name-table
 * Where a table keyed by canonical name keeps its values a second time, by
 * the hash of each plain name's text (dns/name.ts plainTextHash), so that a
 * request whose question name was never built (DnsRequest.nameHash) finds
 * its value, or learns it has none, without the text. A hash held by one
 * stored name maps to its value; once several stored names share a hash it
 * maps to their count, and those are found by their text. Every stored
 * plain name counts, so a hash not here means the name is not stored.
 * Used by the kubernetes plugin's kept answers and by the cache's store.
 */
import { plainTextHash } from './name.ts';
import type { DnsRequest } from './request.ts';

/** What find() says when the table cannot tell: look the name up by its text. */
export const BY_TEXT = null;

export class PlainNameTable<T extends object> {
  readonly #byHash = new Map<number, T | number>();
  readonly #nameOf: (v: T) => string;

  /** `nameOf`: the canonical name a value is stored under. */
  constructor(nameOf: (v: T) => string) {
    this.#nameOf = nameOf;
  }

  /**
   * The value stored for `req`'s question name, found by its hash and
   * compared in place; its name then becomes the request's text
   * (DnsRequest.adoptName). undefined: no value is stored for the name.
   * BY_TEXT: the request's text is built, its name is not plain, or several
   * stored names share its hash.
   */
  find(req: DnsRequest): T | undefined | typeof BY_TEXT {
    const h = req.nameHash;
    if (h < 0) return BY_TEXT;
    const v = this.#byHash.get(h);
    if (v === undefined) return undefined;
    if (typeof v === 'number') return BY_TEXT;
    const name = this.#nameOf(v);
    if (!req.nameIs(name)) return undefined; // the one name stored with this hash is another
    req.adoptName(name);
    return v;
  }

  /** `name` is stored now, with `value`, and was not before. */
  add(name: string, value: T): void {
    const h = plainTextHash(name);
    if (h < 0) return;
    const had = this.#byHash.get(h);
    this.#byHash.set(h, had === undefined ? value : typeof had === 'number' ? had + 1 : 2);
  }

  /** `name`, stored before, now has `value`. */
  replace(name: string, value: T): void {
    const h = plainTextHash(name);
    if (h >= 0 && typeof this.#byHash.get(h) === 'object') this.#byHash.set(h, value);
  }

  /** `name` is no longer stored. */
  remove(name: string): void {
    const h = plainTextHash(name);
    if (h < 0) return;
    const had = this.#byHash.get(h);
    // A count stays a count down to one: which name is left is not known, so it is found by its text.
    if (typeof had === 'number' && had > 1) this.#byHash.set(h, had - 1);
    else this.#byHash.delete(h);
  }

  clear(): void {
    this.#byHash.clear();
  }
}
