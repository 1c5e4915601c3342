/**
 * @module plugins/kubernetes/records
 * From a query name to the cluster objects it names (C1 grammar, CoreDNS's
 * parseRequest + Records): `<svc>.<ns>.svc.<zone>` and what may stand left
 * of it (an endpoint label, `_port._proto`, or with `zonal`
 * `<topology>.pin|prefer._zone`), and `<ip>.<ns>.pod.<zone>`. The result is
 * NX (the name does not exist), EMPTY (it exists, no data: apex, `svc`,
 * `<ns>.svc`), or the entries (address or ExternalName target, port, own
 * name) the answer builders turn into records.
 */
import { canonicalIp } from '../../dns/ip.ts';
import type { PodRecord, ServiceRecord } from '../../cluster/types.ts';
import type { ServiceView, ViewEndpoint } from './service-view.ts';

export type PodMode = 'disabled' | 'insecure' | 'verified';

/** One thing a name stands for (CoreDNS's msg.Service). */
export interface Entry {
  /** Address text, or null for an ExternalName target. */
  readonly ip: string | null;
  /** ExternalName target (FQDN, lower case) when `ip` is null. */
  readonly external: string | null;
  /** Port number, -1 when there is none (no SRV record from this entry). */
  readonly port: number;
  /** The entry's own DNS name: SRV target, and owner of its additional address record. */
  readonly name: string;
}

export const NX = 0;
export const EMPTY = 1;
export const FOUND = 2;
export type Found = { readonly kind: typeof FOUND; readonly entries: readonly Entry[] };
export type Lookup = { readonly kind: typeof NX } | { readonly kind: typeof EMPTY } | Found;

const LOOKUP_NX: Lookup = { kind: NX };
const LOOKUP_EMPTY: Lookup = { kind: EMPTY };

/** What records() needs from the index; the index also notes which scopes an answer depended on. */
export interface RecordSource {
  readonly ttl: number;
  readonly pods: PodMode;
  readonly ignoreEmptyService: boolean;
  readonly zonal: boolean;
  namespaceExposed(namespace: string): boolean;
  service(namespace: string, name: string): ServiceRecord | undefined;
  view(service: ServiceRecord): ServiceView;
  podsWithIp(ip: string): readonly PodRecord[];
}

/** The labels of `qname` below `zone`, right to left order kept as in the name ("a.b" -> ["a","b"]); [] at the apex. */
export function labelsBelow(qname: string, zone: string): string[] {
  if (qname === zone) return [];
  const base = zone === '.' ? qname.slice(0, -1) : qname.slice(0, qname.length - zone.length - 1);
  return base === '' ? [] : base.split('.');
}

/** What follows a name's own labels in `zone`: the zone, or nothing for the root. */
export function zoneSuffix(zone: string): string {
  return zone === '.' ? '' : zone;
}

function stripUnderscore(s: string): string {
  return s.charCodeAt(0) === 0x5f ? s.slice(1) : s;
}

/** The address a pod label stands for (C19): three dashes and no "--" is IPv4, anything else IPv6; null when not an IP. */
export function podLabelIp(label: string): string | null {
  let dashes = 0;
  for (let i = 0; i < label.length; i++) if (label.charCodeAt(i) === 0x2d) dashes++;
  const text = dashes === 3 && !label.includes('--') ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
  return canonicalIp(text);
}

/** Pods that count for `pods verified` (C19): not being deleted, not finished. */
export function podCounts(p: PodRecord): boolean {
  return !p.deleting && p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.phase !== 'Unknown';
}

interface Request {
  namespace: string;
  service: string;
  endpoint: string;
  port: string;
  protocol: string;
  zonalMode: '' | 'pin' | 'prefer';
  topology: string;
}

/** What `qname` (in `zone`) names. */
export function records(src: RecordSource, qname: string, zone: string): Lookup {
  const labels = labelsBelow(qname, zone);
  let last = labels.length - 1;
  if (last < 0) return LOOKUP_EMPTY;
  const podOrSvc = labels[last]!;
  if (podOrSvc !== 'svc' && podOrSvc !== 'pod') return LOOKUP_NX;
  if (--last < 0) return LOOKUP_EMPTY;
  const r: Request = { namespace: labels[last]!, service: '', endpoint: '', port: '', protocol: '', zonalMode: '', topology: '' };
  if (--last >= 0) {
    r.service = labels[last]!;
    last--;
    if (src.zonal && last >= 2 && labels[last] === '_zone' && (labels[last - 1] === 'pin' || labels[last - 1] === 'prefer')) {
      r.zonalMode = labels[last - 1] as 'pin' | 'prefer';
      r.topology = labels.slice(0, last - 1).join('.');
    } else if (last === 0) {
      r.endpoint = labels[0]!;
    } else if (last === 1) {
      r.port = stripUnderscore(labels[0]!);
      r.protocol = stripUnderscore(labels[1]!);
    } else if (last > 1) {
      return LOOKUP_NX;
    }
  }
  if (zone.endsWith('in-addr.arpa.') || zone.endsWith('ip6.arpa.')) return LOOKUP_NX;
  if (!src.namespaceExposed(r.namespace)) return LOOKUP_NX;
  return podOrSvc === 'pod' ? findPods(src, r, zone) : findServices(src, r, zone);
}

