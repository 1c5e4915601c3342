/**
 * @module plugins/kubernetes/answers
 * Turning what a name stands for into reply sections, as CoreDNS's
 * backend_lookup does: A/AAAA (deduplicated), SRV (priority 0, weight
 * floor(100/n), one record per target+port, target addresses in the
 * additional section: C10), CNAME for ExternalName, PTR, the zone SOA and
 * negative answers with it (C3). Every reply is authoritative and packed
 * once for the name it answers (negatives once per zone), and marked kept.
 */
import { Type } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import { rdata, rr, rrs, type RR } from '../../dns/rr.ts';
import { inZone } from './names.ts';
import type { Entry, Found } from './records.ts';

export const PLUGIN = 'kubernetes';
/** S1: the schema version, and its fixed TTL (C6). */
export const SCHEMA_VERSION = '1.1.0';
export const SCHEMA_TTL = 28800;

/**
 * An A/AAAA answer that has to follow an ExternalName CNAME (C18): resolved
 * by the handler for each query (in-zone targets locally, others through
 * the rest of the chain), because the target's records are not ours to cache.
 */
export class CnameFollow {
  /** The CNAME record, owner = the question name. */
  readonly cname: RR;
  /** Canonical target name. */
  readonly target: string;

  constructor(cname: RR, target: string) {
    this.cname = cname;
    this.target = target;
  }
}

/** The zone SOA (C3): TTL min(ttl, 300), MNAME ns.dns.<zone>, RNAME hostmaster.<zone>, minimum = ttl. */
export function soaRecord(zone: string, ttl: number, serial: number): RR {
  const data = rdata.soa(inZone('ns.dns', zone), inZone('hostmaster', zone), serial, 7200, 1800, 86400, ttl);
  return rr(zone, Type.SOA, Math.min(ttl, 300), data);
}

/** NXDOMAIN or NODATA (NOERROR, no answer) with the SOA in the authority section: one reply for every name of `zone`, kept by the index. */
export function negative(zone: string, rcode: number, soa: RR): Reply {
  return Reply.negativeInZone(zone, rcode, soa, PLUGIN, true);
}

/**
 * A positive answer packed for `qname`. `kept`: the index keeps it (slim: bytes only) and
 * answers again from it (Reply.kept), so a cache in front lets it pass;
 * false for answers built anew for each query.
 */
export function positive(qname: string, answer: readonly RR[], additional: readonly RR[] = [], kept = true): Reply {
  const r = new Reply({ authoritative: true, answer, additional, plugin: PLUGIN, kept });
  // A kept answer keeps only its packed bytes (Reply.slim): its record objects would cost more than they.
  return kept ? r.slim(qname) : r.prepack(qname);
}

function isV6(ip: string): boolean {
  return ip.includes(':');
}

/** A or AAAA records of the entries' addresses, deduplicated; a CnameFollow for an ExternalName; null when there are none. */
export function addressAnswer(qname: string, qtype: number, found: Found, ttl: number): readonly RR[] | CnameFollow | null {
  const wantV6 = qtype === Type.AAAA;
  let out: RR[] | null = null;
  let seen: Set<string> | null = null;
  for (const e of found.entries) {
    if (e.ip === null) {
      if (e.external !== null) return new CnameFollow(rrs.cname(qname, ttl, e.external), e.external);
      continue;
    }
    if (isV6(e.ip) !== wantV6) continue;
    seen ??= new Set();
    if (seen.has(e.ip)) continue;
    seen.add(e.ip);
    (out ??= []).push(wantV6 ? rrs.aaaa(qname, ttl, e.ip) : rrs.a(qname, ttl, e.ip));
  }
  return out;
}

/** SRV records and their additional addresses (C10); null when no entry has a port. */
export function srvAnswer(qname: string, found: Found, ttl: number): { answer: RR[]; additional: RR[] } | null {
  const internal: Entry[] = [];
  for (const e of found.entries) if (e.ip !== null) internal.push(e);
  if (internal.length === 0) return null;
  // n counts every (address, port) pair before duplicates go, port-less ones included (as CoreDNS).
  const weight = Math.max(1, Math.floor(100 / internal.length));
  const answer: RR[] = [];
  const additional: RR[] = [];
  const seenSrv = new Set<string>();
  const seenAddr = new Set<string>();
  for (const e of internal) {
    if (e.port < 0) continue;
    const srvKey = `${e.name} ${e.port}`;
    if (!seenSrv.has(srvKey)) {
      seenSrv.add(srvKey);
      answer.push(rrs.srv(qname, ttl, 0, weight, e.port, e.name));
    }
    const addrKey = `${e.name} ${e.ip}`;
    if (!seenAddr.has(addrKey)) {
      seenAddr.add(addrKey);
      additional.push(rrs.addr(e.name, ttl, e.ip!));
    }
  }
  return answer.length === 0 ? null : { answer, additional };
}

/** The CNAME of an ExternalName service; null for anything else (C18, C7). */
export function cnameAnswer(qname: string, found: Found, ttl: number): RR | null {
  const first = found.entries[0];
  if (first === undefined || first.external === null) return null;
  return rrs.cname(qname, ttl, first.external);
}

/** PTR records to each target (deduplicated). */
export function ptrAnswer(qname: string, targets: readonly string[], ttl: number): RR[] {
  const seen = new Set<string>();
  const out: RR[] = [];
  for (const t of targets) {
    if (seen.has(t)) continue;
    seen.add(t);
    out.push(rrs.ptr(qname, ttl, t));
  }
  return out;
}

/** dns-version.<zone> TXT (S1). */
export function schemaVersionReply(qname: string): Reply {
  return positive(qname, [rrs.txt(qname, SCHEMA_TTL, SCHEMA_VERSION)]);
}

