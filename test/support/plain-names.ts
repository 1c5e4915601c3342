/**
 * @module test/support/plain-names
 * Requests as the server parses them (the question name matched in place,
 * its text not built: DnsRequest.nameHash), and two plain names whose
 * hashes collide, for the tables that find entries by that hash.
 */
import { Type } from '../../src/dns/constants.ts';
import { encodeQuery } from '../../src/dns/message.ts';
import { plainTextHash } from '../../src/dns/name.ts';
import { DnsRequest, parseQuery, type ParsedQuestion } from '../../src/dns/request.ts';

/** A request for `name` parsed as serveQuery parses it: a plain name's text is not built until read. */
export function lazyRequest(name: string, type: number = Type.A): DnsRequest {
  const raw = encodeQuery(name, type);
  return new DnsRequest(raw, parseQuery(raw, undefined, true) as ParsedQuestion, 'udp', '127.0.0.1', 1, '127.0.0.1', 53, 0);
}

/**
 * Counts reads of `req.qname` (the text built, or taken as it is), leaving
 * what they return unchanged.
 */
export function countNameReads(req: DnsRequest): { readonly count: number } {
  const getter = Object.getOwnPropertyDescriptor(DnsRequest.prototype, 'qname')!.get!;
  const reads = { count: 0 };
  Object.defineProperty(req, 'qname', { get() { reads.count++; return getter.call(req) as string; } });
  return reads;
}

/**
 * Two canonical names `<label>.<zone>` with the same plainTextHash (a
 * birthday search over 30 bits: about 40,000 names, a few ms).
 */
export function collidingNames(zone: string): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; i < 1_000_000; i++) {
    const name = `n${i}.${zone}`;
    const h = plainTextHash(name);
    const other = seen.get(h);
    if (other !== undefined) return [other, name];
    seen.set(h, name);
  }
  throw new Error('no two names collided');
}
