/**
 * @module plugins/kubernetes/service-view
 * What DNS needs of one Service, built on first use from the store: the
 * ready endpoint addresses of all its IPv4/IPv6 EndpointSlices (in slice
 * order) with their DNS names (C13) and ports, collected when first read
 * (a ClusterIP Service's A, SRV and PTR answers never read them, and a view
 * is kept per Service). A view is thrown away when its Service or one of
 * its slices changes; its `gen` tells cached answers built from it that
 * they are stale.
 */
import type { ClusterStore } from '../../cluster/store.ts';
import type { EndpointRecord, EndpointSliceRecord, PortRecord, ServiceRecord } from '../../cluster/types.ts';
import { ViewToken } from './generations.ts';

/** One ready address of a Service's endpoints. */
export interface ViewEndpoint {
  readonly ip: string;
  /** The endpoint's DNS label (C13), lower case. */
  readonly label: string;
  /** The ports of its slice (empty: none declared). */
  readonly ports: readonly PortRecord[];
  /** Topology zone of the endpoint (zonal names, O15). */
  readonly zone: string | null;
}

export class ServiceView {
  /** Its gen is bumped when the view is discarded; cached answers compare it with the value they were built with. */
  readonly token = new ViewToken();
  readonly service: ServiceRecord;
  /** null until first read: most names of a ClusterIP Service never look at its endpoints (C8). */
  #endpoints: readonly ViewEndpoint[] | null = null;
  readonly #store: ClusterStore | null;
  readonly #endpointPodNames: boolean;

  /** With `store`, the endpoints are collected from its slices when first read; else they are `endpoints`. */
  constructor(service: ServiceRecord, endpoints: readonly ViewEndpoint[] | ClusterStore, endpointPodNames = false) {
    this.service = service;
    if (Array.isArray(endpoints)) {
      this.#endpoints = endpoints;
      this.#store = null;
    } else {
      this.#store = endpoints as ClusterStore;
    }
    this.#endpointPodNames = endpointPodNames;
  }

  /**
   * The ready addresses, collected on first read. A slice change discards
   * the view before any answer could mix old and new (the index drops it),
   * so reading the store late gives what reading it early would have.
   */
  get endpoints(): readonly ViewEndpoint[] {
    return (this.#endpoints ??= collectEndpoints(this.#store!, this.service, this.#endpointPodNames));
  }
}

/** Dashed form of an address (C13): 10.3.0.102 -> 10-3-0-102, 2001:db8::102 -> 2001-db8--102, fd00:: -> fd00--0. */
export function dashedIp(ip: string): string {
  if (ip.includes('.') && !ip.includes(':')) return ip.replaceAll('.', '-');
  const d = ip.replaceAll(':', '-');
  return d.endsWith('-') ? d + '0' : d;
}

/** The DNS label of an endpoint address (C13): hostname, else (endpoint_pod_names) the target's name under 64 characters, else the dashed IP. */
export function endpointLabel(e: EndpointRecord, ip: string, endpointPodNames: boolean): string {
  if (e.hostname !== null) return e.hostname.toLowerCase();
  if (endpointPodNames && e.targetRef !== null && e.targetRef.name.length < 64) return e.targetRef.name.toLowerCase();
  return dashedIp(ip);
}

/** Whether DNS uses an endpoint (C14: ready true or unset; S13: every endpoint of a publishNotReadyAddresses service). */
export function endpointUsable(e: EndpointRecord, publishNotReady: boolean): boolean {
  return e.ready || publishNotReady;
}

export function usableSlice(s: EndpointSliceRecord): boolean {
  return s.addressType === 'IPv4' || s.addressType === 'IPv6';
}

/** The view of `service`; its endpoints are read from the store's slices when first needed (none with `noendpoints`). */
export function buildServiceView(store: ClusterStore, service: ServiceRecord, endpointPodNames: boolean, withEndpoints: boolean): ServiceView {
  if (!withEndpoints || service.type === 'ExternalName') return new ServiceView(service, NO_ENDPOINTS);
  return new ServiceView(service, store, endpointPodNames);
}

const NO_ENDPOINTS: readonly ViewEndpoint[] = Object.freeze([]);

function collectEndpoints(store: ClusterStore, service: ServiceRecord, endpointPodNames: boolean): ViewEndpoint[] {
  const out: ViewEndpoint[] = [];
  for (const slice of store.slicesOfService(service.namespace, service.name)) {
    if (!usableSlice(slice)) continue;
    for (const e of slice.endpoints) {
      if (!endpointUsable(e, service.publishNotReadyAddresses)) continue;
      for (const ip of e.addresses) {
        out.push({ ip, label: endpointLabel(e, ip, endpointPodNames), ports: slice.ports, zone: e.zone });
      }
    }
  }
  return out;
}
