/**
 * @module plugins/kubernetes/reverse-index
 * Address -> owner maps for PTR answers (C16) and for finding the server's
 * own Service (C5): ClusterIP -> Service, endpoint address -> the
 * EndpointSlices listing it. Kept up to date from store changes; values are
 * the store's own records (no copies) and a single owner is stored without
 * an array, so the cost is one Map entry per address.
 */
import type { EndpointSliceRecord, ServiceRecord } from '../../cluster/types.ts';
import { usableSlice } from './service-view.ts';

type Multi<T> = T | T[];

function addTo<T>(map: Map<string, Multi<T>>, key: string, v: T): void {
  const cur = map.get(key);
  if (cur === undefined) map.set(key, v);
  else if (Array.isArray(cur)) { if (!cur.includes(v)) cur.push(v); }
  else if (cur !== v) map.set(key, [cur, v]);
}

function removeFrom<T>(map: Map<string, Multi<T>>, key: string, v: T): void {
  const cur = map.get(key);
  if (cur === undefined) return;
  if (!Array.isArray(cur)) {
    if (cur === v) map.delete(key);
    return;
  }
  const i = cur.indexOf(v);
  if (i < 0) return;
  cur.splice(i, 1);
  if (cur.length === 1) map.set(key, cur[0]!);
}

const NONE: readonly EndpointSliceRecord[] = Object.freeze([]);

export class ReverseIndex {
  readonly #clusterIps = new Map<string, Multi<ServiceRecord>>();
  readonly #endpointIps = new Map<string, Multi<EndpointSliceRecord>>();

  /** Follows a Service change; pushes every address whose PTR answer may have changed. */
  onService(previous: ServiceRecord | null, current: ServiceRecord | null, touched: string[]): void {
    if (previous !== null) for (const ip of previous.clusterIPs) { removeFrom(this.#clusterIps, ip, previous); touched.push(ip); }
    if (current !== null) for (const ip of current.clusterIPs) { addTo(this.#clusterIps, ip, current); touched.push(ip); }
  }

  /** Follows an EndpointSlice change; pushes every address whose PTR answer may have changed. */
  onSlice(previous: EndpointSliceRecord | null, current: EndpointSliceRecord | null, touched: string[]): void {
    if (previous !== null && usableSlice(previous)) {
      for (const e of previous.endpoints) for (const ip of e.addresses) { removeFrom(this.#endpointIps, ip, previous); touched.push(ip); }
    }
    if (current !== null && usableSlice(current)) {
      for (const e of current.endpoints) for (const ip of e.addresses) { addTo(this.#endpointIps, ip, current); touched.push(ip); }
    }
  }

  /** Services with this ClusterIP (normally one). */
  servicesWithIp(ip: string): readonly ServiceRecord[] {
    const v = this.#clusterIps.get(ip);
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  }

  /** EndpointSlices listing this address, ready or not. */
  slicesWithIp(ip: string): readonly EndpointSliceRecord[] {
    const v = this.#endpointIps.get(ip);
    return v === undefined ? NONE : Array.isArray(v) ? v : [v];
  }

  get size(): { clusterIps: number; endpointIps: number } {
    return { clusterIps: this.#clusterIps.size, endpointIps: this.#endpointIps.size };
  }
}
