/**
 * @module cluster/manifests/legacy-endpoints
 * Turns a legacy v1 Endpoints object (as found in older manifests) into the
 * EndpointSlice objects the EndpointSlice mirroring controller would make:
 * one per subset and address family, `ready` from addresses vs
 * notReadyAddresses. The result goes through the normal EndpointSlice
 * converter, so validation and slim records are the same as for real slices.
 */
import { canonicalIp } from '../../dns/ip.ts';
import { SERVICE_NAME_LABEL } from '../api/convert.ts';

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Label marking slices made here, so tests and logs can tell them apart. */
export const MIRRORED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MIRRORED_BY_VALUE = 'clusterdns-manifests';

/**
 * EndpointSlice JSON objects for an Endpoints object, or an error text
 * (without the object description) when an address is not an IP.
 */
export function endpointsToSlices(o: Json, defaultNamespace: string): { slices: Json[] } | { error: string } {
  const meta = isObj(o.metadata) ? o.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (name === '') return { error: 'missing metadata.name' };
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : defaultNamespace;
  const subsets = o.subsets === undefined || o.subsets === null ? [] : o.subsets;
  if (!Array.isArray(subsets)) return { error: 'subsets is not a list' };
  const slices: Json[] = [];
  for (let i = 0; i < subsets.length; i++) {
    const subset = isObj(subsets[i]) ? (subsets[i] as Json) : {};
    const byFamily: { IPv4: Json[]; IPv6: Json[] } = { IPv4: [], IPv6: [] };
    for (const [field, ready] of [['addresses', true], ['notReadyAddresses', false]] as const) {
      const list = subset[field] ?? [];
      if (!Array.isArray(list)) return { error: `subsets[${i}].${field} is not a list` };
      for (const raw of list) {
        const a = isObj(raw) ? raw : {};
        const ip = typeof a.ip === 'string' ? canonicalIp(a.ip) : null;
        if (ip === null) return { error: `invalid endpoint address ${JSON.stringify(a.ip)}` };
        const endpoint: Json = { addresses: [ip], conditions: { ready } };
        if (typeof a.hostname === 'string' && a.hostname !== '') endpoint.hostname = a.hostname;
        if (typeof a.nodeName === 'string' && a.nodeName !== '') endpoint.nodeName = a.nodeName;
        if (isObj(a.targetRef)) endpoint.targetRef = a.targetRef;
        byFamily[ip.includes(':') ? 'IPv6' : 'IPv4'].push(endpoint);
      }
    }
    for (const family of ['IPv4', 'IPv6'] as const) {
      if (byFamily[family].length === 0) continue;
      slices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${name}-endpoints-${i}-${family.toLowerCase()}`,
          namespace,
          labels: { [SERVICE_NAME_LABEL]: name, [MIRRORED_BY_LABEL]: MIRRORED_BY_VALUE },
        },
        addressType: family,
        endpoints: byFamily[family],
        ports: subset.ports ?? [],
      });
    }
  }
  return { slices };
}
