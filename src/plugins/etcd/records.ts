/**
 * @module plugins/etcd/records
 * Records from services, as CoreDNS's backend lookup builds them (plugin/
 * backend_lookup.go): A/AAAA with in-zone CNAME chasing (loop and length
 * limits), TXT, CNAME, PTR, MX and SRV (targets and additional addresses
 * from the key path, `targetstrip`, weights normalised per priority), NS
 * from `ns.dns.<zone>`, apex addresses from `apex.dns.<zone>`, and groups.
 * Targets outside the zone are not resolved here: they come back as
 * `tails` for the handler to ask the rest of the chain.
 */
import { Type } from '../../dns/constants.ts';
import { isSubdomain } from '../../dns/name.ts';
import { rrs, type RR } from '../../dns/rr.ts';
import { domainOfKey, HostKind, nameLabels, stripLabels, type SkyService } from './service.ts';
import type { ServiceTree } from './tree.ts';

/** More CNAMEs than this in one chain are not followed (CoreDNS: len(previousRecords) > 7). */
const MAX_CHAIN = 8;

/** A name outside the zone whose records of `type` belong in `section`. */
export interface Tail {
  readonly name: string;
  readonly type: number;
  readonly section: 'answer' | 'additional';
}

/** What a lookup found. `missing`: no key at all for the name (NXDOMAIN), as CoreDNS's errKeyNotFound. */
export interface Found {
  answer: RR[];
  additional: RR[];
  tails: Tail[];
  missing: boolean;
  /** The answer ends in a CNAME whose in-zone target does not exist. */
  danglingNx: boolean;
}

export interface LookupContext {
  readonly tree: ServiceTree;
  readonly prefix: string;
  readonly zone: string;
  /** TTL of a service's records now (record TTL, lease, defaults). */
  ttl(s: SkyService): number;
}

/** Key segments (TLD first) of a name below the prefix. */
export function nameSegments(name: string): string[] {
  return nameLabels(name).reverse();
}

/** CoreDNS's msg.Group: the shortest keys' group picks the services answered together. */
export function group(sx: SkyService[]): SkyService[] {
  if (sx.length === 0) return sx;
  let g = sx[0]!.group;
  let slashes = slashCount(sx[0]!.key);
  const length = new Array<number>(sx.length).fill(0);
  for (let i = 0; i < sx.length; i++) {
    const s = sx[i]!;
    const x = slashCount(s.key);
    length[i] = x;
    if (x < slashes) {
      if (s.group === '') break;
      slashes = x;
      g = s.group;
    }
  }
  if (g === '') return sx;
  const out: SkyService[] = [];
  for (let i = 0; i < sx.length; i++) {
    const s = sx[i]!;
    if (s.group === '') { out.push(s); continue; }
    if (length[i] === slashes && s.group !== g) return sx;
    if (s.group === g) out.push(s);
  }
  return out;
}

function slashCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 0x2f) n++;
  return n;
}

/** Services(): the subtree (or exact key), grouped, without those that cannot answer `qtype`. null: no key. */
export function services(ctx: LookupContext, name: string, exact: boolean, qtype: number): SkyService[] | null {
  const found = ctx.tree.find(nameSegments(name), exact);
  if (found === null) return null;
  return group(found).filter((s) => s.host !== '' || (qtype === Type.TXT && s.text !== ''));
}

function emptyFound(missing: boolean): Found {
  return { answer: [], additional: [], tails: [], missing, danglingNx: false };
}

/** The apex reads `apex.dns.<zone>` first, then the zone's whole tree (checkForApex). */
function servicesForAddress(ctx: LookupContext, name: string, qtype: number): SkyService[] | null {
  if (name !== ctx.zone) return services(ctx, name, false, qtype);
  const apex = services(ctx, `apex.dns.${ctx.zone === '.' ? '' : ctx.zone}`, false, qtype);
  return apex ?? services(ctx, name, false, qtype);
}

