/**
 * @module plugins/cache/classify
 * What kind of answer a reply is, and how long it may be cached, as
 * CoreDNS's response.Typify and dnsutil.MinimalTTL decide: positive answers
 * and delegations go to the success cache, NXDOMAIN and NODATA to the denial
 * cache, SERVFAIL briefly (servfail), anything else is not cached. A
 * negative answer lives for its SOA's minimum (RFC 2308: the lower of the
 * SOA's TTL and its MINIMUM field).
 */
import { Rcode, Type } from '../../dns/constants.ts';
import { MAXIMUM_DEFAULT_TTL, type Reply } from '../../dns/reply.ts';
import type { RR } from '../../dns/rr.ts';

export const ReplyType = {
  NO_ERROR: 0, DELEGATION: 1, NAME_ERROR: 2, NO_DATA: 3, SERVER_ERROR: 4, OTHER_ERROR: 5,
} as const;
export type ReplyType = (typeof ReplyType)[keyof typeof ReplyType];

/** CoreDNS MinimalDefaultTTL (its MaximumDefaultTTL is in dns/reply.ts, beside the memo it caps). */
export const MINIMAL_DEFAULT_TTL = 5;

export function classify(r: Reply): ReplyType {
  switch (r.rcode) {
    case Rcode.NOERROR:
      if (r.answerCount > 0) return ReplyType.NO_ERROR;
      if (has(r.authority, Type.SOA)) return ReplyType.NO_DATA;
      if (has(r.authority, Type.NS)) return ReplyType.DELEGATION;
      return ReplyType.NO_DATA;
    case Rcode.NXDOMAIN: return ReplyType.NAME_ERROR;
    case Rcode.SERVFAIL: return ReplyType.SERVER_ERROR;
    default: return ReplyType.OTHER_ERROR;
  }
}

function has(rrs: readonly RR[], type: number): boolean {
  for (let i = 0; i < rrs.length; i++) if (rrs[i]!.type === type) return true;
  return false;
}

/** The SOA's MINIMUM field (last 4 bytes of its rdata). */
function soaMinimum(r: RR): number {
  const d = r.data;
  if (d.length < 20) return r.ttl;
  return ((d[d.length - 4]! << 24) | (d[d.length - 3]! << 16) | (d[d.length - 2]! << 8) | d[d.length - 1]!) >>> 0;
}

/** Lowest TTL among the records (SOA in a negative answer: min of TTL and MINIMUM), in seconds. */
export function minimalTtl(r: Reply, type: ReplyType): number {
  if (type !== ReplyType.NO_ERROR && type !== ReplyType.NAME_ERROR && type !== ReplyType.NO_DATA && type !== ReplyType.DELEGATION) {
    return MINIMAL_DEFAULT_TTL;
  }
  if (r.answerCount + r.authorityCount === 0) return MINIMAL_DEFAULT_TTL;
  // `type` is classify(r): a function of the reply, like the result, which the reply keeps.
  if (r.minimalTtlMemo >= 0) return r.minimalTtlMemo;
  const negative = type === ReplyType.NAME_ERROR || type === ReplyType.NO_DATA;
  // Section by section with index loops: an array of the sections and for-of iterators cost ~380 B per call.
  const min = sectionMinTtl(r.additional, negative, sectionMinTtl(r.authority, negative, sectionMinTtl(r.answer, negative, MAXIMUM_DEFAULT_TTL)));
  r.minimalTtlMemo = min;
  return min;
}

function sectionMinTtl(rrs: readonly RR[], negative: boolean, min: number): number {
  for (let i = 0; i < rrs.length; i++) {
    const rr = rrs[i]!;
    let t = rr.ttl;
    if (negative && rr.type === Type.SOA) t = Math.min(t, soaMinimum(rr));
    if (t < min) min = t;
  }
  return min;
}

/** CoreDNS computeTTL: at least `min`, then at most `max`. */
export function clampTtl(ttl: number, min: number, max: number): number {
  let t = ttl < min ? min : ttl;
  if (t > max) t = max;
  return t;
}
