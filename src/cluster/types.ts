/**
 * @module cluster/types
 * The slim cluster objects DNS needs, and the contract between cluster-state
 * sources (manifest folder, live API, test fixtures) and the store they feed.
 * Sources keep only these fields, never whole Kubernetes objects: memory at
 * 100k services is the reason (a full Service object is ~2 KB of JS heap).
 */

export type Protocol = 'tcp' | 'udp' | 'sctp';

export interface PortRecord {
  /** Port name as written in the object ('' when unnamed). Compared case-insensitively. */
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface NamespaceRecord {
  readonly kind: 'Namespace';
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ServiceRecord {
  readonly kind: 'Service';
  readonly namespace: string;
  readonly name: string;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** Canonical text of each ClusterIP (spec.clusterIPs, else spec.clusterIP); empty for headless and ExternalName. */
  readonly clusterIPs: readonly string[];
  /** clusterIP "None". */
  readonly headless: boolean;
  /** spec.externalName, fully qualified and lower case, or null. */
  readonly externalName: string | null;
  readonly ports: readonly PortRecord[];
  readonly publishNotReadyAddresses: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * spec.externalIPs then status.loadBalancer.ingress[].ip, canonical, without
   * repeats (k8s_external); absent when there are none.
   */
  readonly externalIPs?: readonly string[];
  /** status.loadBalancer.ingress[].ip alone, canonical (a DNSRecord gateway reference); absent when none. */
  readonly loadBalancerIPs?: readonly string[];
}

export interface EndpointRecord {
  /** Canonical address texts (IPv4 dotted quad, IPv6 compressed lower case). */
  readonly addresses: readonly string[];
  /** conditions.ready: true when set true or unset (C14). */
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly hostname: string | null;
  readonly nodeName: string | null;
  readonly zone: string | null;
  readonly targetRef: { readonly kind: string; readonly name: string; readonly namespace: string } | null;
}

export interface EndpointSliceRecord {
  readonly kind: 'EndpointSlice';
  readonly namespace: string;
  readonly name: string;
  /** The kubernetes.io/service-name label: which Service this slice belongs to. */
  readonly serviceName: string;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly endpoints: readonly EndpointRecord[];
  readonly ports: readonly PortRecord[];
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The endpoints.kubernetes.io/last-change-trigger-time annotation in ms since
   * the epoch, when present (coredns_kubernetes_dns_programming_duration_seconds).
   */
  readonly triggerTime?: number | null;
}

export interface PodRecord {
  readonly kind: 'Pod';
  readonly namespace: string;
  readonly name: string;
  /** status.podIP (canonical), or null when not yet assigned. */
  readonly ip: string | null;
  /** status.podIPs (canonical). */
  readonly ips: readonly string[];
  readonly phase: string;
  /** metadata.deletionTimestamp is set. */
  readonly deleting: boolean;
  readonly hostname: string | null;
  readonly subdomain: string | null;
  readonly labels: Readonly<Record<string, string>>;
  /** metadata.resourceVersion when the object had one (the pod-IP index orders claims on an IP by it). */
  readonly resourceVersion?: string;
}

export type ClusterRecord = NamespaceRecord | ServiceRecord | EndpointSliceRecord | PodRecord;
export type ClusterKind = ClusterRecord['kind'];

/** Store key of an object: "namespace/name" (just "name" for a Namespace). */
export function recordKey(r: ClusterRecord): string {
  return r.kind === 'Namespace' ? r.name : `${r.namespace}/${r.name}`;
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: ClusterRecord;
}

/**
 * What a source writes into. Every call is applied synchronously, so a query
 * (which runs on the same thread) sees the state before or after a call,
 * never half of it.
 */
export interface ClusterStateSink {
  /** One incremental change. */
  apply(event: WatchEvent): void;
  /** Replace every object of these kinds at once (a relist or a manifest re-read). */
  replace(kinds: readonly ClusterKind[], objects: readonly ClusterRecord[]): void;
  /** The first full list of this kind has been applied. */
  markSynced(kind: ClusterKind): void;
  /** As RecordSink.held: the equal record already held, else `object`. */
  held?(object: ClusterRecord): ClusterRecord;
}

/**
 * The sink contract for any record type a reflector or a manifest source
 * feeds (ClusterStateSink is this for the cluster kinds; DNSRecords have
 * their own set).
 */
export interface RecordSink<K extends string, R> {
  apply(event: { readonly type: WatchEvent['type']; readonly object: R }): void;
  replace(kinds: readonly K[], objects: readonly R[]): void;
  markSynced(kind: K): void;
  /**
   * The record the sink already holds equal to `object`, else `object` itself (optional). A list
   * collecting every page before `replace` keeps this instead of its fresh copy, so a relist of
   * unchanged objects holds one copy of the state, not two, until it is replaced.
   */
  held?(object: R): R;
}

export interface ClusterStateSource {
  /** Kinds this source delivers; the store is synced when all of them are. */
  readonly kinds: readonly ClusterKind[];
  start(sink: ClusterStateSink): void;
  stop(): Promise<void> | void;
}

/** One change seen by store listeners: old and new versions (null on add or delete). */
export interface StoreChange {
  readonly kind: ClusterKind;
  readonly key: string;
  readonly previous: ClusterRecord | null;
  readonly current: ClusterRecord | null;
}