function findPods(src: RecordSource, r: Request, zone: string): Lookup {
  if (src.pods === 'disabled') return LOOKUP_NX;
  if (r.service === '') return LOOKUP_EMPTY;
  const ip = podLabelIp(r.service);
  if (ip === null) return LOOKUP_NX;
  const name = `${r.service}.${r.namespace}.pod.${zoneSuffix(zone)}`;
  if (src.pods === 'insecure') return { kind: FOUND, entries: [{ ip, external: null, port: 0, name }] };
  for (const p of src.podsWithIp(ip)) {
    // Only the primary address counts (D12).
    if (p.ip === ip && p.namespace === r.namespace && podCounts(p)) return { kind: FOUND, entries: [{ ip, external: null, port: 0, name }] };
  }
  return LOOKUP_NX;
}

function portMatches(r: Request, name: string, protocol: string): boolean {
  return (r.port === '' || r.port === name.toLowerCase()) && (r.protocol === '' || r.protocol === protocol);
}

function findServices(src: RecordSource, r: Request, zone: string): Lookup {
  if (r.service === '') return LOOKUP_EMPTY;
  const svc = src.service(r.namespace, r.service);
  if (svc === undefined) return LOOKUP_NX;
  const svcName = `${svc.name}.${svc.namespace}.svc.${zoneSuffix(zone)}`;
  if (svc.type === 'ExternalName') {
    // Names below an ExternalName service do not exist; an IP literal target gets nothing at all (D4).
    if (r.endpoint !== '' || r.port !== '' || r.zonalMode !== '') return LOOKUP_NX;
    const target = svc.externalName;
    if (target === null || canonicalIp(target.slice(0, -1)) !== null) return LOOKUP_NX;
    return { kind: FOUND, entries: [{ ip: null, external: target, port: -1, name: svcName }] };
  }
  const view = src.view(svc);
  if (src.ignoreEmptyService && !svc.headless && view.endpoints.length === 0) return LOOKUP_NX;
  const entries: Entry[] = [];
  if (r.zonalMode !== '') {
    if (!svc.headless) return LOOKUP_NX;
    if (view.endpoints.length === 0) return LOOKUP_NX;
    let chosen = view.endpoints.filter((e) => e.zone !== null && e.zone.toLowerCase() === r.topology);
    if (chosen.length === 0) {
      if (r.zonalMode === 'pin') return LOOKUP_EMPTY;
      chosen = view.endpoints as ViewEndpoint[];
    }
    for (const e of chosen) pushEndpoint(entries, r, e, svcName);
    return { kind: FOUND, entries };
  }
  if (svc.headless || r.endpoint !== '') {
    for (const e of view.endpoints) {
      if (r.endpoint !== '' && r.endpoint !== e.label) continue;
      pushEndpoint(entries, r, e, svcName);
    }
    return entries.length === 0 ? LOOKUP_NX : { kind: FOUND, entries };
  }
  // ClusterIP service: answers do not depend on endpoints (C8). A service without ports still has its
  // addresses (the API never allows that, hand-written manifests may).
  if (svc.ports.length === 0 && r.port === '' && r.protocol === '') {
    for (const ip of svc.clusterIPs) entries.push({ ip, external: null, port: -1, name: svcName });
  }
  for (const p of svc.ports) {
    if (!portMatches(r, p.name, p.protocol)) continue;
    for (const ip of svc.clusterIPs) entries.push({ ip, external: null, port: p.port, name: svcName });
  }
  return entries.length === 0 ? LOOKUP_NX : { kind: FOUND, entries };
}

function pushEndpoint(entries: Entry[], r: Request, e: ViewEndpoint, svcName: string): void {
  const name = `${e.label}.${svcName}`;
  if (e.ports.length === 0) {
    // No ports: the address answers A/AAAA, SRV has nothing (C15).
    if (r.port === '' && r.protocol === '') entries.push({ ip: e.ip, external: null, port: -1, name });
    return;
  }
  for (const p of e.ports) {
    if (portMatches(r, p.name, p.protocol)) entries.push({ ip: e.ip, external: null, port: p.port, name });
  }
}