/** A, AAAA or TXT for `name` (qtype), following CNAMEs inside the zone. */
export function addressLike(ctx: LookupContext, name: string, qtype: number, previous: readonly RR[] = []): Found {
  const sx = qtype === Type.TXT ? services(ctx, name, false, qtype) : servicesForAddress(ctx, name, qtype);
  if (sx === null) return emptyFound(true);
  const out = emptyFound(false);
  const seen = new Set<string>();
  const want = qtype === Type.A ? HostKind.A : qtype === Type.AAAA ? HostKind.AAAA : HostKind.TXT;
  for (const s of sx) {
    if (s.kind === HostKind.NAME) {
      if (s.host === name) continue; // x CNAME x
      if (previous.length >= MAX_CHAIN - 1) continue;
      const cname = rrs.cname(name, ctx.ttl(s), s.host);
      if (previous.some((p) => p.name === cname.name && p.type === Type.CNAME && sameData(p, cname))) continue;
      if (previous.some((p) => p.name === s.host)) continue; // a loop through several names
      if (isSubdomain(s.host, ctx.zone)) {
        const next = addressLike(ctx, s.host, qtype, [...previous, cname]);
        out.answer.push(cname, ...next.answer);
        out.additional.push(...next.additional);
        out.tails.push(...next.tails);
        if (next.answer.length === 0 && next.tails.length === 0) out.danglingNx = next.missing || next.danglingNx;
        else if (next.danglingNx) out.danglingNx = true;
        continue;
      }
      out.answer.push(cname);
      out.tails.push({ name: s.host, type: qtype, section: 'answer' });
      continue;
    }
    if (s.kind !== want) continue;
    const dedup = want === HostKind.TXT ? s.text : s.host;
    if (seen.has(dedup)) continue;
    seen.add(dedup);
    if (want === HostKind.TXT) out.answer.push(rrs.txt(name, ctx.ttl(s), s.text));
    else out.answer.push(rrs.addr(name, ctx.ttl(s), s.host));
  }
  return out;
}

function sameData(a: RR, b: RR): boolean {
  return a.data.length === b.data.length && a.data.every((x, i) => x === b.data[i]);
}

/** CNAME: the exact key's first service when its host is a name. */
export function cname(ctx: LookupContext, name: string): Found {
  const sx = services(ctx, name, true, Type.CNAME);
  if (sx === null) return emptyFound(true);
  const out = emptyFound(false);
  const s = sx[0];
  if (s && s.kind !== HostKind.A && s.kind !== HostKind.AAAA) out.answer.push(rrs.cname(name, ctx.ttl(s), s.host));
  return out;
}

/** PTR: the exact key's services whose host is a name. */
export function ptr(ctx: LookupContext, name: string): Found {
  const sx = services(ctx, name, true, Type.PTR);
  if (sx === null) return emptyFound(true);
  const out = emptyFound(false);
  const seen = new Set<string>();
  for (const s of sx) {
    if (s.kind === HostKind.A || s.kind === HostKind.AAAA || seen.has(s.host)) continue;
    seen.add(s.host);
    out.answer.push(rrs.ptr(name, ctx.ttl(s), s.host));
  }
  return out;
}

function targetOf(ctx: LookupContext, s: SkyService): string {
  const base = s.kind === HostKind.A || s.kind === HostKind.AAAA ? domainOfKey(s.key, ctx.prefix) : s.host;
  return stripLabels(base, s.targetStrip);
}

/** Addresses of an in-zone target for the additional section (A only, as CoreDNS). */
function inZoneAddresses(ctx: LookupContext, target: string): RR[] {
  return addressLike(ctx, target, Type.A).answer;
}

/**
 * SRV and MX alike (CoreDNS's SRV() and MX()): a name host is the target,
 * with its addresses added once per target (inside the zone from the tree,
 * A only as CoreDNS; outside through the chain, A and AAAA); an IP host gets
 * a target made from its key, one record per (target, `distinct`), and its
 * address as glue.
 */
