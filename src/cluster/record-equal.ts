/**
 * @module cluster/record-equal
 * Structural equality of slim cluster records. The store uses it to drop
 * updates that change nothing DNS can see (watch resyncs, a relist, a
 * manifest re-read where one file changed), so listeners only get real
 * changes and a relist keeps the objects already held instead of doubling them.
 */
import type { ClusterRecord, EndpointRecord, PortRecord } from './types.ts';

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (!Object.hasOwn(a, k)) continue;
    n++;
    if (!Object.hasOwn(b, k) || a[k] !== b[k]) return false;
  }
  for (const k in b) if (Object.hasOwn(b, k)) n--;
  return n === 0;
}

function samePorts(a: readonly PortRecord[], b: readonly PortRecord[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (x.name !== y.name || x.port !== y.port || x.protocol !== y.protocol) return false;
  }
  return true;
}

function sameEndpoint(a: EndpointRecord, b: EndpointRecord): boolean {
  if (a.ready !== b.ready || a.serving !== b.serving || a.terminating !== b.terminating) return false;
  if (a.hostname !== b.hostname || a.nodeName !== b.nodeName || a.zone !== b.zone) return false;
  const r = a.targetRef, s = b.targetRef;
  if (r !== s && (r === null || s === null || r.kind !== s.kind || r.name !== s.name || r.namespace !== s.namespace)) return false;
  return sameStrings(a.addresses, b.addresses);
}

/** True when both records carry the same data (same kind and key assumed or checked). */
export function sameRecord(a: ClusterRecord, b: ClusterRecord): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || a.name !== b.name) return false;
  switch (a.kind) {
    case 'Namespace':
      return sameLabels(a.labels, b.labels);
    case 'Service': {
      const s = b as typeof a;
      return a.namespace === s.namespace && a.type === s.type && a.headless === s.headless &&
        a.externalName === s.externalName && a.publishNotReadyAddresses === s.publishNotReadyAddresses &&
        sameStrings(a.clusterIPs, s.clusterIPs) && samePorts(a.ports, s.ports) && sameLabels(a.labels, s.labels) &&
        sameStrings(a.externalIPs ?? [], s.externalIPs ?? []) && sameStrings(a.loadBalancerIPs ?? [], s.loadBalancerIPs ?? []);
    }
    case 'EndpointSlice': {
      const s = b as typeof a;
      if (a.namespace !== s.namespace || a.serviceName !== s.serviceName || a.addressType !== s.addressType) return false;
      if ((a.triggerTime ?? null) !== (s.triggerTime ?? null)) return false;
      if (!samePorts(a.ports, s.ports) || !sameLabels(a.labels, s.labels)) return false;
      if (a.endpoints.length !== s.endpoints.length) return false;
      for (let i = 0; i < a.endpoints.length; i++) if (!sameEndpoint(a.endpoints[i]!, s.endpoints[i]!)) return false;
      return true;
    }
    case 'Pod': {
      const s = b as typeof a;
      return a.namespace === s.namespace && a.ip === s.ip && a.phase === s.phase && a.deleting === s.deleting &&
        a.hostname === s.hostname && a.subdomain === s.subdomain && sameStrings(a.ips, s.ips) && sameLabels(a.labels, s.labels);
    }
  }
}
