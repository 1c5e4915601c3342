/**
 * @module plugins/kubernetes/records
 * From a query name to the cluster objects it names (C1 grammar, CoreDNS's
 * parseRequest + Records): `<svc>.<ns>.svc.<zone>` and what may stand left
 * of it (an endpoint label, `_port._proto`, or with `zonal`
 * `<topology>.pin|prefer._zone`), and `<ip>.<ns>.pod.<zone>`. The result is
 * NX (the name does not exist), EMPTY (it exists, no data: apex, `svc`,
 * `<ns>.svc`), or the entries (address or ExternalName target, port, own
 * name) the answer builders turn into records, together with what an
 * answer built from it depends on (the namespace's and the service view's
 * generations), so the index knows when a cached answer is stale.
 */
import { canonicalIp } from '../../dns/ip.ts';
import type { PodRecord, ServiceRecord } from '../../cluster/types.ts';
import type { NamespaceScope, ViewToken } from './generations.ts';
import { zoneSuffix } from '../../dns/name.ts';
import { labelsBelow } from './names.ts';
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

/** What an answer depends on: it is stale once either generation moved (null: depends on no such thing). */
export interface Dependencies {
  readonly scope: NamespaceScope | null;
  readonly view: ViewToken | null;
}

/** A name that exists and stands for `entries`. */
export interface Found extends Dependencies {
  readonly kind: typeof FOUND;
  readonly entries: readonly Entry[];
}

/** What a name stands for: NX, EMPTY (exists, no data) or Found; and what that depends on. */
export type Lookup = (Dependencies & { readonly kind: typeof NX | typeof EMPTY }) | Found;

/** Depends on nothing in the cluster: the zone apex and the fixed names. */
export const NO_DEPENDENCIES: Dependencies = { scope: null, view: null };
const LOOKUP_NX: Lookup = { kind: NX, scope: null, view: null };
const LOOKUP_EMPTY: Lookup = { kind: EMPTY, scope: null, view: null };

/** What records() reads from the index. */
export interface RecordSource {
  readonly ttl: number;
  readonly pods: PodMode;
  readonly ignoreEmptyService: boolean;
  readonly zonal: boolean;
  /** The namespace's generations (one shared scope for every namespace that does not exist). */
  namespaceScope(namespace: string): NamespaceScope;
  namespaceExposed(namespace: string): boolean;
  service(namespace: string, name: string): ServiceRecord | undefined;
  view(service: ServiceRecord): ServiceView;
  podsWithIp(ip: string): readonly PodRecord[];
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

/** A pod that is using its address now (C19, C25): not being deleted, not finished, not lost. */
export function podIsLive(p: PodRecord): boolean {
  return !p.deleting && p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.phase !== 'Unknown';
}

/** The parts of a query name below `<ns>.svc|pod.<zone>`: '' for a part the name does not have. */
interface NameParts {
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
  const r: NameParts = { namespace: labels[last]!, service: '', endpoint: '', port: '', protocol: '', zonalMode: '', topology: '' };
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
  const scope = src.namespaceScope(r.namespace);
  if (!src.namespaceExposed(r.namespace)) return { kind: NX, scope, view: null };
  return podOrSvc === 'pod' ? findPods(src, r, zone, scope) : findServices(src, r, zone, scope);
}

function findPods(src: RecordSource, r: NameParts, zone: string, scope: NamespaceScope): Lookup {
  if (src.pods === 'disabled') return { kind: NX, scope, view: null };
  if (r.service === '') return { kind: EMPTY, scope, view: null };
  const ip = podLabelIp(r.service);
  if (ip === null) return { kind: NX, scope, view: null };
  const name = `${r.service}.${r.namespace}.pod.${zoneSuffix(zone)}`;
  if (src.pods === 'insecure') return { kind: FOUND, entries: [{ ip, external: null, port: 0, name }], scope, view: null };
  for (const p of src.podsWithIp(ip)) {
    // Only the primary address counts (D12).
    if (p.ip === ip && p.namespace === r.namespace && podIsLive(p)) {
      return { kind: FOUND, entries: [{ ip, external: null, port: 0, name }], scope, view: null };
    }
  }
  return { kind: NX, scope, view: null };
}

function portMatches(r: NameParts, name: string, protocol: string): boolean {
  return (r.port === '' || r.port === name.toLowerCase()) && (r.protocol === '' || r.protocol === protocol);
}

function findServices(src: RecordSource, r: NameParts, zone: string, scope: NamespaceScope): Lookup {
  if (r.service === '') return { kind: EMPTY, scope, view: null };
  const svc = src.service(r.namespace, r.service);
  if (svc === undefined) return { kind: NX, scope, view: null };
  const svcName = `${svc.name}.${svc.namespace}.svc.${zoneSuffix(zone)}`;
  if (svc.type === 'ExternalName') {
    // Names below an ExternalName service do not exist; an IP literal target gets nothing at all (D4).
    if (r.endpoint !== '' || r.port !== '' || r.zonalMode !== '') return { kind: NX, scope, view: null };
    const target = svc.externalName;
    if (target === null || canonicalIp(target.slice(0, -1)) !== null) return { kind: NX, scope, view: null };
    // Built from the service record alone, which a change replaces along with its view: the view's token covers it.
    return { kind: FOUND, entries: [{ ip: null, external: target, port: -1, name: svcName }], scope, view: src.view(svc).token };
  }
  const v = src.view(svc);
  const view = v.token;
  if (src.ignoreEmptyService && !svc.headless && v.endpoints.length === 0) return { kind: NX, scope, view };
  const entries: Entry[] = [];
  if (r.zonalMode !== '') {
    if (!svc.headless) return { kind: NX, scope, view };
    if (v.endpoints.length === 0) return { kind: NX, scope, view };
    let chosen = v.endpoints.filter((e) => e.zone !== null && e.zone.toLowerCase() === r.topology);
    if (chosen.length === 0) {
      if (r.zonalMode === 'pin') return { kind: EMPTY, scope, view };
      chosen = v.endpoints as ViewEndpoint[];
    }
    for (const e of chosen) pushEndpoint(entries, r, e, svcName);
    return { kind: FOUND, entries, scope, view };
  }
  if (svc.headless || r.endpoint !== '') {
    for (const e of v.endpoints) {
      if (r.endpoint !== '' && r.endpoint !== e.label) continue;
      pushEndpoint(entries, r, e, svcName);
    }
    return entries.length === 0 ? { kind: NX, scope, view } : { kind: FOUND, entries, scope, view };
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
  return entries.length === 0 ? { kind: NX, scope, view } : { kind: FOUND, entries, scope, view };
}

function pushEndpoint(entries: Entry[], r: NameParts, e: ViewEndpoint, svcName: string): void {
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