function withTargets(ctx: LookupContext, sx: readonly SkyService[], make: (s: SkyService, ttl: number, target: string) => RR, distinct: (s: SkyService) => number): Found {
  const out = emptyFound(false);
  const dup = new Set<string>();
  const looked = new Set<string>();
  for (const s of sx) {
    if (s.kind === HostKind.TXT) continue;
    const ttl = ctx.ttl(s);
    const target = targetOf(ctx, s);
    if (s.kind === HostKind.NAME) {
      out.answer.push(make(s, ttl, target));
      if (looked.has(target)) continue;
      looked.add(target);
      if (!isSubdomain(target, ctx.zone)) {
        out.tails.push({ name: target, type: Type.A, section: 'additional' }, { name: target, type: Type.AAAA, section: 'additional' });
      } else out.additional.push(...inZoneAddresses(ctx, target));
      continue;
    }
    const recordKey = `${target}|${distinct(s)}`;
    if (!dup.has(recordKey)) { dup.add(recordKey); out.answer.push(make(s, ttl, target)); }
    const glueKey = `${target}|@${s.host}`;
    if (!dup.has(glueKey)) { dup.add(glueKey); out.additional.push(rrs.addr(target, ttl, s.host)); }
  }
  return out;
}

/** SRV with CoreDNS's weight normalisation: weight * 100 / (sum of weights of that priority), 0 counting as 100, at least 1. */
export function srv(ctx: LookupContext, name: string): Found {
  const sx = services(ctx, name, false, Type.SRV);
  if (sx === null) return emptyFound(true);
  const total = new Map<number, number>();
  for (const s of sx) total.set(s.priority, (total.get(s.priority) ?? 0) + (s.weight || 100));
  const weight = (s: SkyService): number => Math.max(1, Math.floor((100 / total.get(s.priority)!) * (s.weight || 100)));
  // Port -1 ("no port") still counts in the weights, as in CoreDNS, but makes no record.
  return withTargets(ctx, sx.filter((s) => s.port !== -1), (s, ttl, target) => rrs.srv(name, ttl, s.priority, weight(s), s.port, target), (s) => s.port);
}

/** MX from services with `mail`: preference is the priority; IP hosts get a name from the key path. */
export function mx(ctx: LookupContext, name: string): Found {
  const sx = services(ctx, name, false, Type.MX);
  if (sx === null) return emptyFound(true);
  return withTargets(ctx, sx.filter((s) => s.mail), (s, ttl, target) => rrs.mx(name, ttl, s.priority, target), (s) => s.priority);
}

/**
 * NS at the apex from `ns.dns.<zone>`: an IP host names its server after
 * its key (with glue), a name host is the server's name. With no such keys,
 * the SOA's own `ns.dns.<zone>` (an apex always has NS records).
 */
export function ns(ctx: LookupContext, defaultTtl: number): Found {
  const z = ctx.zone === '.' ? '' : ctx.zone;
  const sx = services(ctx, `ns.dns.${z}`, false, Type.NS) ?? [];
  const out = emptyFound(false);
  const seen = new Set<string>();
  for (const s of sx) {
    const ttl = ctx.ttl(s);
    const target = targetOf(ctx, s);
    if (s.kind === HostKind.A || s.kind === HostKind.AAAA) out.additional.push(rrs.addr(target, ttl, s.host));
    else if (s.kind !== HostKind.NAME) continue;
    if (seen.has(target)) continue;
    seen.add(target);
    out.answer.push(rrs.ns(ctx.zone, ttl, target));
  }
  if (out.answer.length === 0) out.answer.push(rrs.ns(ctx.zone, defaultTtl, `ns.dns.${z}`));
  return out;
}

/** Whether anything exists at the name (the "fake A lookup" CoreDNS does for other types). */
export function exists(ctx: LookupContext, name: string): boolean {
  if (name === ctx.zone) return true;
  return ctx.tree.find(nameSegments(name), false) !== null;
}
